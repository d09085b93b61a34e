import type { KeyObject } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import { LRUCache } from 'lru-cache';
import { sha256Hex } from '../lib/crypto.js';
import { formatSpan } from '../lib/duration.js';
import { textProblem } from '../lib/text.js';

/**
 * Per-user tokens of "enhanced security mode": ES256 JWTs the customer's backend signs with a
 * signing key of the workspace. Payload as SuprSend documents it:
 *   { entity_type: "subscriber", entity_id: <distinct_id>, exp, iat?, scope?: { tenant_id } }
 */

export const ALLOWED_ALGORITHM = 'ES256';
export const CLOCK_LEEWAY_S = 5;
export const DEFAULT_TENANT = 'default';
const TOKEN_CACHE_MAX_ENTRIES = 100_000;

export interface VerifiedUserToken {
  subscriberId: string;
  tenantScope: string[];
  kid: string;
  /** Epoch seconds. */
  exp: number;
}

export type UserTokenOutcome =
  { ok: true; token: VerifiedUserToken } | { ok: false; code: 'TOKEN_INVALID' | 'TOKEN_EXPIRED'; message: string; reason: string };

function fail(code: 'TOKEN_INVALID' | 'TOKEN_EXPIRED', message: string, reason: string = message): UserTokenOutcome {
  return { ok: false, code, message, reason };
}

function tenantScopeOf(payload: JWTPayload): string[] | null {
  const scope = payload['scope'];
  if (scope === undefined || scope === null) return [DEFAULT_TENANT];
  if (typeof scope !== 'object' || Array.isArray(scope)) return null;
  const tenant = (scope as Record<string, unknown>)['tenant_id'];
  if (tenant === undefined || tenant === null) return [DEFAULT_TENANT];
  if (typeof tenant === 'string' && tenant.length > 0) return [tenant];
  if (Array.isArray(tenant) && tenant.length > 0 && tenant.every((t) => typeof t === 'string' && t.length > 0)) return tenant as string[];
  return null;
}

/**
 * Verifies a user token against a workspace's active signing keys. The algorithm is pinned to
 * ES256 before any cryptography; a `kid` must name an active key, and without one each active key
 * is tried. Verified tokens are remembered (by hash) until their `exp`, so a repeated token costs
 * no signature check; `clear()` is called whenever signing keys or the security mode change.
 */
export class UserTokenVerifier {
  readonly #verified = new LRUCache<string, VerifiedUserToken>({ max: TOKEN_CACHE_MAX_ENTRIES });

  constructor(private readonly now: () => number) {}

  clear(): void {
    this.#verified.clear();
  }

  /**
   * `rereadKeys` is asked once for the keys again when the token names a kid that `keys` lacks
   * (or `keys` is empty): the key may have been created a moment ago through another process.
   */
  async verify(
    token: string,
    workspaceId: string,
    keys: ReadonlyArray<{ kid: string; key: KeyObject }>,
    rereadKeys?: () => Promise<ReadonlyArray<{ kid: string; key: KeyObject }>>,
  ): Promise<UserTokenOutcome> {
    const nowS = Math.floor(this.now() / 1000);
    const cacheKey = `${workspaceId}:${sha256Hex(token)}`;
    const hit = this.#verified.get(cacheKey);
    if (hit) {
      if (hit.exp + CLOCK_LEEWAY_S > nowS) return { ok: true, token: hit };
      this.#verified.delete(cacheKey);
    }

    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      // Reads the header only; nothing in it is trusted beyond choosing what to reject.
      header = decodeProtectedHeader(token);
    } catch {
      return fail('TOKEN_INVALID', 'user token is not a JWT', 'user token is not a compact JWS');
    }
    if (header.alg !== ALLOWED_ALGORITHM) {
      return fail(
        'TOKEN_INVALID',
        'user token must be signed with ES256',
        `user token alg "${String(header.alg)}" not allowed (only ES256)`,
      );
    }
    let candidates = keys;
    const isKnown = (k: { kid: string }) => header.kid === undefined || k.kid === header.kid;
    if (rereadKeys && !keys.some(isKnown)) candidates = await rereadKeys();
    if (header.kid !== undefined) {
      candidates = candidates.filter((k) => k.kid === header.kid);
      if (candidates.length === 0) {
        return fail(
          'TOKEN_INVALID',
          'user token is signed with an unknown or revoked signing key',
          `kid "${header.kid}" is not an active signing key of this workspace`,
        );
      }
    }
    if (candidates.length === 0) {
      return fail(
        'TOKEN_INVALID',
        'workspace has no active signing key; create one in Developers → Signing Keys',
        'no active signing key in workspace',
      );
    }

    for (const candidate of candidates) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, candidate.key, {
          algorithms: [ALLOWED_ALGORITHM],
          clockTolerance: CLOCK_LEEWAY_S,
          currentDate: new Date(nowS * 1000),
          requiredClaims: ['exp'],
        }));
      } catch (error) {
        if (error instanceof errors.JWSSignatureVerificationFailed) continue;
        if (error instanceof errors.JWTExpired) {
          const exp = typeof error.payload.exp === 'number' ? error.payload.exp : nowS;
          return fail('TOKEN_EXPIRED', 'user token has expired; refresh it', `user token expired ${formatSpan((nowS - exp) * 1000)} ago`);
        }
        if (error instanceof errors.JWTClaimValidationFailed) {
          return fail(
            'TOKEN_INVALID',
            `user token claim "${error.claim}" is invalid`,
            `user token claim "${error.claim}" ${error.reason}: ${error.message}`,
          );
        }
        return fail('TOKEN_INVALID', 'user token is malformed', `user token rejected: ${(error as Error).message}`);
      }
      if (typeof payload.iat === 'number' && payload.iat > nowS + CLOCK_LEEWAY_S) {
        return fail(
          'TOKEN_INVALID',
          'user token is issued in the future; check the signing server clock',
          `user token iat is ${formatSpan((payload.iat - nowS) * 1000)} in the future`,
        );
      }
      if (payload['entity_type'] !== 'subscriber') {
        return fail(
          'TOKEN_INVALID',
          'user token entity_type must be "subscriber"',
          `user token entity_type is ${JSON.stringify(payload['entity_type'])}`,
        );
      }
      const subscriberId = payload['entity_id'];
      if (typeof subscriberId !== 'string' || subscriberId.length === 0) {
        return fail('TOKEN_INVALID', 'user token entity_id must be the user distinct_id', 'user token entity_id missing or not a string');
      }
      const idProblem = textProblem(subscriberId);
      if (idProblem !== undefined) return fail('TOKEN_INVALID', `user token entity_id ${idProblem}`, 'user token entity_id malformed');
      const tenantScope = tenantScopeOf(payload);
      if (!tenantScope)
        return fail('TOKEN_INVALID', 'user token scope.tenant_id must be a string or a list of strings', 'user token scope malformed');
      const verified: VerifiedUserToken = { subscriberId, tenantScope, kid: candidate.kid, exp: payload.exp as number };
      this.#verified.set(cacheKey, verified, { ttl: Math.max(1, (verified.exp + CLOCK_LEEWAY_S - nowS) * 1000) });
      return { ok: true, token: verified };
    }
    return fail(
      'TOKEN_INVALID',
      'user token signature is invalid',
      `user token signature matches none of ${candidates.length} active signing key(s)`,
    );
  }
}
