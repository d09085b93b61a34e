import type { AdminPrincipal } from '../admin/admin-principal.js';
import type { ServiceTokenRecord } from '../admin/service-tokens.service.js';
import { checkServiceTokenFormat, hashApiKey } from '../credentials/key-format.js';
import { formatSpan } from '../lib/duration.js';
import type { ErrorCode } from '../lib/errors.js';

/** Outcome of an admin credential check: a principal, or the precise reason for the log. */
export type AdminAuthOutcome = { ok: true; principal: AdminPrincipal } | { ok: false; code: ErrorCode; message: string; reason: string };

export interface ServiceTokenDeps {
  findByHash: (tokenHash: string) => Promise<ServiceTokenRecord | undefined>;
  now: () => number;
  noteUse: (id: string, at: number) => void;
}

const SERVICE_TOKEN_RE = /^ServiceToken\s+(\S+)\s*$/i;

/** The token of an `Authorization: ServiceToken <token>` header, or undefined for any other shape. */
export function serviceTokenFromHeader(authorization: string): string | undefined {
  return SERVICE_TOKEN_RE.exec(authorization)?.[1];
}

/**
 * Admin API service token. Same order as API keys: format and CRC32 offline, then the SHA-256
 * lookup (the hash lookup is the comparison), then revocation and expiry. No cache: every
 * request reads the row, so a revocation is enforced by every process on the next request.
 */
export async function verifyServiceToken(token: string, deps: ServiceTokenDeps): Promise<AdminAuthOutcome> {
  const format = checkServiceTokenFormat(token);
  if (!format.ok) return { ok: false, code: 'UNAUTHENTICATED', message: format.reason, reason: format.reason };
  const record = await deps.findByHash(hashApiKey(token));
  if (!record) return { ok: false, code: 'UNAUTHENTICATED', message: 'invalid service token', reason: 'service token not found' };
  const now = deps.now();
  if (record.revokedAt !== null) {
    return {
      ok: false,
      code: 'KEY_REVOKED',
      message: 'this service token has been revoked',
      reason: `service token ${record.id} revoked ${formatSpan(now - record.revokedAt)} ago`,
    };
  }
  if (record.expiresAt !== null && record.expiresAt <= now) {
    return {
      ok: false,
      code: 'KEY_EXPIRED',
      message: 'this service token has expired; create a new one',
      reason: `service token ${record.id} expired ${formatSpan(now - record.expiresAt)} ago`,
    };
  }
  deps.noteUse(record.id, now);
  return {
    ok: true,
    principal: {
      kind: 'service_token',
      id: record.id,
      label: record.name,
      role: record.role,
      workspaceIds: record.workspaceIds,
      sessionId: null,
      authenticatedAt: null,
    },
  };
}
