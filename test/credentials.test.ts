import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { heraldJson, runHerald } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, PG_URL, type TestEnv } from './helpers/engines.js';
import { getJson, hmacHeaders } from './helpers/http.js';
import { startServer, type RunningServer } from './helpers/server.js';

interface Workspace {
  id: string;
  slug: string;
  mode: string;
  workspace_key: string;
  enhanced_security: boolean;
}

/** Everything the database holds, as one string: the SQLite files, or a pg_dump of the schema. */
function dumpDatabase(t: TestEnv): string {
  if (t.engine === 'postgres') {
    return execFileSync('pg_dump', ['--dbname', PG_URL, '--schema', t.schema as string, '--no-owner'], {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
  }
  const base = path.join(t.dataDir, 'herald.db');
  return [base, `${base}-wal`, `${base}-shm`]
    .filter((file) => existsSync(file))
    .map((file) => readFileSync(file).toString('latin1'))
    .join('\n');
}

for (const engine of enginesUnderTest()) {
  describe(`credentials on ${engine}`, () => {
    let t: TestEnv;
    let server: RunningServer;
    let staging: Workspace;
    let production: Workspace;

    before(async () => {
      t = await createTestEnv(engine);
      const list = await heraldJson<Workspace[]>(['workspace', 'list'], t.env);
      staging = list.find((w) => w.slug === 'staging') as Workspace;
      production = list.find((w) => w.slug === 'production') as Workspace;
      server = await startServer(t.env);
    });

    after(async () => {
      await server?.stop();
      await t?.cleanup();
    });

    test('first start creates staging (test, enhanced off) and production (live, enhanced on) with distinct URL-safe keys', () => {
      assert.equal(staging.mode, 'test');
      assert.equal(staging.enhanced_security, false);
      assert.equal(production.mode, 'live');
      assert.equal(production.enhanced_security, true);
      for (const w of [staging, production]) {
        assert.ok(w.workspace_key.length >= 20);
        assert.match(w.workspace_key, /^[A-Za-z0-9_-]+$/);
      }
      assert.notEqual(staging.workspace_key, production.workspace_key);
    });

    test('an API key is shown once and the database holds only its SHA-256 hash', async () => {
      const created = await heraldJson<{ id: string; key: string; display_prefix: string }>(
        ['api-key', 'create', 'staging', '--name', 'billing'],
        t.env,
      );
      assert.match(created.key, /^hak_test_[0-9A-Za-z]{36}$/);
      assert.ok(created.key.startsWith(created.display_prefix));

      const list = await runHerald(['api-key', 'list', 'staging', '--json'], t.env);
      assert.equal(list.code, 0);
      assert.ok(list.stdout.includes(created.id));
      assert.ok(!list.stdout.includes(created.key), 'list must not show the key again');

      const dump = dumpDatabase(t);
      const hash = execFileSync('sha256sum', { input: created.key, encoding: 'utf8' }).split(' ')[0] as string;
      assert.ok(dump.includes(hash), 'the dump must contain the hash (proves the search sees the data)');
      assert.ok(!dump.includes(created.key), 'plaintext API key found in the database');
      assert.ok(!dump.includes(created.key.slice(created.display_prefix.length)), 'secret part of the API key found in the database');

      const whoami = await getJson(`${server.url}/v1/auth/whoami`, { authorization: `Bearer ${created.key}` });
      assert.equal(whoami.status, 200);
      assert.equal(whoami.body['workspace'], 'staging');
    });

    test('workspace secrets are encrypted at rest and survive a restart', async () => {
      const before = await heraldJson<{ workspace_key: string; workspace_secret: string }>(['workspace', 'secret', 'staging'], t.env);
      assert.equal(before.workspace_key, staging.workspace_key);
      assert.match(before.workspace_secret, /^hws_test_[0-9A-Za-z]{46}$/);
      const dump = dumpDatabase(t);
      assert.ok(dump.includes(staging.workspace_key), 'the dump must contain the (non-secret) workspace key');
      assert.ok(!dump.includes(before.workspace_secret), 'plaintext workspace secret found in the database');
      assert.ok(!dump.includes(before.workspace_secret.slice(9, 40)), 'part of the workspace secret found in the database');

      const call = () =>
        getJson(
          `${server.url}/v1/auth/whoami`,
          hmacHeaders(before.workspace_key, before.workspace_secret, 'GET', '/v1/auth/whoami', undefined),
        );
      assert.equal((await call()).status, 200);
      await server.stop();
      server = await startServer(t.env);
      const afterRestart = await heraldJson<{ workspace_secret: string }>(['workspace', 'secret', 'staging'], t.env);
      assert.equal(afterRestart.workspace_secret, before.workspace_secret);
      const response = await call();
      assert.equal(response.status, 200);
      assert.deepEqual(response.body['credential'], { type: 'hmac', id: staging.workspace_key });
    });

    test('a signing key is shown once as PEM and Base64, its private half is never stored, and both forms sign accepted tokens', async () => {
      const created = await heraldJson<{ id: string; kid: string; pem: string; base64: string; public_key_pem: string }>(
        ['signing-key', 'create', 'staging', '--name', 'web'],
        t.env,
      );
      assert.equal(created.id, created.kid);
      assert.ok(created.pem.startsWith('-----BEGIN PRIVATE KEY-----'));
      assert.ok(created.base64.startsWith('LS0tLS1CRUdJTi'));
      assert.equal(Buffer.from(created.base64, 'base64').toString('utf8'), created.pem);

      const pemBody = created.pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
      const d = createPrivateKey(created.pem).export({ format: 'jwk' }).d as string;
      const publicBody = created.public_key_pem
        .replace(/-----[A-Z ]+-----/g, '')
        .replace(/\s+/g, '')
        .slice(0, 60);
      const dump = dumpDatabase(t).replace(/\s+/g, '');
      assert.ok(dump.includes(publicBody), 'the public key must be stored (proves the search sees the data)');
      for (const [label, needle] of [
        ['PEM body', pemBody.slice(0, 64)],
        ['Base64 form', created.base64.slice(0, 64)],
        ['private scalar (base64url)', d],
        ['private scalar (hex)', Buffer.from(d, 'base64url').toString('hex')],
      ] as const) {
        assert.ok(!dump.includes(needle), `private key material (${label}) found in the database`);
      }

      const listed = await runHerald(['signing-key', 'list', 'staging', '--json'], t.env);
      assert.ok(listed.stdout.includes(created.kid));
      assert.ok(!listed.stdout.includes(pemBody.slice(0, 40)));

      const publicKey = await heraldJson<{ id: string; key: string }>(['public-key', 'create', 'staging'], t.env);
      const keyFile = path.join(t.dataDir, 'signing-key.pem');
      writeFileSync(keyFile, created.pem, { mode: 0o600 });
      for (const keyArg of [created.pem, created.base64, `@${keyFile}`]) {
        const { token } = await heraldJson<{ token: string }>(
          ['token', 'sign', '--key', keyArg, '--user', 'alice', '--tenant', 'acme'],
          t.env,
        );
        const response = await getJson(`${server.url}/v1/auth/whoami`, { authorization: publicKey.key, 'x-ss-signature': token });
        assert.equal(response.status, 200, JSON.stringify(response.body));
        assert.deepEqual(response.body['subscriber'], { distinct_id: 'alice', tenant_ids: ['acme'], signing_key_id: created.kid });
      }
      const { token: untenanted } = await heraldJson<{ token: string }>(['token', 'sign', '--key', created.base64, '--user', 'bob'], t.env);
      const untenantedResponse = await getJson(`${server.url}/v1/auth/whoami`, {
        authorization: publicKey.key,
        'x-ss-signature': untenanted,
      });
      assert.deepEqual((untenantedResponse.body['subscriber'] as Record<string, unknown>)['tenant_ids'], ['default']);
    });

    test('every credential is confined to its workspace', async () => {
      const apiKey = await heraldJson<{ id: string; key: string }>(['api-key', 'create', 'staging', '--name', 'isolated'], t.env);
      const stagingPublic = await heraldJson<{ id: string; key: string }>(['public-key', 'create', 'staging'], t.env);
      const productionPublic = await heraldJson<{ id: string; key: string }>(['public-key', 'create', 'production'], t.env);
      const signing = await heraldJson<{ kid: string; pem: string }>(['signing-key', 'create', 'staging'], t.env);
      const stagingSecret = await heraldJson<{ workspace_secret: string }>(['workspace', 'secret', 'staging'], t.env);

      // Other workspace's ids answer exactly like missing ones, and change nothing.
      for (const [kind, id] of [
        ['api-key', apiKey.id],
        ['public-key', stagingPublic.id],
        ['signing-key', signing.kid],
      ] as const) {
        const crossed = await runHerald([kind, 'revoke', 'production', id, '--json'], t.env);
        const missing = await runHerald([kind, 'revoke', 'production', `${id}x`, '--json'], t.env);
        assert.equal(crossed.code, 1, `${kind} revoke across workspaces must fail`);
        const crossedError = JSON.parse(crossed.stderr) as { error: { code: string; message: string } };
        const missingError = JSON.parse(missing.stderr) as { error: { code: string; message: string } };
        assert.equal(crossedError.error.code, 'NOT_FOUND');
        assert.equal(crossedError.error.message.replace(id, '<id>'), missingError.error.message.replace(`${id}x`, '<id>'));
        const productionList = await runHerald([kind, 'list', 'production', '--json'], t.env);
        assert.ok(!productionList.stdout.includes(id), `${kind} of staging listed in production`);
      }
      assert.equal((await getJson(`${server.url}/v1/auth/whoami`, { authorization: `Bearer ${apiKey.key}` })).body['workspace'], 'staging');

      // A staging user token does not open production, even for the same user.
      const { token } = await heraldJson<{ token: string }>(['token', 'sign', '--key', signing.pem, '--user', 'alice'], t.env);
      assert.equal(
        (await getJson(`${server.url}/v1/auth/whoami`, { authorization: stagingPublic.key, 'x-ss-signature': token })).status,
        200,
      );
      const crossToken = await getJson(`${server.url}/v1/auth/whoami`, { authorization: productionPublic.key, 'x-ss-signature': token });
      assert.equal(crossToken.status, 401);

      // The staging secret does not sign for the production workspace key.
      const crossHmac = await getJson(
        `${server.url}/v1/auth/whoami`,
        hmacHeaders(production.workspace_key, stagingSecret.workspace_secret, 'GET', '/v1/auth/whoami', undefined),
      );
      assert.equal(crossHmac.status, 401);
      assert.equal((crossHmac.body['error'] as Record<string, unknown>)['type'], 'SIGNATURE_INVALID');
    });

    test('bad input gets a clear error, a non-zero exit, and changes nothing', async () => {
      // last_used_at is written in the background by the running server; everything else must hold still.
      const snapshot = async () =>
        JSON.stringify([
          await heraldJson(['workspace', 'list'], t.env),
          (await heraldJson<Array<Record<string, unknown>>>(['api-key', 'list', 'staging'], t.env)).map(
            ({ last_used_at: _, ...rest }) => rest,
          ),
          await heraldJson(['public-key', 'list', 'staging'], t.env),
        ]);
      const beforeState = await snapshot();
      const cases: Array<{ args: string[]; code: number; message: RegExp }> = [
        { args: ['api-key', 'create', 'nope', '--name', 'x'], code: 1, message: /unknown workspace "nope"/ },
        { args: ['workspace', 'secret', 'nope'], code: 1, message: /unknown workspace "nope"/ },
        { args: ['workspace', 'create', 'staging'], code: 1, message: /already exists/ },
        { args: ['workspace', 'create', 'Bad Slug'], code: 1, message: /invalid workspace slug/ },
        {
          args: ['api-key', 'create', 'staging', '--name', 'x', '--expires-in', 'soon'],
          code: 2,
          message: /--expires-in "soon" is not a duration/,
        },
        {
          args: ['api-key', 'create', 'staging', '--name', 'x', '--expires-in', '0'],
          code: 2,
          message: /--expires-in must be longer than 0/,
        },
        { args: ['token', 'sign', '--key', 'x', '--user', 'u', '--ttl', '0s'], code: 2, message: /--ttl must be longer than 0/ },
        { args: ['api-key', 'create', 'staging'], code: 2, message: /--name is required/ },
        { args: ['api-key', 'create', 'staging', '--name', 'x', '--bogus'], code: 2, message: /bogus/ },
        { args: ['public-key', 'create', 'staging', '--allowed-origin', 'https://x.example/path'], code: 1, message: /not an origin/ },
        { args: ['enhanced-security', 'staging', 'maybe'], code: 2, message: /on or off/ },
        { args: ['token', 'sign', '--key', 'not-a-key', '--user', 'u'], code: 2, message: /neither PEM nor Base64/ },
        { args: ['frobnicate'], code: 2, message: /unknown command/ },
      ];
      for (const c of cases) {
        const result = await runHerald(c.args, t.env);
        assert.equal(result.code, c.code, `herald ${c.args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, c.message, `herald ${c.args.join(' ')}`);
      }
      assert.equal(await snapshot(), beforeState);

      // `herald <command> --help` is that command's help, a group's for `herald api-key --help`.
      for (const args of [
        ['api-key', 'create', '--help'],
        ['api-key', '--help'],
      ]) {
        const help = await runHerald(args, t.env);
        assert.equal(help.code, 0);
        assert.match(help.stdout, /api-key create <ws> --name N/);
        assert.doesNotMatch(help.stdout, /signing-key|workspace create/);
      }
    });

    test('no secret appears in any server log line', () => {
      const log = server.output();
      assert.ok(!/hak_(test|live)_[0-9A-Za-z]{36}/.test(log), 'API key in server log');
      assert.ok(!/hws_(test|live)_[0-9A-Za-z]{46}/.test(log), 'workspace secret in server log');
      assert.ok(!/eyJ[0-9A-Za-z_-]+\.eyJ[0-9A-Za-z_-]+\.[0-9A-Za-z_-]+/.test(log), 'user token in server log');
    });
  });
}

describe('PostgreSQL mode without a master key', { skip: !enginesUnderTest().includes('postgres') }, () => {
  test('exits non-zero with a message and creates nothing', async () => {
    const t = await createTestEnv('postgres');
    try {
      const env = { ...t.env };
      delete env['HERALD_MASTER_KEY'];
      for (const args of [['workspace', 'list'], ['migrate'], ['serve']]) {
        const result = await runHerald(args, env);
        assert.equal(result.code, 1, `${args.join(' ')}: ${result.stdout}`);
        assert.match(result.stderr, /HERALD_MASTER_KEY is required/);
      }
      const pg = await import('pg');
      const client = new pg.default.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        const tables = await client.query(
          `select count(*)::int as n from information_schema.tables where table_schema = $1 and table_name = 'workspaces'`,
          [t.schema],
        );
        assert.equal(tables.rows[0].n, 0);
      } finally {
        await client.end();
      }
    } finally {
      await t.cleanup();
    }
  });
});

describe('embedded mode with HERALD_MASTER_KEY set to another key', () => {
  test('says that the key file is the right one and to unset the variable', async () => {
    const t = await createTestEnv('sqlite');
    try {
      const env = { ...t.env };
      delete env['HERALD_MASTER_KEY'];
      assert.equal((await runHerald(['workspace', 'list'], env)).code, 0, 'first start writes the key file');
      const other = (await runHerald(['master-key', 'generate'], env)).stdout.trim();
      const refused = await runHerald(['workspace', 'list'], { ...env, HERALD_MASTER_KEY: other });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /the key file .*master\.key is the right one: unset HERALD_MASTER_KEY to use it/);
      assert.equal((await runHerald(['workspace', 'list'], env)).code, 0, 'without the variable it works');
    } finally {
      await t.cleanup();
    }
  });
});
