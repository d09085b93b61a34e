import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { presentedCredentialOf } from '../auth/authenticate.js';
import type { RequestLogEntry, RequestLogService } from './request-log.service.js';

/**
 * Feeds the request log from every finished request to the API surfaces: routes registered
 * through routeGroup (they set `request.presentedCredential` on arrival), plus requests that
 * matched no route at all (an SDK pointed at the wrong path), except under the paths below.
 * Health checks, the demo page, the realtime socket and the admin dashboard are not API traffic.
 *
 * What is recorded is built from what auth and the error handler put on the request, never from
 * header values: the path without its query (queries can carry ids and tokens), the credential
 * kind and its non-secret id, the rejection code and reason.
 */

const UNLOGGED_PREFIXES = ['/healthz', '/readyz', '/demo', '/socket.io', '/admin', '/dashboard'];

function isUnloggedPath(path: string): boolean {
  return UNLOGGED_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The entry for one finished request, or null when the request is not API traffic. */
export function requestLogEntry(request: FastifyRequest, reply: FastifyReply, at: number): RequestLogEntry | null {
  const path = (request.raw.url ?? request.url).split('?', 1)[0] ?? '';
  let presented = request.presentedCredential;
  if (!presented) {
    if (!request.is404 || request.method === 'OPTIONS' || isUnloggedPath(path)) return null;
    presented = presentedCredentialOf(header(request, 'authorization'));
  }
  const principal = request.principal;
  const status = reply.statusCode;
  const rejection = request.rejection;
  return {
    requestId: request.id,
    workspaceId: principal?.workspaceId ?? presented.workspaceId,
    at,
    method: request.method,
    path,
    route: request.is404 ? null : (request.routeOptions.url ?? null),
    status,
    latencyMs: reply.elapsedTime,
    credentialType: principal?.kind ?? presented.kind,
    credentialId: principal?.credentialId ?? presented.id,
    subscriberId: principal?.subscriberId ?? null,
    errorCode: rejection?.code ?? (status >= 400 ? `HTTP_${status}` : null),
    reason: status >= 400 ? (rejection?.reason ?? null) : null,
    isAuthenticated: principal !== undefined,
  };
}

/** Installs the hook, and the flush/prune timers for the life of the server. */
export function registerRequestLog(app: FastifyInstance, requestLog: RequestLogService, now: () => number, logger: Logger): void {
  if (!requestLog.isEnabled) return;
  app.addHook('onReady', async () => {
    requestLog.start((error, what) => logger.warn({ err: error }, what));
  });
  app.addHook('onResponse', async (request, reply) => {
    try {
      const entry = requestLogEntry(request, reply, now());
      if (entry) requestLog.record(entry);
    } catch (error) {
      request.log.warn({ err: error }, 'could not record the request in the request log');
    }
  });
  app.addHook('onClose', async () => {
    await requestLog.close();
  });
}
