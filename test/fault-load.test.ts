import assert from 'node:assert/strict';
import { after, before, describe, test, type TestContext } from 'node:test';
import pg from 'pg';
import { openHerald } from '../src/runtime.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { createTestEnv, type TestEnv } from './helpers/engines.js';
import { hmacHeaders } from './helpers/http.js';
import { startServer, type RunningServer } from './helpers/server.js';
import { postgresBinaries, startOwnPostgres, type OwnPostgres } from './helpers/services.js';

/**
 * Faults under trigger load, against a PostgreSQL cluster of the test's own (the shared one is
 * never stopped): PostgreSQL stopped for 10 s, and the Herald process killed with SIGKILL. Clients
 * send triggers with idempotency keys, as the SuprSend SDKs can, and send again the ones whose
 * outcome they never learnt (a 503, a dropped connection). Afterwards every trigger answered 202
 * is in the database (0 lost), no key produced two executions (0 duplicated), no request hung,
 * and the figures are printed.
 */

const WORKFLOW = 'fault-load';
const WORKERS = 4;
const OUTAGE_MS = 10_000;
/** No request may take longer: a hang would show here. */
const REQUEST_TIMEOUT_MS = 15_000;

interface Outcome {
  status: number | 'network-error';
  messageId?: string;
}

