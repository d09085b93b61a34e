import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { sendError } from '../http/error-handler.js';
import type { SocketServer } from '../realtime/socket-server.js';

// A load balancer's probe gives up after a few seconds; answer before it does, whatever the database does.
const READINESS_TIMEOUT_MS = 2_000;

function withinTime<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Liveness and readiness: the only routes without credentials. `/readyz` is 503 while the
 * database does not answer; with Redis configured it also says whether realtime events reach
 * the other processes (`degraded` while Redis is away: the API still serves).
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  db: Kysely<Database>,
  engine: string,
  realtime: Pick<SocketServer, 'health'>,
): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (request, reply) => {
    const { fanOut } = realtime.health();
    try {
      await withinTime(sql`select 1`.execute(db), READINESS_TIMEOUT_MS);
    } catch (error) {
      request.log.warn({ err: error }, 'readiness check failed');
      return sendError(reply, 'SERVICE_UNAVAILABLE', 'database unreachable');
    }
    return { status: 'ready', database: engine, ...(fanOut === 'local' ? {} : { realtime: fanOut }) };
  });
}
