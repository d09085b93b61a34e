import { webcrypto, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { sha256Hex } from '../lib/crypto.js';
import { formatSpan } from '../lib/duration.js';
import { isPlainObject, type JsonObject } from '../lib/json.js';
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

function tenantScopeOf(payload: JsonObject): string[] | null {
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
 * The compact JWS, ES256 only. jose's general JWS verify costs about twice the signature check
 * itself in JavaScript per token (measured with its own tests' keys); this path is the few checks
 * one algorithm needs, in order: shape, alg pinned, the signature over the exact bytes sent, then
 * the claims. jose still signs (CLI, tests), and the tests verify tokens jose signs.
 */
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A base64url segment as a JSON object; undefined for anything else (padding, other alphabets, arrays). */
function decodeJson(segment: string | undefined): JsonObject | undefined {
  if (!segment || !BASE64URL.test(segment)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The 64-byte IEEE P1363 (r ‖ s) signature ES256 uses; undefined when the segment is anything else. */
function signatureOf(parts: string[]): Buffer | undefined {
  const segment = parts[2];
  if (!segment || segment.length !== 86 || !BASE64URL.test(segment)) return undefined;
  const signature = Buffer.from(segment, 'base64url');
  // 86 characters carry 4 bits more than 64 bytes: only the canonical spelling is accepted.
  return signature.length === 64 && signature.toString('base64url') === segment ? signature : undefined;
}

// WebCrypto verifies on libuv's thread pool: the event loop goes on serving while a signature is checked.
const cryptoKeys = new WeakMap<KeyObject, Promise<webcrypto.CryptoKey>>();
const ES256_PARAMS = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** False for a bad signature, and for a key WebCrypto cannot use (signing keys are P-256 public keys, so never). */
async function verifyEs256(key: KeyObject, signature: Buffer, signedPart: Buffer): Promise<boolean> {
  try {
    let cryptoKey = cryptoKeys.get(key);
    if (!cryptoKey) {
      cryptoKey = webcrypto.subtle.importKey('spki', key.export({ type: 'spki', format: 'der' }), ES256_PARAMS, false, ['verify']);
      cryptoKeys.set(key, cryptoKey);
    }
    return await webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, await cryptoKey, signature, signedPart);
  } catch {
    cryptoKeys.delete(key);
    return false;
  }
}

/** exp (required), nbf and iat must be numbers; exp past and nbf ahead (beyond the leeway) are refused. */
function checkTimeClaims(payload: JsonObject, nowS: number): UserTokenOutcome | undefined {
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    const value = payload[claim];
    if (value === undefined && claim !== 'exp') continue;
    if (value === undefined) return fail('TOKEN_INVALID', 'user token claim "exp" is invalid', 'user token claim "exp" missing');
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      return fail('TOKEN_INVALID', `user token claim "${claim}" is invalid`, `user token claim "${claim}" is not a number`);
    }
  }
  const exp = payload['exp'] as number;
  if (exp <= nowS - CLOCK_LEEWAY_S) {
    return fail('TOKEN_EXPIRED', 'user token has expired; refresh it', `user token expired ${formatSpan((nowS - exp) * 1000)} ago`);
  }
  const nbf = payload['nbf'];
  if (typeof nbf === 'number' && nbf > nowS + CLOCK_LEEWAY_S) {
    return fail('TOKEN_INVALID', 'user token claim "nbf" is invalid', `user token claim "nbf" is ${formatSpan((nbf - nowS) * 1000)} ahead`);
  }
  return undefined;
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

    // The header is read only to choose what to reject; nothing in it is trusted.
    const parts = token.split('.');
    const header = parts.length === 3 ? decodeJson(parts[0]) : undefined;
    if (!header) return fail('TOKEN_INVALID', 'user token is not a JWT', 'user token is not a compact JWS');
    if (typeof header['kid'] !== 'string' && header['kid'] !== undefined) {
      return fail('TOKEN_INVALID', 'user token is malformed', 'user token kid is not a string');
    }
    if (header['alg'] !== ALLOWED_ALGORITHM) {
      return fail(
        'TOKEN_INVALID',
        'user token must be signed with ES256',
        // JSON.stringify, not String(): an alg such as {"toString": 1} makes String() throw (a 500).
        `user token alg ${JSON.stringify(header['alg'])?.slice(0, 64) ?? '(none)'} not allowed (only ES256)`,
      );
    }
    // RFC 7515 §4.1.11: a token whose critical extensions are not understood is rejected; Herald understands none.
    if (header['crit'] !== undefined) {
      return fail('TOKEN_INVALID', 'user token is malformed', 'user token header has "crit" extensions, none of which are supported');
    }
    const kid = header['kid'] as string | undefined;
    let candidates = keys;
    const isKnown = (k: { kid: string }) => kid === undefined || k.kid === kid;
    if (rereadKeys && !keys.some(isKnown)) candidates = await rereadKeys();
    if (kid !== undefined) {
      candidates = candidates.filter((k) => k.kid === kid);
      if (candidates.length === 0) {
        return fail(
          'TOKEN_INVALID',
          'user token is signed with an unknown or revoked signing key',
          `kid "${kid}" is not an active signing key of this workspace`,
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

    const signature = signatureOf(parts);
    if (!signature) return fail('TOKEN_INVALID', 'user token is malformed', 'user token signature is not 64 bytes of base64url');
    // Parsed before the signature is checked, but nothing in it is used until it is.
    const payload = decodeJson(parts[1]);
    if (!payload) return fail('TOKEN_INVALID', 'user token is malformed', 'user token payload is not a JSON object');
    // Both segments are base64url (checked above): ASCII, so latin1 gives the bytes that were signed.
    const signedPart = Buffer.from(`${parts[0]}.${parts[1]}`, 'latin1');
    for (const candidate of candidates) {
      if (!(await verifyEs256(candidate.key, signature, signedPart))) continue;
      const claimProblem = checkTimeClaims(payload, nowS);
      if (claimProblem) return claimProblem;
      if (typeof payload['iat'] === 'number' && payload['iat'] > nowS + CLOCK_LEEWAY_S) {
        return fail(
          'TOKEN_INVALID',
          'user token is issued in the future; check the signing server clock',
          `user token iat is ${formatSpan((payload['iat'] - nowS) * 1000)} in the future`,
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
      const verified: VerifiedUserToken = { subscriberId, tenantScope, kid: candidate.kid, exp: payload['exp'] as number };
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
