import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { hmacHeaders } from './helpers/http.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { suprsendClient } from './helpers/sdk.js';

type Dict = Record<string, unknown>;

for (const engine of enginesUnderTest()) {
  describe(`users API with the real Node SDK on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;
    let client: ReturnType<typeof suprsendClient>;

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      client = suprsendClient(h.staging.workspaceKey, h.staging.secret, h.baseUrl);
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    test('upsert, get and list with cursors', async () => {
      for (const id of ['u-a', 'u-b', 'u-c', 'u-d'])
        await client.users.upsert(id, { name: id.toUpperCase(), $email: [`${id}@example.com`] });
      const got = await client.users.get('u-b');
      assert.equal(got['distinct_id'], 'u-b');
      assert.deepEqual(got['properties'], { name: 'U-B' });
      assert.deepEqual(got['$email'], [{ value: 'u-b@example.com' }]);

      const first = (await client.users.list({ limit: 2 })) as { meta: Dict; results: Dict[] };
      assert.deepEqual(
        first.results.map((u) => u['distinct_id']),
        ['u-a', 'u-b'],
      );
      assert.equal(first.meta['has_next'], true);
      const second = (await client.users.list({ limit: 2, after: String(first.meta['after']) })) as { meta: Dict; results: Dict[] };
      assert.deepEqual(
        second.results.map((u) => u['distinct_id']),
        ['u-c', 'u-d'],
      );
      assert.equal(second.meta['has_next'], false);
      const back = (await client.users.list({ limit: 2, before: 'u-c' })) as { results: Dict[] };
      assert.deepEqual(
        back.results.map((u) => u['distinct_id']),
        ['u-a', 'u-b'],
      );
    });

    test('edit with a UserEdit and with a raw payload', async () => {
      const edit = client.users.get_edit_instance('u-a');
      edit.set({ plan: 'pro', seats: 3 });
      edit.set_once('first_seen', 'today');
      edit.increment('seats', 2);
      edit.append('tags', 'beta');
      edit.add_sms('+15550002222');
      edit.add_androidpush('token-1', 'fcm');
      edit.add_webpush({ endpoint: 'https://push.example/1', keys: { p256dh: 'k', auth: 'a' } }, 'vapid');
      edit.set_timezone('Europe/Berlin');
      const edited = await client.users.edit(edit);
      assert.deepEqual(edited['properties'], {
        name: 'U-A',
        plan: 'pro',
        seats: 5,
        first_seen: 'today',
        tags: ['beta'],
        $timezone: 'Europe/Berlin',
      });
      assert.deepEqual(edited['$androidpush'], [{ value: 'token-1', provider: 'fcm' }]);
      assert.equal((edited['$webpush'] as Dict[]).length, 1);

      const raw = await client.users.edit('u-a', { operations: [{ $remove: { tags: 'beta' } }, { $unset: ['first_seen', '$sms'] }] });
      assert.deepEqual((raw['properties'] as Dict)['tags'], []);
      assert.equal((raw['properties'] as Dict)['first_seen'], undefined);
      assert.equal(raw['$sms'], undefined);

      await assert.rejects(client.users.edit('u-a', { operations: [{ $explode: { a: 1 } }] }), /400: unknown operation "\$explode"/);
      await assert.rejects(
        client.users.edit('u-a', { operations: [{ $add: { plan: 1 } }] }),
        /400: \$add: property "plan" is not a number/,
      );
      assert.equal(((await client.users.get('u-a'))['properties'] as Dict)['plan'], 'pro', 'a rejected edit changes nothing');
    });

    test('lists and objects a user is subscribed to', async () => {
      await client.subscriber_lists.create({ list_id: 'newsletter', list_name: 'Newsletter' });
      await client.subscriber_lists.add('newsletter', ['u-c']);
      const lists = (await client.users.get_lists_subscribed_to('u-c')) as { results: Dict[] };
      assert.deepEqual(
        lists.results.map((r) => r['list_id']),
        ['newsletter'],
      );
      await client.objects.upsert('team', 'eng', { name: 'Engineering' });
      await client.objects.create_subscriptions('team', 'eng', { recipients: ['u-c'] });
      const objects = (await client.users.get_objects_subscribed_to('u-c')) as { results: Array<{ object: Dict }> };
      assert.deepEqual(objects.results[0]?.object, { object_type: 'team', id: 'eng' });
    });

    test('merge folds one user into another', async () => {
      await client.users.upsert('guest-1', { $email: ['guest@example.com'], referrer: 'ad', name: 'Guest' });
      await client.subscriber_lists.add('newsletter', ['guest-1']);
      const merged = await client.users.merge('u-d', 'guest-1');
      assert.deepEqual(merged['properties'], { name: 'U-D', referrer: 'ad' }, 'existing properties win');
      assert.deepEqual(
        (merged['$email'] as Dict[]).map((e) => e['value']),
        ['u-d@example.com', 'guest@example.com'],
      );
      await assert.rejects(client.users.get('guest-1'), /404/);
      const lists = (await client.users.get_lists_subscribed_to('u-d')) as { results: Dict[] };
      assert.deepEqual(
        lists.results.map((r) => r['list_id']),
        ['newsletter'],
      );
    });

    test('delete and bulk delete', async () => {
      const one = await client.users.delete('u-a');
      assert.equal(one.success, true);
      await assert.rejects(client.users.get('u-a'), /404/);
      await assert.rejects(client.users.delete('u-a'), /404/);
      const bulk = await client.users.bulk_delete({ distinct_ids: ['u-b', 'u-c'] });
      assert.equal(bulk.success, true);
      const remaining = (await client.users.list({ limit: 10 })) as { results: Dict[] };
      assert.deepEqual(
        remaining.results.map((u) => u['distinct_id']),
        ['u-d'],
      );
    });

    test('the deprecated track() still records the event', async () => {
      const result = await client.track('u-d', 'legacy_event', { a: 1 });
      assert.equal(result.success, true);
      const row = await h.herald.db.selectFrom('events').selectAll().where('event', '=', 'legacy_event').executeTakeFirst();
      assert.equal(row?.distinct_id, 'u-d');
    });

    test('Go-style sorted query and Python-style bodiless DELETE verify', async () => {
      await client.users.upsert('go-user', {});
      const target = '/v1/user/?after=a&limit=1';
      const listed = await fetch(`${h.baseUrl}${target}`, {
        headers: hmacHeaders(h.staging.workspaceKey, h.staging.secret, 'GET', target, undefined),
      });
      assert.equal(listed.status, 200);
      const path = '/v1/user/go-user/';
      const deleted = await fetch(`${h.baseUrl}${path}`, {
        method: 'DELETE',
        body: '',
        headers: { ...hmacHeaders(h.staging.workspaceKey, h.staging.secret, 'DELETE', path, undefined), 'content-length': '0' },
      });
      assert.equal(deleted.status, 200, await deleted.text());
    });

    test("another workspace's users answer like missing ones", async () => {
      await client.users.upsert('shared-id', { secret: 'staging-only' });
      const other = await h.herald.workspaces.create({ slug: 'users-other' });
      const otherClient = suprsendClient(other.workspaceKey, await h.herald.workspaceSecrets.reveal(other.id), h.baseUrl);
      const crossed = await otherClient.users.get('shared-id').catch((error: Error) => error.message);
      const missing = await otherClient.users.get('never-existed').catch((error: Error) => error.message);
      assert.equal(crossed, missing.replace('never-existed', 'shared-id'));
      await assert.rejects(otherClient.users.delete('shared-id'), /404/);
      assert.deepEqual((await client.users.get('shared-id'))['properties'], { secret: 'staging-only' });
    });
  });
}
