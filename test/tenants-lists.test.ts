import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ListService } from '../src/lists/lists.service.js';
import { TenantService } from '../src/tenants/tenants.service.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { hmacHeaders } from './helpers/http.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { suprsendClient } from './helpers/sdk.js';

type Client = ReturnType<typeof suprsendClient>;
type Json = Record<string, unknown>;

interface Page {
  meta: { count: number; limit: number; offset: number };
  results: Json[];
}

interface Credentials {
  id: string;
  workspaceKey: string;
  secret: string;
}

/** What the SDK throws for a non-2xx answer: `SuprsendApiError("<status>: <message>")`. */
function apiError(status: number, pattern: RegExp = /./): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'SuprsendApiError');
    assert.match(error.message, new RegExp(`^${status}: `));
    assert.match(error.message, pattern);
    return true;
  };
}

/** JSON the way Python's json.dumps writes it: ", " and ": " separators, non-ASCII kept. */
function pythonJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([key, v]) => `${JSON.stringify(key)}: ${pythonJson(v)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}

for (const engine of enginesUnderTest()) {
  describe(`tenants and subscriber lists on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;
    let client: Client;
    let staging: Credentials;
    let other: Credentials;
    let otherClient: Client;

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      staging = h.staging;
      client = suprsendClient(staging.workspaceKey, staging.secret, h.baseUrl);
      const ws = await h.herald.workspaces.create({ slug: 'other' });
      other = { id: ws.id, workspaceKey: ws.workspaceKey, secret: await h.herald.workspaceSecrets.reveal(ws.id) };
      otherClient = suprsendClient(other.workspaceKey, other.secret, h.baseUrl);
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    /** A request signed and shaped as the Python SDK sends it (bodiless DELETE: Content-Length 0, empty MD5). */
    async function python(
      method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
      target: string,
      body?: unknown,
      as: Credentials = staging,
    ): Promise<{ status: number; body: Json }> {
      const text = body === undefined ? (method === 'DELETE' ? '' : undefined) : pythonJson(body);
      const headers = hmacHeaders(as.workspaceKey, as.secret, method, target, text);
      const response = await fetch(`${h.baseUrl}${target}`, {
        method,
        headers: text === '' ? { ...headers, 'content-length': '0' } : headers,
        ...(text === undefined ? {} : { body: text }),
      });
      return { status: response.status, body: (await response.json()) as Json };
    }

    async function tenantRow(workspaceId: string, tenantId: string) {
      return h.herald.db
        .selectFrom('tenants')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
    }

    async function members(listId: string, versionId = ''): Promise<Array<{ distinct_id: string; created_at: number }>> {
      return h.herald.db
        .selectFrom('list_members')
        .select(['distinct_id', 'created_at'])
        .where('workspace_id', '=', staging.id)
        .where('list_id', '=', listId)
        .where('version_id', '=', versionId)
        .orderBy('distinct_id')
        .execute();
    }

    async function memberIds(listId: string, versionId = ''): Promise<string[]> {
      return (await members(listId, versionId)).map((m) => m.distinct_id);
    }

    async function versionStatuses(listId: string): Promise<Record<string, string>> {
      const rows = await h.herald.db
        .selectFrom('list_versions')
        .select(['version_id', 'status'])
        .where('workspace_id', '=', staging.id)
        .where('list_id', '=', listId)
        .execute();
      return Object.fromEntries(rows.map((r) => [r.version_id, r.status]));
    }

    test('the default tenant exists before anyone saves it', async () => {
      const tenant = await client.tenants.get('default');
      assert.equal(tenant['tenant_id'], 'default');
      assert.equal(tenant['tenant_name'], 'Default');
      assert.deepEqual(tenant['blocked_channels'], []);
      assert.equal(typeof tenant['created_at'], 'string');
      assert.equal(await tenantRow(staging.id, 'default'), undefined, 'reading the default tenant must not write it');
      const service = new TenantService(h.herald);
      assert.equal((await service.get(staging.id, 'default')).tenant_name, 'Default');
      await assert.rejects(service.get(staging.id, 'nope'), (error: unknown) => (error as { code?: string }).code === 'NOT_FOUND');
    });

    test('tenants.upsert creates and then merges; get and list return what was stored', async () => {
      const createdAt = h.clock.now();
      const created = await client.tenants.upsert('acme', {
        tenant_name: 'Acme',
        logo: 'https://acme.example/logo.png',
        primary_color: '#ff0000',
        social_links: { website: 'https://acme.example' },
        blocked_channels: ['sms'],
        properties: { plan: 'pro' },
        support_email: 'help@acme.example',
      });
      assert.deepEqual(created, {
        tenant_id: 'acme',
        tenant_name: 'Acme',
        logo: 'https://acme.example/logo.png',
        timezone: null,
        blocked_channels: ['sms'],
        embedded_preference_url: null,
        hosted_preference_domain: null,
        primary_color: '#ff0000',
        secondary_color: null,
        tertiary_color: null,
        social_links: { website: 'https://acme.example' },
        properties: { plan: 'pro' },
        support_email: 'help@acme.example',
        created_at: new Date(createdAt).toISOString(),
        updated_at: new Date(createdAt).toISOString(),
      });

      h.clock.advance(1000);
      const merged = await client.tenants.upsert('acme', { secondary_color: '#00ff00', logo: null });
      assert.equal(merged['tenant_name'], 'Acme', 'a payload without tenant_name keeps the name');
      assert.equal(merged['primary_color'], '#ff0000');
      assert.equal(merged['secondary_color'], '#00ff00');
      assert.equal(merged['logo'], null, 'null clears a field');
      assert.equal(merged['created_at'], new Date(createdAt).toISOString());
      assert.equal(merged['updated_at'], new Date(createdAt + 1000).toISOString());
      assert.deepEqual(await client.tenants.get('acme'), merged);

      const row = await tenantRow(staging.id, 'acme');
      assert.equal(row?.name, 'Acme');
      const stored = JSON.parse(row?.properties ?? '{}') as Json;
      assert.equal(stored['tenant_name'], undefined, 'the name lives in its column only');
      assert.equal('logo' in stored, false);
      assert.deepEqual(stored['properties'], { plan: 'pro' });

      // encodeURI keeps the space as %20; the id comes back decoded.
      const spaced = await client.tenants.upsert('Acme Corp', { tenant_name: 'Acme Corp' });
      assert.equal(spaced['tenant_id'], 'Acme Corp');
      assert.equal((await client.tenants.get('Acme Corp'))['tenant_name'], 'Acme Corp');

      const all = (await client.tenants.list({ limit: 10, offset: 0 })) as Page;
      assert.deepEqual(all.meta, { count: 3, limit: 10, offset: 0 });
      const ids = all.results.map((r) => r['tenant_id']);
      assert.equal(ids[0], 'default', 'the default tenant is listed first');
      assert.deepEqual(ids.slice(1).sort(), ['Acme Corp', 'acme'].sort());
      const second = (await client.tenants.list({ limit: 1, offset: 1 })) as Page;
      assert.deepEqual(second.meta, { count: 3, limit: 1, offset: 1 });
      assert.deepEqual(
        second.results.map((r) => r['tenant_id']),
        [ids[1]],
      );
      const defaults = (await client.tenants.list()) as Page;
      assert.equal(defaults.meta.limit, 20);

      await assert.rejects(client.tenants.get('missing'), apiError(404, /tenant "missing" not found/));
    });

    test('brands are the same records under brand_* keys', async () => {
      const brand = await client.brands.upsert('brandy', { brand_name: 'Brandy', primary_color: '#123456' });
      assert.equal(brand['brand_id'], 'brandy');
      assert.equal(brand['brand_name'], 'Brandy');
      assert.equal(brand['tenant_id'], undefined);
      assert.equal(brand['primary_color'], '#123456');
      assert.deepEqual(await client.brands.get('brandy'), brand);
      assert.equal((await client.tenants.get('brandy'))['tenant_name'], 'Brandy');
      assert.equal((await tenantRow(staging.id, 'brandy'))?.name, 'Brandy');
      const page = (await client.brands.list({ limit: 100 })) as Page;
      assert.ok(page.results.some((r) => r['brand_id'] === 'brandy' && r['brand_name'] === 'Brandy'));
      assert.ok(page.results.every((r) => !('tenant_id' in r)));
      await assert.rejects(client.brands.get('nope'), apiError(404));
    });

    test('bad tenant input is a 400 that changes nothing', async () => {
      const before = await tenantRow(staging.id, 'acme');
      for (const payload of [
        { tenant_name: 5 },
        { tenant_name: '   ' },
        { primary_color: 'red' },
        { blocked_channels: 'email' },
        { properties: [1, 2] },
        { social_links: { website: 7 } },
      ]) {
        await assert.rejects(client.tenants.upsert('acme', payload), apiError(400), JSON.stringify(payload));
      }
      assert.deepEqual(await tenantRow(staging.id, 'acme'), before);

      await assert.rejects(client.tenants.upsert('x'.repeat(65), { tenant_name: 'Long' }), apiError(400, /at most 64/));
      const slash = await python('POST', '/v1/tenant/a%2Fb/', { tenant_name: 'Slash' });
      assert.equal(slash.status, 400);
      assert.match(String(slash.body['message']), /must not contain "\/"/);
      const notObject = await python('POST', '/v1/tenant/acme/', ['not', 'an', 'object']);
      assert.equal(notObject.status, 400);
      assert.deepEqual(await tenantRow(staging.id, 'acme'), before);
      const count = await h.herald.db
        .selectFrom('tenants')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('workspace_id', '=', staging.id)
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 3, 'no tenant was created by a rejected request');
    });

    test('Python: tenant category preferences and DELETE', async () => {
      const patched = await python('PATCH', '/v1/tenant/acme/preference/category/transactional/', {
        enabled_for_tenant: true,
        blocked_channels: ['sms'],
        visible_to_subscriber: false,
        preference: 'cant_unsubscribe',
        mandatory_channels: ['email'],
        opt_in_channels: null,
        digest_schedule: { frequency: 'daily', time: '09:00' },
        properties: null,
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(patched.body['category'], 'transactional');
      assert.equal(patched.body['preference'], 'cant_unsubscribe');
      assert.equal(patched.body['visible_to_subscriber'], false);
      assert.deepEqual(patched.body['mandatory_channels'], ['email']);
      assert.deepEqual(patched.body['opt_in_channels'], [], 'null means the default');
      assert.deepEqual(patched.body['digest_schedule'], { frequency: 'daily', time: '09:00' });

      const row = await h.herald.db
        .selectFrom('tenant_category_preferences')
        .selectAll()
        .where('workspace_id', '=', staging.id)
        .where('tenant_id', '=', 'acme')
        .executeTakeFirstOrThrow();
      assert.equal(row.category, 'transactional');
      assert.deepEqual(JSON.parse(row.settings), {
        enabled_for_tenant: true,
        blocked_channels: ['sms'],
        visible_to_subscriber: false,
        preference: 'cant_unsubscribe',
        mandatory_channels: ['email'],
        digest_schedule: { frequency: 'daily', time: '09:00' },
      });

      const read = await python('GET', '/v1/tenant/acme/preference/category/transactional/');
      assert.deepEqual(read.body, patched.body);
      const listed = await python('GET', '/v1/tenant/acme/preference/category/?limit=10&offset=0');
      assert.equal(listed.status, 200);
      assert.deepEqual(listed.body['meta'], { count: 1, limit: 10, offset: 0 });
      assert.deepEqual(
        (listed.body['results'] as Json[]).map((r) => r['category']),
        ['transactional'],
      );

      const goPath = await python('GET', '/v1/tenant/acme/category');
      assert.equal(goPath.status, 200, 'the Go SDK lists categories at /v1/tenant/{id}/category');
      assert.deepEqual(goPath.body['meta'], { count: 1, limit: 20, offset: 0 });
      assert.deepEqual(
        (goPath.body['results'] as Json[]).map((r) => r['category']),
        ['transactional'],
      );

      // The Go SDK's empty-string preference resets to the category default, like null.
      const reset = await python('PATCH', '/v1/tenant/acme/preference/category/transactional/', { preference: '' });
      assert.equal(reset.body['preference'], null);
      assert.equal(reset.body['visible_to_subscriber'], false, 'fields not sent are kept');

      const untouched = await python('GET', '/v1/tenant/default/preference/category/newsletter/');
      assert.equal(untouched.status, 200);
      assert.equal(untouched.body['enabled_for_tenant'], true);
      assert.equal(untouched.body['updated_at'], null);

      const settingsBefore = await python('GET', '/v1/tenant/acme/preference/category/transactional/');
      for (const body of [{ preference: 'sometimes' }, { visible_to_subscriber: 'yes' }, { blocked_channels: [1] }, { colour: 'blue' }]) {
        const bad = await python('PATCH', '/v1/tenant/acme/preference/category/transactional/', body);
        assert.equal(bad.status, 400, JSON.stringify(body));
        assert.equal((bad.body['error'] as Json)['type'], 'VALIDATION_FAILED');
      }
      assert.deepEqual(await python('GET', '/v1/tenant/acme/preference/category/transactional/'), settingsBefore);
      assert.equal((await python('PATCH', '/v1/tenant/nope/preference/category/transactional/', { preference: 'opt_in' })).status, 404);
      assert.equal((await python('GET', '/v1/tenant/nope/preference/category/')).status, 404);

      const gone = await python('DELETE', '/v1/tenant/brandy/');
      assert.equal(gone.status, 200);
      assert.deepEqual(gone.body, { success: true });
      await assert.rejects(client.tenants.get('brandy'), apiError(404));
      assert.equal((await python('DELETE', '/v1/tenant/brandy/')).status, 404);
      assert.equal((await python('DELETE', '/v1/tenant/default/')).status, 400);

      await python('PATCH', '/v1/tenant/Acme%20Corp/preference/category/transactional/', { preference: 'opt_out' });
      assert.equal((await python('DELETE', '/v1/tenant/Acme%20Corp/')).status, 200);
      const orphans = await h.herald.db
        .selectFrom('tenant_category_preferences')
        .select('tenant_id')
        .where('workspace_id', '=', staging.id)
        .where('tenant_id', '=', 'Acme Corp')
        .execute();
      assert.deepEqual(orphans, [], 'deleting a tenant deletes its category settings');
    });

    test('subscriber_lists: create, add, remove, get, get_all, delete through the Node SDK', async () => {
      const at = h.clock.now();
      const created = await client.subscriber_lists.create({
        list_id: 'Beta-Users',
        list_name: 'Beta users',
        list_description: 'early access',
      });
      assert.deepEqual(created, {
        list_id: 'beta-users',
        list_name: 'Beta users',
        list_description: 'early access',
        subscribers_count: 0,
        created_at: new Date(at).toISOString(),
        updated_at: new Date(at).toISOString(),
      });

      const added = await client.subscriber_lists.add('beta-users', ['u1', 'u2', 'u3', 'u2']);
      assert.equal(added['subscribers_count'], 3);
      assert.deepEqual(await client.subscriber_lists.add('beta-users', []), { success: true });
      const removed = await client.subscriber_lists.remove('beta-users', ['u2', 'not-a-member']);
      assert.equal(removed['subscribers_count'], 2);
      assert.deepEqual(await memberIds('beta-users'), ['u1', 'u3']);

      const renamed = await client.subscriber_lists.create({ list_id: 'beta-users', list_name: 'Beta testers' });
      assert.equal(renamed['list_name'], 'Beta testers');
      assert.equal(renamed['list_description'], 'early access', 'fields not sent are kept');
      assert.equal(renamed['subscribers_count'], 2);
      assert.deepEqual(await client.subscriber_lists.get('BETA-USERS'), renamed);

      await client.subscriber_lists.create({ list_id: 'alpha' });
      const page = (await client.subscriber_lists.get_all({ limit: 10, offset: 0 })) as Page;
      assert.deepEqual(page.meta, { count: 2, limit: 10, offset: 0 });
      assert.deepEqual(
        page.results.map((r) => [r['list_id'], r['list_name'], r['subscribers_count']]),
        [
          ['alpha', 'alpha', 0],
          ['beta-users', 'Beta testers', 2],
        ],
      );
      const second = (await client.subscriber_lists.get_all({ limit: 1, offset: 1 })) as Page;
      assert.deepEqual(
        second.results.map((r) => r['list_id']),
        ['beta-users'],
      );

      const lists = new ListService(h.herald);
      assert.equal(await lists.exists(staging.id, 'beta-users'), true);
      assert.equal(await lists.exists(staging.id, 'Beta-Users'), true);
      assert.equal(await lists.exists(staging.id, 'nope'), false);
      assert.equal(await lists.exists(other.id, 'beta-users'), false);
      assert.deepEqual(await lists.memberPage(staging.id, 'beta-users', undefined, 10), ['u1', 'u3']);
      assert.deepEqual(await lists.memberPage(staging.id, 'beta-users', 'u1', 10), ['u3']);
      assert.deepEqual(await lists.memberPage(staging.id, 'beta-users', undefined, 1), ['u1']);

      assert.deepEqual(await client.subscriber_lists.delete('alpha'), { success: true });
      await assert.rejects(client.subscriber_lists.get('alpha'), apiError(404, /list "alpha" not found/));
      await assert.rejects(client.subscriber_lists.add('alpha', ['u1']), apiError(404));
      await assert.rejects(client.subscriber_lists.delete('alpha'), apiError(404));
    });

    test('subscriber_lists: start_sync, versions and finish_sync replace the members atomically', async () => {
      const joinedAt = (await members('beta-users')).find((m) => m.distinct_id === 'u3')?.created_at;
      h.clock.advance(1000);
      const draft = await client.subscriber_lists.start_sync('beta-users');
      assert.equal(draft['list_id'], 'beta-users');
      assert.equal(draft['status'], 'draft');
      assert.equal(draft['subscribers_count'], 0);
      const v1 = String(draft['version_id']);
      assert.ok(v1.length > 0);

      assert.equal((await client.subscriber_lists.add_to_version('beta-users', v1, ['u3', 'u4', 'u5']))['subscribers_count'], 3);
      assert.equal((await client.subscriber_lists.remove_from_version('beta-users', v1, ['u5']))['subscribers_count'], 2);
      const read = await client.subscriber_lists.get_version('beta-users', v1);
      assert.equal(read['status'], 'draft');
      assert.equal(read['subscribers_count'], 2);
      assert.deepEqual(await memberIds('beta-users'), ['u1', 'u3'], 'the live list is untouched until finish_sync');
      assert.deepEqual(await memberIds('beta-users', v1), ['u3', 'u4']);

      const finished = await client.subscriber_lists.finish_sync('beta-users', v1);
      assert.equal(finished['status'], 'active');
      assert.equal(finished['subscribers_count'], 2);
      const live = await members('beta-users');
      assert.deepEqual(
        live.map((m) => m.distinct_id),
        ['u3', 'u4'],
      );
      assert.equal(live.find((m) => m.distinct_id === 'u3')?.created_at, joinedAt, 'members who stay keep their join time');
      assert.deepEqual(await memberIds('beta-users', v1), [], 'the version rows became the live rows');
      assert.equal((await client.subscriber_lists.get('beta-users'))['subscribers_count'], 2);
      assert.equal((await client.subscriber_lists.finish_sync('beta-users', v1))['status'], 'active', 'a retried finish_sync succeeds');
      await assert.rejects(client.subscriber_lists.add_to_version('beta-users', v1, ['u9']), apiError(409));
      await assert.rejects(client.subscriber_lists.delete_version('beta-users', v1), apiError(409, /live list/));

      const abandoned = String((await client.subscriber_lists.start_sync('beta-users'))['version_id']);
      await client.subscriber_lists.add_to_version('beta-users', abandoned, ['u7']);
      assert.deepEqual(await client.subscriber_lists.delete_version('beta-users', abandoned), { success: true });
      assert.equal((await client.subscriber_lists.get_version('beta-users', abandoned))['status'], 'deleted');
      assert.deepEqual(await memberIds('beta-users', abandoned), []);
      await assert.rejects(client.subscriber_lists.finish_sync('beta-users', abandoned), apiError(409));

      const v2 = String((await client.subscriber_lists.start_sync('beta-users'))['version_id']);
      await client.subscriber_lists.add_to_version('beta-users', v2, ['u8']);
      await client.subscriber_lists.finish_sync('beta-users', v2);
      assert.deepEqual(await versionStatuses('beta-users'), { [v1]: 'deleted', [abandoned]: 'deleted', [v2]: 'active' });
      assert.deepEqual(await memberIds('beta-users'), ['u8']);

      await assert.rejects(client.subscriber_lists.get_version('beta-users', 'lv_missing'), apiError(404));
      await assert.rejects(client.subscriber_lists.start_sync('nope'), apiError(404));
    });

    test('Python: list routes with a slash before the query and DELETE with an empty body', async () => {
      const created = await python('POST', '/v1/subscriber_list/', {
        list_id: 'py-list',
        list_name: 'Zürich users',
        list_description: null,
      });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body['list_name'], 'Zürich users');
      const page = await python('GET', '/v1/subscriber_list/?limit=1&offset=0');
      assert.equal(page.status, 200);
      assert.deepEqual(page.body['meta'], { count: 2, limit: 1, offset: 0 });
      assert.equal((page.body['results'] as Json[]).length, 1);

      assert.equal((await python('POST', '/v1/subscriber_list/py-list/subscriber/add/', { distinct_ids: ['p1', 'p2'] })).status, 200);
      const draft = await python('POST', '/v1/subscriber_list/py-list/start_sync/', {});
      const version = String(draft.body['version_id']);
      assert.equal(
        (await python('POST', `/v1/subscriber_list/py-list/version/${version}/subscriber/add/`, { distinct_ids: ['p3'] })).status,
        200,
      );
      const dropped = await python('DELETE', `/v1/subscriber_list/py-list/version/${version}/`);
      assert.equal(dropped.status, 200);
      assert.deepEqual(dropped.body, { success: true });
      assert.equal((await python('GET', `/v1/subscriber_list/py-list/version/${version}/`)).body['status'], 'deleted');

      const deleted = await python('DELETE', '/v1/subscriber_list/py-list/');
      assert.equal(deleted.status, 200);
      assert.deepEqual(deleted.body, { success: true });
      assert.equal((await python('GET', '/v1/subscriber_list/py-list/')).status, 404);
      assert.deepEqual(await memberIds('py-list'), []);
      assert.deepEqual(await versionStatuses('py-list'), {}, 'deleting a list deletes its versions');
    });

    test('bad list input is a 400 that changes nothing', async () => {
      const before = await members('beta-users');
      const list = await client.subscriber_lists.get('beta-users');
      const cases: Array<[string, string, unknown]> = [
        ['POST', '/v1/subscriber_list/', { list_name: 'no id' }],
        ['POST', '/v1/subscriber_list/', { list_id: 'has space' }],
        ['POST', '/v1/subscriber_list/', { list_id: 'x'.repeat(65) }],
        ['POST', '/v1/subscriber_list/', { list_id: 'beta-users', list_name: 123 }],
        ['POST', '/v1/subscriber_list/', { list_id: 'beta-users', list_description: ['x'] }],
        ['POST', '/v1/subscriber_list/beta-users/subscriber/add/', { distinct_ids: 'u1' }],
        ['POST', '/v1/subscriber_list/beta-users/subscriber/add/', { distinct_ids: ['ok-user', ''] }],
        // A whole number is a distinct_id (its decimal text, issue #12); a fraction has no exact text.
        ['POST', '/v1/subscriber_list/beta-users/subscriber/add/', { distinct_ids: ['ok-user', 42.5] }],
        ['POST', '/v1/subscriber_list/beta-users/subscriber/add/', { distinct_ids: Array.from({ length: 1001 }, (_, i) => `u${i}`) }],
        ['POST', '/v1/subscriber_list/beta-users/subscriber/remove/', { ids: ['u8'] }],
        ['POST', '/v1/subscriber_list/Bad%20Id/subscriber/add/', { distinct_ids: ['u1'] }],
      ];
      for (const [method, target, body] of cases) {
        const response = await python(method as 'POST', target, body);
        assert.equal(response.status, 400, `${target} ${JSON.stringify(body).slice(0, 80)}`);
        assert.equal((response.body['error'] as Json)['type'], 'VALIDATION_FAILED');
        assert.equal(typeof response.body['message'], 'string');
      }
      assert.deepEqual(await members('beta-users'), before);
      assert.deepEqual(await client.subscriber_lists.get('beta-users'), list);
      const lists = await h.herald.db.selectFrom('lists').select('list_id').where('workspace_id', '=', staging.id).execute();
      assert.deepEqual(
        lists.map((l) => l.list_id),
        ['beta-users'],
      );
    });

    test("another workspace's tenants and lists answer 404 exactly like missing ones", async () => {
      const notFound = (id: string) => ({
        status: 'error',
        code: 404,
        message: `tenant "${id}" not found`,
        error: { type: 'NOT_FOUND', message: `tenant "${id}" not found` },
      });
      assert.deepEqual((await python('GET', '/v1/tenant/never-existed/', undefined, other)).body, notFound('never-existed'));
      const foreignTenant = await python('GET', '/v1/tenant/acme/', undefined, other);
      assert.equal(foreignTenant.status, 404);
      assert.deepEqual(foreignTenant.body, notFound('acme'));
      await assert.rejects(otherClient.tenants.get('acme'), apiError(404));
      await assert.rejects(otherClient.brands.get('acme'), apiError(404));
      assert.equal((await python('DELETE', '/v1/tenant/acme/', undefined, other)).status, 404);
      assert.equal(
        (await python('PATCH', '/v1/tenant/acme/preference/category/transactional/', { preference: 'opt_out' }, other)).status,
        404,
      );
      assert.equal((await python('GET', '/v1/tenant/acme/preference/category/transactional/', undefined, other)).status, 404);

      await assert.rejects(otherClient.subscriber_lists.get('beta-users'), apiError(404, /list "beta-users" not found/));
      await assert.rejects(otherClient.subscriber_lists.add('beta-users', ['x']), apiError(404));
      await assert.rejects(otherClient.subscriber_lists.remove('beta-users', ['u8']), apiError(404));
      await assert.rejects(otherClient.subscriber_lists.delete('beta-users'), apiError(404));
      await assert.rejects(otherClient.subscriber_lists.start_sync('beta-users'), apiError(404));
      const version = String((await client.subscriber_lists.start_sync('beta-users'))['version_id']);
      await assert.rejects(otherClient.subscriber_lists.get_version('beta-users', version), apiError(404));
      await assert.rejects(otherClient.subscriber_lists.add_to_version('beta-users', version, ['x']), apiError(404));
      await assert.rejects(otherClient.subscriber_lists.finish_sync('beta-users', version), apiError(404));
      await assert.rejects(otherClient.subscriber_lists.delete_version('beta-users', version), apiError(404));
      assert.equal((await python('DELETE', '/v1/subscriber_list/beta-users/', undefined, other)).status, 404);
      assert.deepEqual(await memberIds('beta-users'), ['u8'], 'nothing the other workspace did reached staging');
      assert.equal((await client.subscriber_lists.get_version('beta-users', version))['status'], 'draft');

      // The same ids in the other workspace are separate records.
      const theirs = await otherClient.tenants.upsert('acme', { tenant_name: 'Other Acme' });
      assert.equal(theirs['tenant_name'], 'Other Acme');
      assert.equal((await client.tenants.get('acme'))['tenant_name'], 'Acme');
      await otherClient.subscriber_lists.create({ list_id: 'beta-users' });
      assert.equal((await otherClient.subscriber_lists.get('beta-users'))['subscribers_count'], 0);
      assert.equal((await client.subscriber_lists.get('beta-users'))['subscribers_count'], 1);
      const theirLists = (await otherClient.subscriber_lists.get_all()) as Page;
      assert.equal(theirLists.meta.count, 1);
      const theirTenants = (await otherClient.tenants.list()) as Page;
      assert.deepEqual(
        theirTenants.results.map((r) => r['tenant_id']),
        ['default', 'acme'],
      );
    });

    test('the same routes accept a Bearer API key', async () => {
      const workspace = await h.herald.workspaces.get('staging');
      const { key } = await h.herald.apiKeys.create(workspace, { name: 'tenants-lists' });
      const response = await fetch(`${h.baseUrl}/v1/subscriber_list/beta-users`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as Json)['list_id'], 'beta-users');
      const unsigned = await fetch(`${h.baseUrl}/v1/tenant/acme`);
      assert.equal(unsigned.status, 401);
    });
  });
}
