import { createHash, createHmac } from 'node:crypto';
import { digestsEqual } from '../lib/crypto.js';
import { formatSpan } from '../lib/duration.js';
import type { CredentialCache } from './credential-cache.js';
import { reject, type AuthOutcome } from './principal.js';
import { parseSignedDate, type SignedDateFormat } from './signed-date.js';

/**
 * Workspace key + secret request signing, exactly as the SuprSend backend SDKs do it
 * (reference/backend-sdk-protocol.md §2):
 *
 *   Authorization: <workspace_key>:<base64 HMAC-SHA256(secret, S)>
 *   S = METHOD \n md5hex(raw body) or "" \n Content-Type \n Date \n raw request target
 *
 * MD5 is not our choice: it is what the SDKs send. Everything is taken from the request as
 * received (raw body bytes, raw target) because the Python SDK serialises JSON differently.
 */

export interface SignedRequestParts {
  method: string;
  rawBody: Uint8Array | undefined;
  contentType: string;
  date: string;
  /** Request target exactly as on the request line: path plus `?query`, not decoded. */
  requestTarget: string;
}

/**
 * What tells a key+secret signed *client* SDK (web-sdk 1.x, Android 1.x, iOS legacy) from a
 * backend SDK: where its date is and what it looks like, and whether the route is one only those
 * clients call. Backend SDKs send an RFC 1123 `Date` (ISO-8601 only to the messages API).
 */
export interface SignedRequestShape {
  /** web-sdk 1.x puts its date in x-amz-date: browsers cannot set Date. */
  dateHeader: 'date' | 'x-amz-date';
  /** The route's pattern (`/event`, `/v1/subscriber/:id/category`). */
  routeUrl: string | undefined;
  /** A route only the signed client SDKs call (`/v1/subscriber/…` preferences). */
  isClientRoute: boolean;
}

const BACKEND_SHAPE: SignedRequestShape = { dateHeader: 'date', routeUrl: undefined, isClientRoute: false };

export function bodyMd5(rawBody: Uint8Array | undefined): string {
  return rawBody && rawBody.length > 0 ? createHash('md5').update(rawBody).digest('hex') : '';
}

export function stringToSign(parts: SignedRequestParts): string {
  return [parts.method.toUpperCase(), bodyMd5(parts.rawBody), parts.contentType, parts.date, parts.requestTarget].join('\n');
}

export function signRequest(secret: string, parts: SignedRequestParts): string {
  return createHmac('sha256', secret).update(stringToSign(parts), 'utf8').digest('base64');
}

/** Splits `<key>:<signature>` on the last colon (base64 never contains one). */
export function parseHmacAuthorization(header: string): { workspaceKey: string; signature: string } | null {
  const at = header.lastIndexOf(':');
  if (at <= 0 || at === header.length - 1) return null;
  return { workspaceKey: header.slice(0, at).trim(), signature: header.slice(at + 1).trim() };
}

const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;
const HMAC_SHA256_BYTES = 32;

export interface HmacDeps {
  cache: CredentialCache;
  now: () => number;
  /** 0 disables the Date check. */
  maxSkewMs: number;
  /**
   * How far ahead of server time the Date may be. A captured request replays until its Date is
   * maxSkewMs behind, so the replay window is maxFutureSkewMs + maxSkewMs.
   */
  maxFutureSkewMs: number;
}

/** Which signed client SDK a request looks like (for the reason of a refusal), or null for a backend call. */
export function signedClientOf(shape: SignedRequestShape, dateFormat: SignedDateFormat | null): string | null {
  if (shape.dateHeader === 'x-amz-date') return 'web-sdk 1.x style: date in x-amz-date';
  if (dateFormat === 'java') return 'Android 1.x style: a java.util.Date date';
  if (dateFormat === 'iso8601' && shape.routeUrl === '/event') return 'iOS legacy style: an ISO-8601 date on /event/';
  if (shape.isClientRoute) return 'a /v1/subscriber/ preference call';
  return null;
}

