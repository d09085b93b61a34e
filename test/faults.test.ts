import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { io as connectSocket, type Socket as ClientSocket } from 'socket.io-client';
import { heraldJson } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, PG_URL, type TestEnv } from './helpers/engines.js';
import { getJson, hmacHeaders } from './helpers/http.js';
import { startServer, type RunningServer } from './helpers/server.js';
import { outputMatches, startOwnRedis, type OwnRedis } from './helpers/services.js';
import { waitFor } from './helpers/webhook-receiver.js';

/**
 * Faults outside Herald must never end a server process: PostgreSQL ending its connections, Redis
 * going away with triggers flowing. Each test runs the real server (`node dist/main.js`) and
 * breaks the service under it; only services of the test's own are stopped (its own Redis on a
 * spare port; PostgreSQL connections of this server only, found by their application_name).
 */

const WORKFLOW = 'fault-note';

interface Staging {
  workspaceKey: string;
  secret: string;
}

async function stagingCredentials(t: TestEnv): Promise<Staging> {
  const secret = await heraldJson<{ workspace_key: string; workspace_secret: string }>(['workspace', 'secret', 'staging'], t.env);
  return { workspaceKey: secret.workspace_key, secret: secret.workspace_secret };
}

async function applyInboxWorkflow(t: TestEnv): Promise<void> {
  const file = path.join(t.dataDir, 'workflow.json');
  writeFileSync(
    file,
    JSON.stringify({ slug: WORKFLOW, category: 'transactional', steps: [{ type: 'inbox', template: { text: 'Hello' } }] }),
  );
  await heraldJson(['workflow', 'apply', 'staging', file], t.env);
}

async function trigger(server: RunningServer, staging: Staging, recipient: string): Promise<number> {
  const body = JSON.stringify({ workflow: WORKFLOW, recipients: [recipient], data: {} });
  const response = await fetch(`${server.url}/trigger/`, {
    method: 'POST',
    headers: hmacHeaders(staging.workspaceKey, staging.secret, 'POST', '/trigger/', body),
    body,
  });
  await response.arrayBuffer();
  return response.status;
}

const whoami = (server: RunningServer, staging: Staging) =>
  getJson(`${server.url}/v1/auth/whoami`, hmacHeaders(staging.workspaceKey, staging.secret, 'GET', '/v1/auth/whoami', undefined));

