import type { FastifyInstance } from 'fastify';
import { AppError } from '../lib/errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The body bytes exactly as received: HMAC signatures are computed over them. */
    rawBody?: Buffer;
  }
}

/**
 * JSON parsing that keeps the raw bytes. An empty body is accepted as "no body": the SDKs send
 * `Content-Type: application/json` on bodiless DELETE requests too.
 */
export function registerRawJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json']);
  app.addContentTypeParser(/^application\/(.+\+)?json(;.*)?$/i, { parseAs: 'buffer' }, (request, body: Buffer, done) => {
    request.rawBody = body;
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    try {
      done(null, JSON.parse(body.toString('utf8')) as unknown);
    } catch {
      done(new AppError('BAD_REQUEST', 'request body is not valid JSON'), undefined);
    }
  });
}
