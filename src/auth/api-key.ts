import { checkApiKeyFormat, hashApiKey } from '../credentials/key-format.js';
import { formatSpan } from '../lib/duration.js';
import type { CredentialCache } from './credential-cache.js';
import { reject, type AuthOutcome } from './principal.js';

export interface ApiKeyDeps {
  cache: CredentialCache;
  now: () => number;
  noteUse: (id: string, at: number) => void;
}

/**
 * Bearer API key. Cheapest checks first: the format and CRC32 checksum reject typos and
 * lookalikes without touching the database; then the SHA-256 of the key is looked up.
 * The hash lookup itself is the comparison: equal hashes of a high-entropy key leak nothing useful.
 */
export async function verifyApiKey(key: string, deps: ApiKeyDeps): Promise<AuthOutcome> {
  const format = checkApiKeyFormat(key);
  if (!format.ok) return reject('UNAUTHENTICATED', format.reason);

  const record = await deps.cache.apiKeyByHash(hashApiKey(key));
  if (!record) return reject('UNAUTHENTICATED', 'invalid API key', 'API key not found (well-formed, unknown hash)');
  const now = deps.now();
  if (record.revokedAt !== null) {
    return reject(
      'KEY_REVOKED',
      'this API key has been revoked',
      `API key ${record.id} revoked ${formatSpan(now - record.revokedAt)} ago`,
      {
        workspaceId: record.workspaceId,
        credentialId: record.id,
      },
    );
  }
  if (record.expiresAt !== null && record.expiresAt <= now) {
    return reject('KEY_EXPIRED', 'this API key has expired', `API key ${record.id} expired ${formatSpan(now - record.expiresAt)} ago`, {
      workspaceId: record.workspaceId,
      credentialId: record.id,
    });
  }
  const workspace = await deps.cache.workspaceById(record.workspaceId);
  if (!workspace)
    return reject('UNAUTHENTICATED', 'invalid API key', `API key ${record.id} belongs to a missing workspace`, { credentialId: record.id });
  deps.noteUse(record.id, now);
  return {
    ok: true,
    principal: {
      kind: 'api_key',
      workspaceId: workspace.id,
      workspaceSlug: workspace.slug,
      workspaceKey: workspace.workspaceKey,
      credentialId: record.id,
      subscriberId: null,
      tenantScope: null,
      signingKeyId: null,
      apiKeyScope: record.scope,
    },
  };
}