if (enginesUnderTest().includes('postgres')) {
  describe('PostgreSQL ending the server’s connections', () => {
    const applicationName = `herald_fault_${process.pid}_${Date.now()}`;
    let t: TestEnv;
    let server: RunningServer | undefined;

    before(async () => {
      t = await createTestEnv('postgres', { DATABASE_URL: `${PG_URL}?application_name=${applicationName}`, LOG_LEVEL: 'info' });
    });

    after(async () => {
      await server?.stop();
      await t?.cleanup();
    });

    test('connections terminated idle and under load: the process logs it, stays up, answers 503 meanwhile, and serves again', async (context) => {
      await heraldJson(['workspace', 'list'], t.env);
      const staging = await stagingCredentials(t);
      await applyInboxWorkflow(t);
      const running = await startServer(t.env);
      server = running;
      assert.equal((await whoami(running, staging)).status, 200);

      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      const terminate = () =>
        admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [applicationName]);
      const lost = /PostgreSQL closed a connection/;
      const statuses = new Map<number, number>();
      try {
        // Idle: every connection the server holds (the change feed polls every 250 ms, so a
        // connection caught mid-query fails that query instead; repeat until an idle one was hit).
        await waitFor(async () => {
          await terminate();
          return lost.test(running.output()) || running.process.exitCode !== null;
        }, 20_000);
        await outputMatches(running, lost);

        // Under load: triggers (each a transaction) while their connections are terminated.
        let isLoading = true;
        const load = (async () => {
          for (let i = 0; i < 30; i++) {
            const status = await trigger(running, staging, 'pg-fault-user');
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
          }
          isLoading = false;
        })();
        for (let i = 0; i < 5_000 && isLoading; i++) await terminate();
        await load;
      } finally {
        await admin.end();
      }
      assert.equal(running.process.exitCode, null, 'the server is still running');
      // A request that lost its connection is told to retry (503), never left hanging or given a 500.
      for (const status of statuses.keys())
        assert.ok(status === 202 || status === 503, `unexpected status ${status}: ${JSON.stringify([...statuses])}`);
      const loadEnded = performance.now();
      await waitFor(async () => (await whoami(running, staging)).status === 200, 10_000);
      await waitFor(async () => (await trigger(running, staging, 'pg-fault-user')) === 202, 10_000);
      const recoveredS = (performance.now() - loadEnded) / 1000;
      // Every 202 is in the database: the accepted ones during the load, and the one just now.
      const accepted = (statuses.get(202) ?? 0) + 1;
      const reader = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${t.schema as string}` });
      await reader.connect();
      let stored: number;
      try {
        const result = await reader.query<{ n: string }>("select count(*) as n from notifications where distinct_id = 'pg-fault-user'");
        stored = Number(result.rows[0]?.n);
      } finally {
        await reader.end();
      }
      context.diagnostic(
        `fault: PostgreSQL connections terminated idle and under load, trigger answers: ${JSON.stringify(Object.fromEntries(statuses))}, ` +
          `triggers accepted: ${accepted}, lost: ${Math.max(0, accepted - stored)}, seconds to recover: ${recoveredS.toFixed(2)}`,
      );
      assert.ok(stored >= accepted, `${accepted} triggers accepted but ${stored} stored`);
    });
  });
}

const REDIS_OUTAGE_MS = 30_000;

describe('Redis going away while triggers flow', () => {
  let t: TestEnv;
  let redis: OwnRedis;
  let server: RunningServer | undefined;
  const sockets: ClientSocket[] = [];

  before(async () => {
    redis = await startOwnRedis();
    t = await createTestEnv(enginesUnderTest()[0] ?? 'sqlite', { HERALD_REDIS_URL: redis.url, LOG_LEVEL: 'info' });
  });

  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await server?.stop();
    await redis?.kill();
    await t?.cleanup();
  });

  test(
    'the server survives 30 s without Redis, same-process sockets keep receiving, and fan-out resumes when Redis returns',
    { timeout: 180_000 },
    async (context) => {
      await heraldJson(['workspace', 'list'], t.env);
      const staging = await stagingCredentials(t);
      const publicKey = (await heraldJson<{ key: string }>(['public-key', 'create', 'staging'], t.env)).key;
      await applyInboxWorkflow(t);
      const running = await startServer(t.env);
      server = running;

      const socket = connectSocket(running.url, {
        transports: ['websocket'],
        auth: { authorization: publicKey, distinct_id: 'redis-fault-user' },
        reconnection: false,
        forceNew: true,
      });
      sockets.push(socket);
      const received: unknown[] = [];
      socket.on('new_notification', (payload: unknown) => received.push(payload));
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });

      const readiness = async () => (await getJson(`${running.url}/readyz`, {})).body;
      assert.deepEqual(await readiness(), { status: 'ready', database: t.engine, realtime: 'redis' });

      await redis.kill();
      await outputMatches(running, /realtime Redis connection lost/);
      // Still ready (the API serves), and says what is missing.
      assert.deepEqual(await readiness(), { status: 'ready', database: t.engine, realtime: 'degraded' });
      // Triggers flow for the whole outage — past the ~10 s after which ioredis once gave up on the
      // events it held and crashed the process. They are accepted and reach the socket on this
      // process; the events for other processes are dropped.
      const outageStarted = performance.now();
      let accepted = 0;
      while (performance.now() - outageStarted < REDIS_OUTAGE_MS) {
        assert.equal(await trigger(running, staging, 'redis-fault-user'), 202);
        accepted += 1;
        await waitFor(() => received.length === accepted, 10_000);
        // Paced like a steady trickle of traffic; the outage's length is what the test is about.
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      await outputMatches(running, /realtime events for other processes are dropped until Redis is back/);
      assert.equal(running.process.exitCode, null, 'the server survived the outage');

      await redis.restart();
      const restartedAt = performance.now();
      await outputMatches(running, /realtime Redis connection restored/);
      await waitFor(async () => (await readiness())['realtime'] === 'redis', 10_000);
      const recoveredS = (performance.now() - restartedAt) / 1000;
      assert.equal(await trigger(running, staging, 'redis-fault-user'), 202);
      await waitFor(() => received.length === accepted + 1, 10_000);
      assert.equal(running.process.exitCode, null, 'the server is still running');
      assert.ok(socket.connected);
      context.diagnostic(
        `fault: Redis down ${((restartedAt - outageStarted) / 1000).toFixed(1)} s, triggers accepted meanwhile: ${accepted}, ` +
          `delivered to the same-process socket: ${accepted}, lost: 0, seconds until cross-process fan-out is back: ${recoveredS.toFixed(2)}`,
      );
    },
  );
});
