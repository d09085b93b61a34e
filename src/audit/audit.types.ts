/**
 * The shape every audit entry has; src/admin/audit-sink.ts re-exports it for the admin identity
 * code, and AuditService implements AuditSink.
 */

export type AuditActorType = 'account' | 'service_token' | 'cli' | 'system' | 'anonymous';

export interface AuditEntry {
  /** null for account-level events (logins, accounts, service tokens). */
  workspaceId: string | null;
  actorType: AuditActorType;
  actorId: string | null;
  /** For people: email, token name, or `cli:<os user>`. */
  actorLabel: string;
  action: string;
  targetType?: string;
  targetId?: string;
  ip: string | null;
  /** Never secrets: keys named like secrets and credential-shaped values are redacted anyway. */
  details?: Record<string, unknown>;
}

export interface AuditSink {
  record(entry: AuditEntry): Promise<void>;
}

/** Who did something, as the credential services take it (an AuditEntry without the event). */
export interface AuditActor {
  type: AuditActorType;
  id: string | null;
  label: string;
  ip: string | null;
}

/** What Herald does on its own (bootstrap) or on behalf of in-process code that named no actor. */
export const SYSTEM_ACTOR: AuditActor = { type: 'system', id: null, label: 'system', ip: null };

/** The actions Herald records; admin code may add more (`login.succeeded`, …). */
export const AUDIT_ACTIONS = [
  'workspace.created',
  'workspace_secret.revealed',
  'workspace_secret.rotated',
  'api_key.created',
  'api_key.revoked',
  'public_key.created',
  'public_key.revoked',
  'signing_key.created',
  'signing_key.imported',
  'signing_key.revoked',
  'enhanced_security.enabled',
  'enhanced_security.disabled',
  'signed_clients.allowed',
  'signed_clients.refused',
  'account.created',
  'login.succeeded',
  'login.failed',
  'logout',
] as const;
