import type { CredentialCache } from './credential-cache.js';
import { reject, type AuthOutcome } from './principal.js';
import type { UserTokenVerifier } from './user-token.js';

export interface PublicKeyDeps {
  cache: CredentialCache;
  tokens: UserTokenVerifier;
}

/**
 * Client SDK credentials: `Authorization: <public key>` names the workspace, `x-ss-signature`
 * carries the user token. In enhanced security mode the token is mandatory; with the mode off a
 * token is optional, but one that is sent must still be valid.
 */
export async function verifyPublicKeyRequest(
  publicKey: string,
  userToken: string | undefined,
  origin: string | undefined,
  deps: PublicKeyDeps,
): Promise<AuthOutcome> {
  const record = await deps.cache.publicKey(publicKey);
  if (!record) return reject('UNAUTHENTICATED', 'invalid public key', 'public key not found');
  const subject = { workspaceId: record.workspaceId, credentialId: record.id };
  if (record.revokedAt !== null)
    return reject('KEY_REVOKED', 'this public key has been revoked', `public key ${record.id} revoked`, subject);
  // Origins protect browsers only; a request without Origin is not from a browser page.
  if (origin !== undefined && record.allowedOrigins.length > 0 && !record.allowedOrigins.includes(origin)) {
    return reject(
      'ORIGIN_NOT_ALLOWED',
      `origin ${origin} is not allowed for this public key`,
      `origin ${origin} not in allowed origins of public key ${record.id}`,
      subject,
    );
  }
  const workspace = await deps.cache.workspaceById(record.workspaceId);
  if (!workspace) return reject('UNAUTHENTICATED', 'invalid public key', `public key ${record.id} belongs to a missing workspace`);

  const base = {
    kind: 'public_key' as const,
    workspaceId: workspace.id,
    workspaceSlug: workspace.slug,
    workspaceKey: workspace.workspaceKey,
    credentialId: record.id,
  };
  if (userToken === undefined || userToken === '') {
    if (workspace.isEnhancedSecurity) {
      return reject(
        'UNAUTHENTICATED',
        'enhanced security mode is on: send a signed user token in the x-ss-signature header',
        'user token missing and enhanced security mode is on',
        subject,
      );
    }
    return { ok: true, principal: { ...base, subscriberId: null, tenantScope: null, signingKeyId: null } };
  }
  const outcome = await deps.tokens.verify(userToken, workspace.id, await deps.cache.signingKeys(workspace.id), () =>
    deps.cache.signingKeysAfterMiss(workspace.id),
  );
  if (!outcome.ok) return reject(outcome.code, outcome.message, outcome.reason, subject);
  return {
    ok: true,
    principal: {
      ...base,
      subscriberId: outcome.token.subscriberId,
      tenantScope: outcome.token.tenantScope,
      signingKeyId: outcome.token.kid,
    },
  };
}
