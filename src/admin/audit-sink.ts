/**
 * Where the admin layer reports what it did. The audit log (written elsewhere) implements
 * `AuditSink`; until it is wired in, `noopAuditSink` drops entries.
 *
 * An entry never holds a password, a token, a session id or a CSRF token: `details` carries
 * only ids, names, roles and reasons.
 */

export type AuditActorType = 'account' | 'service_token' | 'cli' | 'system' | 'anonymous';

export interface AuditEntry {
  /** null for installation-wide actions (accounts, sessions, service tokens). */
  workspaceId: string | null;
  actorType: AuditActorType;
  actorId: string | null;
  /** Email, token name or `cli:<os user>`; for a failed login, the email that was tried. */
  actorLabel: string;
  action: string;
  targetType?: string;
  targetId?: string;
  ip: string | null;
  details?: Record<string, unknown>;
}

export interface AuditSink {
  record(entry: AuditEntry): Promise<void>;
}

export const noopAuditSink: AuditSink = {
  async record() {},
};

/** The actions the admin identity layer records (`action` of an AuditEntry; same style as src/audit/). */
export const ADMIN_AUDIT_ACTIONS = {
  login: 'login.succeeded',
  loginFailed: 'login.failed',
  lockout: 'login.locked',
  logout: 'logout',
  reauth: 'reauth.succeeded',
  reauthFailed: 'reauth.failed',
  accountCreated: 'account.created',
  accountRoleChanged: 'account.role_changed',
  accountDisabled: 'account.disabled',
  accountEnabled: 'account.enabled',
  accountPasswordSet: 'account.password_set',
  serviceTokenCreated: 'service_token.created',
  serviceTokenRevoked: 'service_token.revoked',
} as const;

/** Who performed an admin action, as the services see it (HTTP principal, CLI user, …). */
export interface AuditActor {
  type: AuditActorType;
  id: string | null;
  label: string;
  ip: string | null;
}
