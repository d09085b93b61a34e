/**
 * Where the admin layer reports what it did: Herald's audit log (src/audit/) in the app and the
 * CLI; `noopAuditSink` drops entries where no log is wanted.
 *
 * An entry never holds a password, a token, a session id or a CSRF token: `details` carries
 * only ids, names, roles and reasons.
 */

import type { AuditSink } from '../audit/audit.types.js';

// One definition of the audit shapes, in the audit domain; the admin layer only reports through it.
export type { AuditActor, AuditActorType, AuditEntry, AuditSink } from '../audit/audit.types.js';

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