/** Trigger senders with idempotency keys; each key's last answer is kept. */
class TriggerLoad {
  readonly outcomes = new Map<string, Outcome>();
  accepted = 0;
  slowestMs = 0;
  #seq = 0;
  #running = false;
  #workers: Array<Promise<void>> = [];
  #acceptedWaiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(
    private url: () => string,
    private readonly credentials: { workspaceKey: string; secret: string },
    private readonly prefix: string,
  ) {}

  start(): void {
    this.#running = true;
    this.#workers = Array.from({ length: WORKERS }, async () => {
      while (this.#running) {
        const outcome = await this.send(`${this.prefix}-${++this.#seq}`);
        // A client backs off a little after a failure instead of spinning on a dead server.
        if (outcome.status !== 202) await new Promise((resolve) => setTimeout(resolve, 50));
      }
    });
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#workers);
  }

  /** Resolves once `count` more triggers have been answered 202 than now. */
  acceptedMore(count: number): Promise<void> {
    return new Promise((resolve) => this.#acceptedWaiters.push({ count: this.accepted + count, resolve }));
  }

  async send(key: string): Promise<Outcome> {
    const body = JSON.stringify({ workflow: WORKFLOW, recipients: [`load-${key.length % 7}`], data: { key }, $idempotency_key: key });
    const started = performance.now();
    let outcome: Outcome;
    try {
      const response = await fetch(`${this.url()}/trigger/`, {
        method: 'POST',
        body,
        headers: hmacHeaders(this.credentials.workspaceKey, this.credentials.secret, 'POST', '/trigger/', body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const json = (await response.json().catch(() => ({}))) as { message_id?: string };
      outcome = { status: response.status, ...(json.message_id ? { messageId: json.message_id } : {}) };
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') throw new Error(`a trigger hung for ${REQUEST_TIMEOUT_MS} ms`, { cause: error });
      outcome = { status: 'network-error' };
    }
    this.slowestMs = Math.max(this.slowestMs, performance.now() - started);
    this.outcomes.set(key, outcome);
    if (outcome.status === 202) {
      this.accepted += 1;
      this.#acceptedWaiters = this.#acceptedWaiters.filter((waiter) => {
        if (this.accepted < waiter.count) return true;
        waiter.resolve();
        return false;
      });
    }
    return outcome;
  }

  /** Keys whose outcome the client never learnt: sent again (same key) until answered 202. */
  async resendUnknown(): Promise<number> {
    const unknown = [...this.outcomes].filter(([, outcome]) => outcome.status !== 202).map(([key]) => key);
    for (const key of unknown) {
      const outcome = await this.send(key);
      assert.equal(outcome.status, 202, `resending ${key}: ${String(outcome.status)}`);
    }
    return unknown.length;
  }
}

describe(
  'faults under trigger load, on a PostgreSQL of the test’s own',
  { skip: postgresBinaries() === undefined, timeout: 300_000 },
  () => {
    let own: OwnPostgres;
    let t: TestEnv;
    let server: RunningServer | undefined;
    let credentials: { workspaceKey: string; secret: string };
    let db: pg.Client;

    before(async () => {
      own = await startOwnPostgres();
      t = await createTestEnv('postgres', { DATABASE_URL: own.url, HERALD_DB_CONNECT_TIMEOUT: '2s' });
      const herald = await openHerald(t.config);
      try {
        const workspace = await herald.workspaces.get('staging');
        await new WorkflowService(herald).apply(workspace.id, [
          { slug: WORKFLOW, category: 'transactional', steps: [{ type: 'inbox', template: { text: 'Order {{data.key}}' } }] },
        ]);
        credentials = { workspaceKey: workspace.workspaceKey, secret: await herald.workspaceSecrets.reveal(workspace.id) };
      } finally {
        await herald.close();
      }
      server = await startServer(t.env);
    });

    after(async () => {
      await db?.end().catch(() => {});
      await server?.stop();
      await own?.destroy();
      await t?.cleanup();
    });

    /** Lost: answered 202 but not in the database. Duplicated: more executions than keys. */
    async function audit(load: TriggerLoad): Promise<{ lost: number; duplicated: number; accepted: number }> {
      if (!db) {
        db = new pg.Client({ connectionString: own.url, options: `-c search_path=${t.schema as string}` });
        await db.connect();
      }
      const acceptedIds = [...load.outcomes.values()].filter((o) => o.status === 202).map((o) => o.messageId as string);
      const found = await db.query<{ id: string }>('select id from executions where id = any($1)', [acceptedIds]);
      const keys = [...load.outcomes.keys()];
      const executions = await db.query<{ n: string }>(
        `select count(*) as n from notifications where workflow_slug = $1 and (content::jsonb -> 'message' ->> 'text') = any($2)`,
        [WORKFLOW, keys.map((key) => `Order ${key}`)],
      );
      return {
        accepted: new Set(acceptedIds).size,
        lost: new Set(acceptedIds).size - found.rows.length,
        duplicated: Number(executions.rows[0]?.n) - keys.length,
      };
    }

    function report(context: TestContext, figures: Record<string, string | number>): void {
      context.diagnostic(
        Object.entries(figures)
          .map(([name, value]) => `${name}: ${value}`)
          .join(', '),
      );
    }

    test('PostgreSQL stopped for 10 s: 503s meanwhile, nothing lost or duplicated, recovery without a restart', async (context) => {
      const live = server as RunningServer;
      const load = new TriggerLoad(() => live.url, credentials, 'outage');
      load.start();
      await load.acceptedMore(20);
      await own.stop();
      const stoppedAt = performance.now();
      // The fault's length is the point of the test, not a wait for something to happen.
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
      await own.start();
      const backAt = performance.now();
      await load.acceptedMore(1);
      const recoveredS = (performance.now() - backAt) / 1000;
      await load.acceptedMore(20);
      await load.stop();
      const refused = [...load.outcomes.values()].filter((o) => o.status !== 202);
      assert.ok(refused.length > 0, 'requests during the outage were refused');
      for (const outcome of refused) assert.ok(outcome.status === 503 || outcome.status === 'network-error', String(outcome.status));
      const resent = await load.resendUnknown();
      const figures = await audit(load);
      report(context, {
        fault: `PostgreSQL stopped ${((backAt - stoppedAt) / 1000).toFixed(1)} s`,
        'triggers accepted': figures.accepted,
        'refused meanwhile (503 or connection error)': refused.length,
        'resent with the same key': resent,
        lost: figures.lost,
        duplicated: figures.duplicated,
        'seconds to recover': recoveredS.toFixed(2),
        'slowest answer ms': Math.round(load.slowestMs),
      });
      assert.equal(figures.lost, 0);
      assert.equal(figures.duplicated, 0);
      assert.equal(live.process.exitCode, null, 'the server is still running');
      assert.equal((await fetch(`${live.url}/readyz`)).status, 200);
    });

    test('the node killed with SIGKILL under load: a new one takes over, nothing lost or duplicated', async (context) => {
      let live = server as RunningServer;
      const load = new TriggerLoad(() => live.url, credentials, 'crash');
      load.start();
      await load.acceptedMore(50);
      live.process.kill('SIGKILL');
      await new Promise((resolve) => live.process.once('exit', resolve));
      const killedAt = performance.now();
      live = await startServer(t.env);
      server = live;
      await load.acceptedMore(1);
      const recoveredS = (performance.now() - killedAt) / 1000;
      await load.acceptedMore(20);
      await load.stop();
      const resent = await load.resendUnknown();
      const figures = await audit(load);
      report(context, {
        fault: 'herald serve killed with SIGKILL',
        'triggers accepted': figures.accepted,
        'resent with the same key': resent,
        lost: figures.lost,
        duplicated: figures.duplicated,
        'seconds to serve again (new process)': recoveredS.toFixed(2),
      });
      assert.equal(figures.lost, 0);
      assert.equal(figures.duplicated, 0);
    });
  },
);
