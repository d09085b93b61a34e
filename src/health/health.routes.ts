import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { sendError } from '../http/error-handler.js';

/** Liveness and readiness: the only routes without credentials. */
export function registerHealthRoutes(app: FastifyInstance, db: Kysely<Database>, engine: string): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (request, reply) => {
    try {
      await sql`select 1`.execute(db);
      return { status: 'ready', database: engine };
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check failed');
      return sendError(reply, 'SERVICE_UNAVAILABLE', 'database unreachable');
    }
  });
}
