import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/**
 * Browser SDKs send `Authorization` and `Content-Type: application/json` on every call, so every
 * call is pre-flighted. A pre-flight carries no credentials, so it cannot know which public key
 * will follow: it is answered for any origin, and the real request is then checked against the
 * public key's allowed origins (auth/public-key.ts). No cookies are involved (credentials: false).
 * web-sdk 1.x calls `/event/` and `/v1/subscriber/…` from the page with a key+secret signature.
 */
const CLIENT_PATHS = ['/v2/event', '/v2/subscriber/', '/v1/feed/', '/v1/auth/whoami', '/event', '/v1/subscriber/'];

/** Only the client surface is reachable from browser pages; backend routes send no CORS headers. */
export function isClientPath(url: string): boolean {
  return CLIENT_PATHS.some(
    (prefix) => url === prefix || url.startsWith(prefix) || url.startsWith(`${prefix}?`) || url.startsWith(`${prefix}/`),
  );
}

export function registerCors(app: FastifyInstance): void {
  const allowed = {
    origin: true,
    credentials: false,
    methods: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    // x-amz-date: web-sdk 1.x sends its signed date there (browsers cannot set Date).
    allowedHeaders: [
      'authorization',
      'x-ss-signature',
      'content-type',
      'x-suprsend-user-agent',
      'x-suprsend-client-user-agent',
      'x-amz-date',
    ],
    maxAge: 600,
  };
  void app.register(cors, {
    delegator: (request, callback) => callback(null, isClientPath(request.url ?? '') ? allowed : { origin: false }),
  });
}
