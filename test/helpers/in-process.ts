import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../../src/app.js';
import { fixedClock } from '../../src/lib/clock.js';
import { openHerald, type Herald } from '../../src/runtime.js';
import type { TestEnv } from './engines.js';
import { hmacHeaders } from './http.js';

export interface InProcess {
  herald: Herald;
  app: FastifyInstance;
  clock: ReturnType<typeof fixedClock>;
  /** http://127.0.0.1:<port> of the listening app, for the real SDKs. */
  baseUrl: string;
  /** Workspace key and secret of `staging`, for the real SDKs. */
  staging: { id: string; workspaceKey: string; secret: string };
  /** Number of SQL statements executed so far. */
  queries(): number;
  /**
   * The statements run since `queries()` returned `mark`, without those of the timers running
   * beside every request (change feed, job runner, webhook sender, request log, retention), which
   * can land between any two lines of a test.
   */
  statementsSince(mark: number): string[];
  /** A request signed as the backend SDKs sign it, with `staging`'s key and secret. */
  signed(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

const BACKGROUND_SQL =
  /"(change_log|jobs|webhook_outbox|request_log|idempotency_keys|events|executions)"|pg_try_advisory_lock|pg_advisory_unlock|^(begin|commit|rollback)$/i;

/** The real app and real database in this process, with a controllable clock and a query counter. */
export async function startInProcess(t: TestEnv, at = Date.now()): Promise<InProcess> {
  const clock = fixedClock(at);
  const statements: string[] = [];
  const herald = await openHerald(t.config, { clock, onQuery: (event) => void statements.push(event.query.sql) });
  const app = buildApp({ herald, logger: pino({ level: 'silent' }) });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  const workspace = await herald.workspaces.get('staging');
  const staging = { id: workspace.id, workspaceKey: workspace.workspaceKey, secret: await herald.workspaceSecrets.reveal(workspace.id) };
  return {
    herald,
    app,
    clock,
    baseUrl: address,
    staging,
    queries: () => statements.length,
    statementsSince: (mark) => statements.slice(mark).filter((sqlText) => !BACKGROUND_SQL.test(sqlText)),
    signed: (method, url, body) =>
      app.inject({
        method,
        url,
        headers: hmacHeaders(staging.workspaceKey, staging.secret, method, url, body),
        ...(body === undefined ? {} : { payload: body }),
      }),
    async close() {
      await app.close();
      await herald.close();
    },
  };
}
