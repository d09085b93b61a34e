import type { ApiKeyScope } from './api-key-scope.js';

/** Who is calling. The only thing about a credential that leaves auth/. */
export type CredentialKind = 'hmac' | 'api_key' | 'public_key';

export interface Principal {
  kind: CredentialKind;
  workspaceId: string;
  workspaceSlug: string;
  /** The workspace key (not secret): legacy routes carry it in their path. */
  workspaceKey: string;
  /** Workspace key (HMAC), API key id or public key id: never a secret. */
  credentialId: string;
  /** The user a client token was issued for (`entity_id`); null without a user token. */
  subscriberId: string | null;
  /** Tenants the user token is scoped to (`scope.tenant_id`, default ['default']); null without a token. */
  tenantScope: string[] | null;
  /** kid of the signing key that verified the user token. */
  signingKeyId: string | null;
  /** A key+secret signed call from a client SDK (web-sdk 1.x, Android 1.x, iOS legacy), not a backend. */
  isSignedClient?: boolean;
  /** What an API key may call; absent for every other credential. */
  apiKeyScope?: ApiKeyScope;
}

/**
 * Outcome of one mechanism: a principal, or the precise reason for the request log. A rejection
 * names the workspace and credential id when the mechanism got that far (a revoked key, a bad
 * signature under a known workspace key), so the rejection shows up in that workspace's log.
 */
export type AuthOutcome = { ok: true; principal: Principal } | AuthRejection;

export interface AuthRejection {
  ok: false;
  code: AuthFailureCode;
  message: string;
  reason: string;
  workspaceId?: string;
  /** Never a secret: API key id, public key id, workspace key. */
  credentialId?: string;
}

export type AuthFailureCode =
  | 'UNAUTHENTICATED'
  | 'KEY_REVOKED'
  | 'KEY_EXPIRED'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_EXPIRED'
  | 'TOKEN_INVALID'
  | 'TOKEN_EXPIRED'
  | 'FORBIDDEN'
  | 'ORIGIN_NOT_ALLOWED';

export function reject(
  code: AuthFailureCode,
  message: string,
  reason: string = message,
  subject: { workspaceId?: string; credentialId?: string } = {},
): AuthOutcome {
  return { ok: false, code, message, reason, ...subject };
}
