import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { redactSecrets } from '../credentials/redact.js';
import { isDatabaseUnavailable } from '../db/unavailable.js';
import { logAtMostEvery } from '../lib/log-throttle.js';
import { AppError, statusOf, type ErrorCode } from '../lib/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Why the request was rejected, for the request log: the error code and the precise reason. */
    rejection?: { code: string; reason: string };
  }
}

/**
 * The one error handler. Bodies keep the SuprSend envelope the SDKs read:
 *   {"status":"error","code":401,"message":"…","error":{"type":"SIGNATURE_INVALID","message":"…"}}
 * The precise reason (AppError.detail) goes to the log only.
 */

export function sendError(reply: FastifyReply, code: ErrorCode, message: string): FastifyReply {
  const status = statusOf(code);
  return reply.code(status).send({ status: 'error', code: status, message, error: { type: code, message } });
}

function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'BAD_REQUEST';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 415:
      return 'UNSUPPORTED_MEDIA_TYPE';
    case 429:
      return 'RATE_LIMITED';
    case 503:
      return 'SERVICE_UNAVAILABLE';
    default:
      return status >= 400 && status < 500 ? 'BAD_REQUEST' : 'INTERNAL';
  }
}

/**
 * Errors the router raises before any route or hook runs: a path that is not valid percent-encoded
 * UTF-8 (400) or a path parameter over the router's length cap (414). Fastify would answer them
 * in its own shape, without the envelope the SDKs read; buildApp passes this as `frameworkErrors`.
 * onSend hooks do not run for them, hence the request id here.
 */
export function sendFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 400;
  const message =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'a path segment is too long: ids in paths are at most 512 characters'
      : 'the request path is not valid: percent-encode path segments as UTF-8';
  const code = codeForStatus(status);
  request.log.info({ code, reason: error.code }, 'request rejected');
  reply.header('x-request-id', request.id);
  void reply.code(status).send({ status: 'error', code: status, message, error: { type: code, message } });
}

const RETRY_AFTER_S = 2;
const OUTAGE_LOG_INTERVAL_MS = 10_000;

export function registerErrorHandling(app: FastifyInstance): void {
  const shouldLogOutage = logAtMostEvery(OUTAGE_LOG_INTERVAL_MS);
  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error instanceof AppError) {
      request.rejection = { code: error.code, reason: error.detail ?? error.message };
      // Reasons carry no secret by construction; redaction is the second line of defence for log lines.
      request.log.info({ code: error.code, reason: redactSecrets(error.detail ?? error.message) }, 'request rejected');
      return sendError(reply, error.code, error.message);
    }
    if (isDatabaseUnavailable(error)) {
      request.rejection = { code: 'SERVICE_UNAVAILABLE', reason: `database unavailable: ${error.message}` };
      // One line per outage and process, not one per request that meets it.
      const { log, suppressed } = shouldLogOutage();
      if (log) request.log.warn({ err: error, alsoFailed: suppressed }, 'database unavailable; requests answer 503 until it is back');
      reply.header('retry-after', String(RETRY_AFTER_S));
      return sendError(reply, 'SERVICE_UNAVAILABLE', 'the database is unavailable; retry shortly');
    }
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 500) {
      request.rejection = { code: 'INTERNAL', reason: `unhandled ${error.name}: ${error.message}` };
      request.log.error({ err: error }, 'unhandled error');
      return sendError(reply, 'INTERNAL', `internal error; quote request id ${request.id} when reporting it`);
    }
    const code = error.validation ? 'VALIDATION_FAILED' : codeForStatus(status);
    request.rejection = { code, reason: error.message };
    request.log.info({ code, reason: redactSecrets(error.message) }, 'request rejected');
    const message = status === 413 ? 'request body is too large' : error.message;
    return reply.code(status).send({ status: 'error', code: status, message, error: { type: code, message } });
  });

  app.setNotFoundHandler((request, reply) => {
    request.rejection = { code: 'NOT_FOUND', reason: 'no route matches this method and path' };
    return sendError(reply, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
  });
}