export async function verifyHmacRequest(
  header: string,
  parts: SignedRequestParts,
  deps: HmacDeps,
  shape: SignedRequestShape = BACKEND_SHAPE,
): Promise<AuthOutcome> {
  const parsed = parseHmacAuthorization(header);
  if (!parsed) return reject('UNAUTHENTICATED', 'Authorization must be <workspace_key>:<signature>', 'malformed HMAC Authorization header');
  if (!BASE64_RE.test(parsed.signature)) {
    return reject('SIGNATURE_INVALID', 'request signature is not base64', 'HMAC signature is not base64');
  }
  const presented = Buffer.from(parsed.signature, 'base64');
  if (presented.length !== HMAC_SHA256_BYTES) {
    return reject(
      'SIGNATURE_INVALID',
      'request signature has the wrong length',
      `HMAC signature decodes to ${presented.length} bytes, expected 32`,
    );
  }

  const now = deps.now();
  const dateName = shape.dateHeader === 'x-amz-date' ? 'x-amz-date' : 'Date';
  const sent = parts.date ? parseSignedDate(parts.date) : null;
  if (deps.maxSkewMs > 0) {
    if (!sent) return reject('SIGNATURE_INVALID', 'Date header is required on signed requests', 'Date header missing');
    if (!sent.ok) {
      return reject(
        'SIGNATURE_INVALID',
        `${dateName} header is not a valid date: ${sent.reason}`,
        `${dateName} header unparseable (${sent.reason}): ${JSON.stringify(parts.date.slice(0, 100))}`,
      );
    }
    const skew = now - sent.at;
    const allowed = skew >= 0 ? deps.maxSkewMs : deps.maxFutureSkewMs;
    if (Math.abs(skew) > allowed) {
      return reject(
        'SIGNATURE_EXPIRED',
        `${dateName} header is too far from server time; check the client clock${sent.note === undefined ? '' : ` (${sent.note})`}`,
        `${dateName} is ${formatSpan(skew)} ${skew > 0 ? 'behind' : 'ahead of'} server time (allowed ${formatSpan(allowed)})` +
          (sent.note === undefined ? '' : `; ${sent.note}`),
      );
    }
  }

  const workspace = await deps.cache.workspaceByKey(parsed.workspaceKey);
  if (!workspace) return reject('UNAUTHENTICATED', 'unknown workspace key', 'workspace key not found');

  const canonical = stringToSign(parts);
  const secrets = (await deps.cache.secrets(workspace.id)).filter((s) => s.expiresAt === null || s.expiresAt > now);
  for (const { secret } of secrets) {
    const expected = createHmac('sha256', secret).update(canonical, 'utf8').digest();
    if (digestsEqual(expected, presented)) {
      const signedClient = signedClientOf(shape, sent?.ok === true ? sent.format : null);
      // These SDKs ship the workspace secret inside the app: with enhanced security on they are
      // refused unless the workspace allows them (checked after the signature, so only a holder
      // of the secret learns the setting).
      if (signedClient !== null && workspace.isEnhancedSecurity && !workspace.allowsSignedClients) {
        return reject(
          'FORBIDDEN',
          `key+secret signed client calls are refused: workspace "${workspace.slug}" has enhanced security on. These SDKs ` +
            `(web-sdk 1.x, Android 1.x, iOS legacy) carry the workspace secret inside the app; to accept them anyway turn on ` +
            `the workspace switch "allow key+secret signed client calls" (herald signed-clients ${workspace.slug} on, or ` +
            `PUT /admin/api/workspaces/${workspace.slug}/signed-clients {"enabled":true})`,
          `signed client call (${signedClient}) refused: enhanced security on, signed clients not allowed`,
          { workspaceId: workspace.id, credentialId: workspace.workspaceKey },
        );
      }
      return {
        ok: true,
        principal: {
          kind: 'hmac',
          workspaceId: workspace.id,
          workspaceSlug: workspace.slug,
          workspaceKey: workspace.workspaceKey,
          credentialId: workspace.workspaceKey,
          subscriberId: null,
          tenantScope: null,
          signingKeyId: null,
          isSignedClient: signedClient !== null,
        },
      };
    }
  }
  return reject(
    'SIGNATURE_INVALID',
    `request signature does not match: this workspace key belongs to workspace "${workspace.slug}", so sign with ` +
      `${workspace.slug}'s workspace secret (each workspace has its own) over METHOD, body MD5, Content-Type, Date and path`,
    // The string-to-sign holds no secret (method, body MD5, Content-Type, Date, target); it is
    // what a developer needs to find which part their client signed differently.
    `HMAC mismatch against ${secrets.length} valid secret(s); server string-to-sign ${JSON.stringify(canonical)}`,
    { workspaceId: workspace.id, credentialId: workspace.workspaceKey },
  );
}
