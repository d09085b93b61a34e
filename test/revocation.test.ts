import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { openHerald } from '../src/runtime.js';
import { heraldJson } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { getJson, hmacHeaders } from './helpers/http.js';
import { startServer, type RunningServer } from './helpers/server.js';

/** The requirement: a change made by any tool is enforced by every running process within 1 s. */
const PROPAGATION_LIMIT_MS = 1_000;

type Call = (server: RunningServer) => Promise<{ status: number }>;

/**
 * Checks `call` succeeds on every server, runs `change` (a separate CLI process), then requires
 * every server to answer `expected` within the limit, measured from the moment the CLI finished.
 */
async function assertPropagates(servers: RunningServer[], call: Call, change: () => Promise<unknown>, expected: number): Promise<void> {
  for (const server of servers) assert.equal((await call(server)).status, 200, 'precondition: the credential works before the change');
  await change();
  const changedAt = Date.now();
  for (const server of servers) {
    let status = 0;
    while (Date.now() - changedAt <= PROPAGATION_LIMIT_MS) {
      status = (await call(server)).status;
      if (status === expected) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.equal(status, expected, `server ${server.url} still answered ${status} ${PROPAGATION_LIMIT_MS} ms after the change`);
  }
}

for (const engine of enginesUnderTest()) {
  describe(`revocation reaches every running server on ${engine}`, () => {
    let t: TestEnv;
    let servers: RunningServer[] = [];

    before(async () => {
      t = await createTestEnv(engine);
      await heraldJson(['workspace', 'list'], t.env);
      // Two server processes on one database, as in a scaled-out deployment (PostgreSQL; a SQLite
      // data directory is served by one process, and the CLI is the other process there).
      servers = engine === 'postgres' ? [await startServer(t.env), await startServer(t.env)] : [await startServer(t.env)];
    });

    after(async () => {
      await Promise.all(servers.map((s) => s.stop()));
      await t?.cleanup();
    });

    test('revoked API key', async () => {
      const key = await heraldJson<{ id: string; key: string }>(['api-key', 'create', 'staging', '--name', 'to-revoke'], t.env);
      await assertPropagates(
        servers,
        (s) => getJson(`${s.url}/v1/auth/whoami`, { authorization: `Bearer ${key.key}` }),
        () => heraldJson(['api-key', 'revoke', 'staging', key.id], t.env),
        401,
      );
    });

    test('rotated workspace secret with no grace period', async () => {
      const { workspace_key, workspace_secret } = await heraldJson<{ workspace_key: string; workspace_secret: string }>(
        ['workspace', 'secret', 'staging'],
        t.env,
      );
      let fresh = '';
      await assertPropagates(
        servers,
        (s) => getJson(`${s.url}/v1/auth/whoami`, hmacHeaders(workspace_key, workspace_secret, 'GET', '/v1/auth/whoami', undefined)),
        async () => {
          fresh = (await heraldJson<{ workspace_secret: string }>(['workspace', 'rotate-secret', 'staging', '--grace', '0'], t.env))
            .workspace_secret;
        },
        401,
      );
      for (const s of servers) {
        const response = await getJson(`${s.url}/v1/auth/whoami`, hmacHeaders(workspace_key, fresh, 'GET', '/v1/auth/whoami', undefined));
        assert.equal(response.status, 200);
      }
    });

    test('rotated workspace secret keeps the previous one during its grace period', async () => {
      const old = await heraldJson<{ workspace_key: string; workspace_secret: string }>(['workspace', 'secret', 'staging'], t.env);
      const rotated = await heraldJson<{ workspace_secret: string; previous_valid_until: number }>(
        ['workspace', 'rotate-secret', 'staging', '--grace', '1h'],
        t.env,
      );
      assert.ok(rotated.previous_valid_until > Date.now() + 3_500_000);
      await new Promise((resolve) => setTimeout(resolve, PROPAGATION_LIMIT_MS));
      for (const s of servers) {
        for (const secret of [old.workspace_secret, rotated.workspace_secret]) {
          const response = await getJson(
            `${s.url}/v1/auth/whoami`,
            hmacHeaders(old.workspace_key, secret, 'GET', '/v1/auth/whoami', undefined),
          );
          assert.equal(response.status, 200, 'both the previous and the new secret sign during the grace period');
        }
      }
    });

    test('revoked public key', async () => {
      const key = await heraldJson<{ id: string; key: string }>(['public-key', 'create', 'staging'], t.env);
      await assertPropagates(
        servers,
        (s) => getJson(`${s.url}/v1/auth/whoami`, { authorization: key.key }),
        () => heraldJson(['public-key', 'revoke', 'staging', key.id], t.env),
        401,
      );
    });

    test('revoked signing key, while another key stays valid (rotation with overlap)', async () => {
      const publicKey = await heraldJson<{ key: string }>(['public-key', 'create', 'staging'], t.env);
      const oldKey = await heraldJson<{ kid: string; base64: string }>(['signing-key', 'create', 'staging', '--name', 'old'], t.env);
      const newKey = await heraldJson<{ kid: string; base64: string }>(['signing-key', 'create', 'staging', '--name', 'new'], t.env);
      const oldToken = (await heraldJson<{ token: string }>(['token', 'sign', '--key', oldKey.base64, '--user', 'u1'], t.env)).token;
      const newToken = (await heraldJson<{ token: string }>(['token', 'sign', '--key', newKey.base64, '--user', 'u1'], t.env)).token;
      const call = (token: string) => (s: RunningServer) =>
        getJson(`${s.url}/v1/auth/whoami`, { authorization: publicKey.key, 'x-ss-signature': token });
      // Both signing keys are active at once; each verifies its own tokens.
      await new Promise((resolve) => setTimeout(resolve, PROPAGATION_LIMIT_MS));
      for (const s of servers) assert.equal((await call(newToken)(s)).status, 200);
      await assertPropagates(servers, call(oldToken), () => heraldJson(['signing-key', 'revoke', 'staging', oldKey.kid], t.env), 401);
      for (const s of servers) assert.equal((await call(newToken)(s)).status, 200, 'the other signing key keeps working');
    });

    test('a workflow changed through the CLI is what every server renders within 1 s', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'herald-wf-'));
      const file = path.join(dir, 'workflow.json');
      const apply = async (header: string) => {
        writeFileSync(
          file,
          JSON.stringify({ slug: 'propagated', category: 'transactional', steps: [{ type: 'inbox', template: { header, text: 'x' } }] }),
        );
        await heraldJson(['workflow', 'apply', 'staging', file], t.env);
      };
      const { workspace_key, workspace_secret } = await heraldJson<{ workspace_key: string; workspace_secret: string }>(
        ['workspace', 'secret', 'staging'],
        t.env,
      );
      const reader = await openHerald(t.config);
      const headerRenderedBy = async (server: RunningServer): Promise<unknown> => {
        const body = JSON.stringify({ workflow: 'propagated', recipients: ['propagation-user'], data: {} });
        const response = await fetch(`${server.url}/trigger/`, {
          method: 'POST',
          headers: hmacHeaders(workspace_key, workspace_secret, 'POST', '/trigger/', body),
          body,
        });
        assert.equal(response.status, 202);
        const { message_id } = (await response.json()) as { message_id: string };
        const row = await reader.db
          .selectFrom('notifications')
          .select('content')
          .where('execution_id', '=', message_id)
          .executeTakeFirstOrThrow();
        return (JSON.parse(row.content) as { message: { header: unknown } }).message.header;
      };
      try {
        await apply('Version one');
        await new Promise((resolve) => setTimeout(resolve, PROPAGATION_LIMIT_MS));
        for (const server of servers)
          assert.equal(await headerRenderedBy(server), 'Version one', 'precondition: each server rendered (and kept) v1');
        await apply('Version two');
        const changedAt = Date.now();
        for (const server of servers) {
          let header: unknown;
          while (Date.now() - changedAt <= PROPAGATION_LIMIT_MS) {
            header = await headerRenderedBy(server);
            if (header === 'Version two') break;
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
          assert.equal(
            header,
            'Version two',
            `server ${server.url} still rendered the old workflow ${PROPAGATION_LIMIT_MS} ms after the change`,
          );
        }
      } finally {
        await reader.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('enhanced security mode turned on', async () => {
      const key = await heraldJson<{ key: string }>(['public-key', 'create', 'staging'], t.env);
      await heraldJson(['enhanced-security', 'staging', 'off'], t.env);
      await new Promise((resolve) => setTimeout(resolve, PROPAGATION_LIMIT_MS));
      await assertPropagates(
        servers,
        (s) => getJson(`${s.url}/v1/auth/whoami`, { authorization: key.key }),
        () => heraldJson(['enhanced-security', 'staging', 'on'], t.env),
        401,
      );
    });
  });
}

for (const engine of enginesUnderTest()) {
  describe(`a signing key is usable everywhere as soon as it is created on ${engine}`, () => {
    let t: TestEnv;
    let server: RunningServer | undefined;

    before(async () => {
      // The slowest change-feed poll allowed: acceptance must not wait for it.
      t = await createTestEnv(engine, { HERALD_INVALIDATION_POLL_MS: '1000' });
      await heraldJson(['workspace', 'list'], t.env);
      server = await startServer(t.env);
    });

    after(async () => {
      await server?.stop();
      await t?.cleanup();
    });

    test('a token signed with a key created through another process is accepted at once', async () => {
      const running = server as RunningServer;
      const publicKey = await heraldJson<{ key: string }>(['public-key', 'create', 'staging'], t.env);
      const first = await heraldJson<{ pem: string; kid: string }>(['signing-key', 'create', 'staging', '--name', 'first'], t.env);
      const sign = (key: { pem: string; kid: string }) =>
        new SignJWT({ entity_type: 'subscriber', entity_id: 'fresh-key-user' })
          .setProtectedHeader({ alg: 'ES256', kid: key.kid })
          .setIssuedAt()
          .setExpirationTime('1h')
          .sign(createPrivateKey(key.pem));
      const call = async (token: string) =>
        (await getJson(`${running.url}/v1/auth/whoami`, { authorization: publicKey.key, 'x-ss-signature': token })).status;
      // The server holds the workspace's signing keys in its cache (just the first one).
      await waitForStatus(() => sign(first).then(call), 200);

      // Created by this process (not the server), right before the call: well inside one poll.
      const other = await openHerald(t.config);
      let second: { pem: string; kid: string };
      try {
        second = await other.signingKeys.create(await other.workspaces.get('staging'), { name: 'second' });
      } finally {
        await other.close();
      }
      assert.equal(await call(await sign(second)), 200, 'refused until the change feed caught up');
      // A kid nobody created stays refused.
      const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      assert.equal(await call(await sign({ pem: stranger, kid: 'hsk_unknown' })), 401);
    });
  });
}

async function waitForStatus(call: () => Promise<number>, expected: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  let status = await call();
  while (status !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    status = await call();
  }
  assert.equal(status, expected);
}
