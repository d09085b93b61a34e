import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAdminGroupDeps } from '../src/admin/admin-group.js';
import { UserService } from '../src/users/users.service.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import type { Workspace } from '../src/workspaces/workspaces.service.js';
import { heraldJson, runHerald } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

/**
 * API key scopes (src/auth/api-key-scope.ts): full, trigger-only, read-only, and limits to route
 * groups, enforced on every backend route with a 403 that names what is missing; a refused request
 * changes nothing. Settable from the admin API and the CLI, shown in lists and by whoami.
 */

const CLI_ACTOR = { type: 'cli' as const, id: null, label: 'cli:test', ip: null };

for (const engine of enginesUnderTest()) {
  describe(`API key scopes on ${engine}`, { timeout: 120_000 }, () => {
    let t: TestEnv;
    let h: InProcess;
    let staging: Workspace;
    let adminToken: string;
    const keys: Record<string, string> = {};

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      staging = await h.herald.workspaces.get('staging');
      await new WorkflowService(h.herald).apply(staging.id, [
        { slug: 'scoped', category: 'transactional', steps: [{ type: 'inbox', template: { text: 'Hi' } }] },
      ]);
      const deps = createAdminGroupDeps(h.herald);
      adminToken = (await deps.serviceTokens.create({ name: 'deployer', role: 'admin' }, { kind: 'cli' }, CLI_ACTOR)).token;
      const make = async (name: string, scope?: string, route_groups?: string[]) => {
        const res = await admin('POST', '/admin/api/workspaces/staging/api-keys', { name, scope, route_groups });
        assert.equal(res.statusCode, 201, res.body);
        keys[name] = (res.json() as { key: string }).key;
      };
      await make('full');
      await make('trigger', 'trigger');
      await make('read', 'read');
      await make('read-users', 'read', ['users']);
      await make('full-lists', 'full', ['lists']);
      await new UserService(h.herald).upsert(staging.id, 'scoped-alice', { name: 'Alice' });
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    function admin(method: 'GET' | 'POST', url: string, payload?: unknown) {
      return h.app.inject({
        method,
        url,
        headers: { authorization: `ServiceToken ${adminToken}`, origin: 'http://localhost' },
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });
    }

    function call(key: string, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown) {
      return h.app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${keys[key]}` },
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      });
    }

    const trigger = { workflow: 'scoped', recipients: ['scoped-alice'], data: {} };

    function assertRefused(res: { statusCode: number; body: string }, pattern: RegExp) {
      assert.equal(res.statusCode, 403, res.body);
      const body = JSON.parse(res.body) as { message?: string; error?: { message?: string } };
      assert.match(body.message ?? body.error?.message ?? '', pattern, res.body);
    }

    test('a full key reaches every group', async () => {
      assert.equal((await call('full', 'GET', '/v1/user/scoped-alice')).statusCode, 200);
      assert.equal((await call('full', 'POST', '/trigger/', trigger)).statusCode, 202);
      assert.equal((await call('full', 'POST', '/v1/tenant/acme', { tenant_name: 'Acme' })).statusCode, 200);
    });

    test('a trigger-only key triggers and sends events, and reads or changes nothing else', async () => {
      assert.equal((await call('trigger', 'POST', '/trigger/', trigger)).statusCode, 202);
      assert.equal((await call('trigger', 'POST', '/event/', { event: 'signed_up', distinct_id: 'scoped-alice' })).statusCode, 202);
      assertRefused(await call('trigger', 'GET', '/v1/user/scoped-alice'), /trigger-only.*GET \/v1\/user\/:id.*"read"/);
      const before = await h.herald.db.selectFrom('users').select('distinct_id').where('distinct_id', '=', 'scoped-mallory').execute();
      assertRefused(await call('trigger', 'POST', '/v1/user/scoped-mallory', { name: 'M' }), /trigger-only.*"full"/);
      const afterRows = await h.herald.db.selectFrom('users').select('distinct_id').where('distinct_id', '=', 'scoped-mallory').execute();
      assert.deepEqual(afterRows, before, 'the refused write changed nothing');
    });

    test('a read-only key reads, and may not write or trigger', async () => {
      assert.equal((await call('read', 'GET', '/v1/user/scoped-alice')).statusCode, 200);
      assert.equal((await call('read', 'GET', '/v1/tenant/')).statusCode, 200);
      assertRefused(await call('read', 'PATCH', '/v1/user/scoped-alice', { operations: [{ $set: { plan: 'x' } }] }), /read-only.*"full"/);
      assertRefused(await call('read', 'POST', '/trigger/', trigger), /read-only.*POST \/trigger.*"trigger"/);
      assertRefused(await call('read', 'DELETE', '/v1/user/scoped-alice'), /read-only/);
      assert.equal((await call('full', 'GET', '/v1/user/scoped-alice')).statusCode, 200, 'alice is still there');
    });

    test('route groups limit a key further', async () => {
      assert.equal((await call('read-users', 'GET', '/v1/user/scoped-alice')).statusCode, 200);
      assertRefused(await call('read-users', 'GET', '/v1/tenant/'), /limited to the route groups users.*"tenants"/);
      assert.equal((await call('full-lists', 'POST', '/v1/subscriber_list/', { list_id: 'scoped-list' })).statusCode, 200);
      assertRefused(await call('full-lists', 'POST', '/trigger/', trigger), /limited to the route groups lists.*"ingest"/);
    });

    test('whoami answers every key and shows its scope', async () => {
      const res = await call('read-users', 'GET', '/v1/auth/whoami');
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual((res.json() as { credential: Record<string, unknown> }).credential['scope'], 'read');
      assert.deepEqual((res.json() as { credential: Record<string, unknown> }).credential['route_groups'], ['users']);
    });

    test('HMAC-signed requests are the workspace itself: never scoped', async () => {
      assert.equal((await h.signed('GET', '/v1/tenant/')).statusCode, 200);
    });

    test('the admin API lists scopes and refuses bad ones with a 400 that creates nothing', async () => {
      const list = (await admin('GET', '/admin/api/workspaces/staging/api-keys')).json() as {
        api_keys: Array<{ name: string; scope: string; route_groups: string[] | null }>;
      };
      const byName = Object.fromEntries(list.api_keys.map((k) => [k.name, k]));
      assert.equal(byName['full']?.scope, 'full');
      assert.equal(byName['full']?.route_groups, null);
      assert.equal(byName['trigger']?.scope, 'trigger');
      assert.deepEqual(byName['read-users']?.route_groups, ['users']);
      const count = list.api_keys.length;
      for (const [body, pattern] of [
        [{ name: 'x', scope: 'admin' }, /scope must be one of full, trigger, read/],
        [{ name: 'x', scope: 'read', route_groups: ['nope'] }, /unknown route group "nope"/],
        [{ name: 'x', scope: 'trigger', route_groups: ['users'] }, /trigger-scoped key/],
      ] as const) {
        const res = await admin('POST', '/admin/api/workspaces/staging/api-keys', body);
        assert.equal(res.statusCode, 400, res.body);
        assert.match((res.json() as { message: string }).message, pattern);
      }
      const again = (await admin('GET', '/admin/api/workspaces/staging/api-keys')).json() as { api_keys: unknown[] };
      assert.equal(again.api_keys.length, count, 'nothing was created');
    });

    test('the CLI creates scoped keys and lists their scope', async () => {
      const created = await heraldJson<{ key: string; scope: string; route_groups: string[] | null }>(
        ['api-key', 'create', 'staging', '--name', 'cli-read', '--scope', 'read', '--groups', 'users,lists'],
        t.env,
      );
      assert.equal(created.scope, 'read');
      assert.deepEqual(created.route_groups, ['lists', 'users']);
      const list = await runHerald(['api-key', 'list', 'staging'], t.env);
      assert.equal(list.code, 0, list.stderr);
      assert.match(list.stdout, /read \(lists, users\)/);
      const refused = await runHerald(['api-key', 'create', 'staging', '--name', 'bad', '--scope', 'root'], t.env);
      assert.notEqual(refused.code, 0);
      assert.match(refused.stderr, /scope must be one of full, trigger, read/);
    });
  });
}
