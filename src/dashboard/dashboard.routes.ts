import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AppError } from '../lib/errors.js';

/**
 * `/dashboard/`: the React app built by `vite build --config web/vite.config.ts` into dist/web.
 * Hashed assets are served by @fastify/static under /dashboard/assets/ (cacheable); every other
 * path under /dashboard/ answers index.html (the app routes in the browser), never cached and
 * with security headers. Without a build (tests run from source) /dashboard/ answers a 503.
 */

/** dist/web, both from src/dashboard (tsx) and from dist/dashboard (the build). */
export const DASHBOARD_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/web');

const CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CSP)
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('x-content-type-options', 'nosniff');
}

export function registerDashboardRoutes(app: FastifyInstance, dir: string = DASHBOARD_DIR): void {
  app.get('/', async (_request, reply) => reply.redirect('/dashboard/'));

  const indexFile = path.join(dir, 'index.html');
  const isBuilt = existsSync(indexFile);
  let index: string | undefined;
  const serveIndex = async (_request: unknown, reply: FastifyReply) => {
    if (!isBuilt) {
      throw new AppError('SERVICE_UNAVAILABLE', 'the dashboard is not built: run `npm run build` (it writes dist/web)');
    }
    index ??= readFileSync(indexFile, 'utf8');
    return securityHeaders(reply).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(index);
  };

  if (isBuilt && existsSync(path.join(dir, 'assets'))) {
    void app.register(fastifyStatic, {
      root: path.join(dir, 'assets'),
      prefix: '/dashboard/assets/',
      index: false,
      immutable: true,
      maxAge: '365d',
      setHeaders: (res) => {
        res.header('x-content-type-options', 'nosniff');
      },
    });
  }
  // ignoreTrailingSlash: this also answers /dashboard (assets use absolute /dashboard/assets/ URLs).
  app.get('/dashboard/', serveIndex);
  // The SPA fallback: any page of the app (not an asset) is index.html.
  app.get('/dashboard/*', async (request, reply) => {
    const url = request.url.split('?', 1)[0] ?? '';
    if (url.startsWith('/dashboard/assets/')) throw new AppError('NOT_FOUND', 'no such dashboard file');
    return serveIndex(request, reply);
  });
}
