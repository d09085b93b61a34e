import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { io as connectSocket, type Socket as ClientSocket } from 'socket.io-client';
import { openHerald } from '../src/runtime.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { heraldJson } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, PG_URL, type TestEnv } from './helpers/engines.js';
import { hmacHeaders } from './helpers/http.js';
import { startServer, type RunningServer } from './helpers/server.js';

/**
 * Scale-out as operators run it: three `herald serve` processes on one PostgreSQL database and one
 * Redis. A credential revoked through one process is refused by the others within 1 s; a trigger
 * accepted by one reaches a socket connected to another; a broadcast to 10,000 list members
 * reaches each exactly once although the process delivering it is killed (SIGKILL) midway.
 */

const REDIS_URL = process.env['HERALD_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const PROPAGATION_LIMIT_MS = 1_000;
const MEMBERS = 10_000;
const LIST = 'cluster-all';
const WORKFLOW = 'cluster-inbox';

interface Staging {
  workspaceKey: string;
  secret: string;
  publicKey: string;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('three herald serve processes on PostgreSQL and Redis', { skip: !enginesUnderTest().includes('postgres') }, () => {
  let t: TestEnv;
  let staging: Staging;
  let nodes: RunningServer[] = [];
  const sockets: ClientSocket[] = [];
  let db: pg.Client;

  const signed = async (node: RunningServer, method: 'GET' | 'POST', target: string, payload?: unknown) => {
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    const response = await fetch(`${node.url}${target}`, {
      method,
      headers: hmacHeaders(staging.workspaceKey, staging.secret, method, target, body),
      ...(body === undefined ? {} : { body }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  before(async () => {
    t = await createTestEnv('postgres', { HERALD_REDIS_URL: REDIS_URL, HERALD_JOB_LEASE: '5s' });
    const herald = await openHerald(t.config);
    try {
      const workspace = await herald.workspaces.get('staging');
      await new WorkflowService(herald).apply(workspace.id, [
        { slug: WORKFLOW, category: 'transactional', steps: [{ type: 'inbox', template: { text: 'Hello {{recipient.distinct_id}}' } }] },
      ]);
      staging = {
        workspaceKey: workspace.workspaceKey,
        secret: await herald.workspaceSecrets.reveal(workspace.id),
        publicKey: (await herald.publicKeys.create(workspace, { name: 'cluster' })).key,
      };
    } finally {
      await herald.close();
    }
    // LOG_LEVEL=debug: each process logs the jobs it claims, so the test knows whom to kill.
    nodes = await Promise.all([1, 2, 3].map(() => startServer({ ...t.env, LOG_LEVEL: 'debug' })));
    db = new pg.Client({ connectionString: PG_URL, options: `-c search_path=${t.schema as string}` });
    await db.connect();
  });

  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await db?.end();
    await Promise.all(nodes.map((node) => node.stop()));
    await t?.cleanup();
  });

  test('an API key revoked through node 1 is refused by nodes 2 and 3 within 1 s', async () => {
    const key = await heraldJson<{ id: string; key: string }>(['api-key', 'create', 'staging', '--name', 'cluster'], t.env);
    const token = await heraldJson<{ token: string }>(['service-token', 'create', '--name', 'cluster', '--role', 'admin'], t.env);
    const whoami = async (node: RunningServer) =>
      (await fetch(`${node.url}/v1/auth/whoami`, { headers: { authorization: `Bearer ${key.key}` } })).status;
    for (const node of nodes) assert.equal(await whoami(node), 200, 'the key works everywhere first');

    const revoked = await fetch(`${nodes[0]?.url}/admin/api/workspaces/staging/api-keys/${key.id}`, {
      method: 'DELETE',
      headers: { authorization: `ServiceToken ${token.token}` },
    });
    assert.equal(revoked.status, 200, await revoked.text());
    const revokedAt = Date.now();
    assert.equal(await whoami(nodes[0] as RunningServer), 401, 'the node that revoked it refuses it at once');
    for (const node of nodes.slice(1)) {
      await until(`node ${node.url} refusing the revoked key`, PROPAGATION_LIMIT_MS, async () =>
        (await whoami(node)) === 401 ? true : undefined,
      );
      assert.ok(Date.now() - revokedAt <= PROPAGATION_LIMIT_MS + 200);
    }
  });

  test('a trigger accepted by node 2 reaches a socket connected to node 3', async () => {
    const socket = connectSocket(nodes[2]?.url as string, {
      transports: ['websocket'],
      auth: { schema: '1', authorization: staging.publicKey, distinct_id: 'cluster-rt', tenant_id: 'default' },
      reconnection: false,
      forceNew: true,
    });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (error) => reject(error));
    });
    const arrived = new Promise<{ n_id: string }>((resolve) => socket.once('new_notification', resolve));
    const accepted = await signed(nodes[1] as RunningServer, 'POST', '/trigger/', {
      workflow: WORKFLOW,
      recipients: ['cluster-rt'],
      data: {},
    });
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    const event = await Promise.race([
      arrived,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no new_notification within 10 s')), 10_000)),
    ]);
    const stored = await db.query('select distinct_id from notifications where id = $1', [event.n_id]);
    assert.equal(stored.rows[0]?.distinct_id, 'cluster-rt');
  });

  test(
    'a broadcast to 10,000 members is delivered exactly once each while the delivering node is killed',
    { timeout: 300_000 },
    async () => {
      const node1 = nodes[0] as RunningServer;
      assert.equal((await signed(node1, 'POST', '/v1/subscriber_list/', { list_id: LIST })).status, 200);
      for (let start = 0; start < MEMBERS; start += 1_000) {
        const ids = Array.from({ length: 1_000 }, (_, i) => `member-${String(start + i).padStart(5, '0')}`);
        const added = await signed(node1, 'POST', `/v1/subscriber_list/${LIST}/subscriber/add/`, { distinct_ids: ids });
        assert.equal(added.status, 200, JSON.stringify(added.body));
      }
      const broadcast = await signed(node1, 'POST', `/${staging.workspaceKey}/broadcast/`, { list_id: LIST, template: WORKFLOW, data: {} });
      assert.equal(broadcast.status, 202, JSON.stringify(broadcast.body));
      const jobId = broadcast.body['message_id'] as string;
      const job = await db.query<{ payload: string }>('select payload from jobs where id = $1', [jobId]);
      const executionId = (JSON.parse(job.rows[0]?.payload as string) as { executionId: string }).executionId;
      const delivered = async () => {
        const result = await db.query<{ n: string; users: string }>(
          'select count(*) as n, count(distinct distinct_id) as users from notifications where execution_id = $1',
          [executionId],
        );
        return { n: Number(result.rows[0]?.n), users: Number(result.rows[0]?.users) };
      };
      const claimed = (node: RunningServer) => node.output().includes(`"jobId":"${jobId}"`);

      const worker = await until('a node claiming the broadcast', 30_000, async () => nodes.find(claimed));
      await until('the broadcast under way', 60_000, async () => ((await delivered()).n > 0 ? true : undefined));
      const before = await delivered();
      worker.process.kill('SIGKILL');
      await new Promise((resolve) => worker.process.once('exit', resolve));
      assert.ok(before.n < MEMBERS, `killed midway (${before.n} of ${MEMBERS} delivered)`);

      // Another node resumes the job once the lease (5 s) has run out.
      await until('the broadcast to finish', 240_000, async () => {
        const row = await db.query<{ status: string }>('select status from jobs where id = $1', [jobId]);
        return row.rows[0]?.status === 'done' ? true : undefined;
      });
      const taker = nodes.find((node) => node !== worker && claimed(node));
      assert.ok(taker, 'a surviving node took the job over');
      assert.deepEqual(await delivered(), { n: MEMBERS, users: MEMBERS });
    },
  );
});
