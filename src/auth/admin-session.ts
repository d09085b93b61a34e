import type { SessionService } from '../admin/sessions.service.js';
import type { AdminAuthOutcome } from './service-token.js';

/**
 * Dashboard session cookie + CSRF defences. Cookies ride along on cross-site requests, so every
 * state-changing request authenticated by one must also pass two independent checks:
 *   1. where it comes from: Sec-Fetch-Site and Origin, when the browser sends them;
 *   2. a synchronizer token in `x-csrf-token` that only same-origin script can know (it is
 *      returned by login and GET /admin/api/me, both readable only by the page itself).
 * SameSite=Strict on the cookie is a third layer, not relied upon alone.
 */

export const CSRF_HEADER = 'x-csrf-token';
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function isUnsafeMethod(method: string): boolean {
  return UNSAFE_METHODS.has(method.toUpperCase());
}

/**
 * `__Host-` (when Secure) pins the cookie to this exact host and path `/`, so a sibling
 * subdomain cannot plant or overwrite it. Browsers refuse that prefix without Secure.
 */
export function sessionCookieName(isSecure: boolean): string {
  return isSecure ? '__Host-herald_session' : 'herald_session';
}

export type OriginCheck = { ok: true } | { ok: false; reason: string };

/**
 * Accepts a request whose browser metadata says it is same-origin, or that carries none (curl,
 * scripts: they cannot ride on a victim's cookie). `expectedOrigin` is HERALD_PUBLIC_URL's origin;
 * without it, the Origin's host must equal the Host header (scheme unknown behind a proxy).
 */
export function checkRequestOrigin(
  headers: { origin: string | undefined; secFetchSite: string | undefined; host: string | undefined },
  expectedOrigin: string | undefined,
): OriginCheck {
  const site = headers.secFetchSite?.toLowerCase();
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return { ok: false, reason: `Sec-Fetch-Site is ${site}` };
  const origin = headers.origin;
  if (origin === undefined) return { ok: true };
  if (origin === 'null') return { ok: false, reason: 'Origin is null (sandboxed or privacy-redirected request)' };
  if (expectedOrigin !== undefined) {
    return origin.toLowerCase() === expectedOrigin.toLowerCase()
      ? { ok: true }
      : { ok: false, reason: `Origin ${origin} is not HERALD_PUBLIC_URL (${expectedOrigin})` };
  }
  try {
    const from = new URL(origin);
    // Parsed with the Origin's scheme so a default port written out (`:80`) or left off compares equal.
    const host = headers.host === undefined ? undefined : new URL(`${from.protocol}//${headers.host}`).host;
    if (host !== undefined && from.host === host) return { ok: true };
  } catch {
    return { ok: false, reason: `Origin ${origin} or Host ${headers.host ?? '(none)'} is not a valid host` };
  }
  return { ok: false, reason: `Origin ${origin} does not match Host ${headers.host ?? '(none)'}` };
}

/**
 * Verifies a session cookie value, and for unsafe methods the synchronizer token too. The origin
 * check runs earlier (admin-group) because it needs no database.
 */
export async function verifySessionRequest(
  token: string,
  request: { method: string; csrfToken: string | undefined },
  sessions: SessionService,
): Promise<AdminAuthOutcome> {
  const check = await sessions.check(token);
  if (!check.ok) return { ok: false, code: 'UNAUTHENTICATED', message: 'your session has ended; sign in again', reason: check.reason };
  if (isUnsafeMethod(request.method) && !sessions.isCsrfTokenValid(token, request.csrfToken)) {
    return {
      ok: false,
      code: 'CSRF_TOKEN_INVALID',
      message: `send the csrf_token from login or GET /admin/api/me in the ${CSRF_HEADER} header`,
      reason: `${request.csrfToken ? `wrong ${CSRF_HEADER}` : `no ${CSRF_HEADER} header`} (account ${check.principal.id})`,
    };
  }
  return { ok: true, principal: check.principal };
}
