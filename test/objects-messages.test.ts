import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { hmacHeaders } from './helpers/http.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { suprsendClient } from './helpers/sdk.js';

type Client = ReturnType<typeof suprsendClient>;
type Json = Record<string, unknown>;
/** Query options the SDK's types do not declare; it sends them all the same. */
type MessageListOptions = NonNullable<Parameters<Client['messages']['list']>[0]>;
const untypedOptions = (options: Json) => options as MessageListOptions;

interface Page {
  meta: { limit: number; count: number; has_prev: boolean; has_next: boolean; before: string | null; after: string | null };
  results: Json[];
}

interface SubscriptionView {
  properties: Json;
  user: { distinct_id: string } | null;
  object: { id: string; object_type: string; subscriptions_count: number } | null;
}

interface MessageView {
  message_id: string;
  recipient_id: string;
  status: string;
  category: string;
  channel: string;
  workflow: string;
  tenant_id: string;
}

interface BulkRecord {
  message_id: string;
  status: 'success' | 'error';
  error: { type: string; message: string } | null;
}

function asPage(value: unknown): Page {
  return value as Page;
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

interface MessageSeed {
  id: string;
  distinctId: string;
  createdAt: number;
  channel?: 'inbox' | 'webhook';
  status?: string;
  category?: string;
  workflow?: string;
  tenantId?: string;
  /** false: an inbox message whose notification row is gone. */
  withNotification?: boolean;
}

/**
 * Test-only: writes delivered messages (and their inbox notifications) straight into the
 * database, standing in for the delivery code.
 */
async function seedMessage(h: InProcess, workspaceId: string, seed: MessageSeed): Promise<void> {
  const channel = seed.channel ?? 'inbox';
  const hasNotification = channel === 'inbox' && seed.withNotification !== false;
  const notificationId = hasNotification ? `ntf_${seed.id}` : null;
  const common = {
    workspace_id: workspaceId,
    distinct_id: seed.distinctId,
    tenant_id: seed.tenantId ?? 'default',
    execution_id: `exec_${seed.id}`,
    workflow_slug: seed.workflow ?? 'order-shipped',
    category: seed.category ?? 'transactional',
    created_at: seed.createdAt,
  };
  await h.herald.db.transaction().execute(async (trx) => {
    if (notificationId) {
      await trx
        .insertInto('notifications')
        .values({
          ...common,
          id: notificationId,
          content: JSON.stringify({ text: 'Your order shipped' }),
          tags: '[]',
          is_pinned: 0,
          seen_at: null,
          read_at: null,
          interacted_at: null,
          archived_at: null,
          expires_at: null,
        })
        .execute();
    }
    await trx
      .insertInto('messages')
      .values({
        ...common,
        id: seed.id,
        channel,
        status: seed.status ?? (channel === 'inbox' ? 'delivered' : 'sent'),
        notification_id: notificationId,
        updated_at: seed.createdAt,
      })
      .execute();
  });
}

for (const engine of enginesUnderTest()) {
  describe(`objects and messages APIs through the real Node SDK on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;
    let client: Client;
    let other: Client;
    let otherWorkspaceId: string;

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      client = suprsendClient(h.staging.workspaceKey, h.staging.secret, h.baseUrl);
      const ws = await h.herald.workspaces.create({ slug: 'other' });
      otherWorkspaceId = ws.id;
      other = suprsendClient(ws.workspaceKey, await h.herald.workspaceSecrets.reveal(ws.id), h.baseUrl);
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    const objectRow = (type: string, id: string, workspaceId = h.staging.id) =>
      h.herald.db
        .selectFrom('objects')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('object_type', '=', type)
        .where('object_id', '=', id)
        .executeTakeFirst();

    const subscriptionRows = (workspaceId = h.staging.id) =>
      h.herald.db
        .selectFrom('object_subscriptions')
        .select(['object_type', 'object_id', 'recipient_type', 'recipient_id', 'properties'])
        .where('workspace_id', '=', workspaceId)
        .orderBy('object_type')
        .orderBy('object_id')
        .orderBy('recipient_type')
        .orderBy('recipient_id')
        .execute();

    test('objects.upsert stores channel keys as identities and the rest as properties; objects.get reads it back', async () => {
      const created = (await client.objects.upsert('teams', 'devs', {
        name: 'Developers',
        $email: ['devs@example.com'],
        $inbox: 'devs-inbox',
        $preferred_language: 'en',
      })) as Json;
      assert.equal(created['object_type'], 'teams');
      assert.equal(created['id'], 'devs');
      assert.deepEqual(created['properties'], { name: 'Developers', $preferred_language: 'en' });
      assert.deepEqual(created['$email'], [{ value: 'devs@example.com' }]);
      assert.deepEqual(created['$inbox'], [{ value: 'devs-inbox' }]);
      assert.equal(created['subscriptions_count'], 0);
      assert.equal(created['created_at'], new Date(h.clock.now()).toISOString());

      const fetched = (await client.objects.get('teams', 'devs')) as Json;
      assert.deepEqual(fetched, created);

      const row = await objectRow('teams', 'devs');
      assert.ok(row);
      assert.deepEqual(JSON.parse(row.properties), { name: 'Developers', $preferred_language: 'en' });
      assert.deepEqual(Object.keys(JSON.parse(row.channels) as Json).sort(), ['$email', '$inbox']);

      // A second upsert merges: new keys are added, given keys replaced, identities appended.
      const merged = (await client.objects.upsert('teams', 'devs', { name: 'Devs', $email: 'lead@example.com' })) as Json;
      assert.deepEqual(merged['properties'], { name: 'Devs', $preferred_language: 'en' });
      assert.deepEqual(merged['$email'], [{ value: 'devs@example.com' }, { value: 'lead@example.com' }]);
    });

    test('ids with spaces and slashes round-trip through the encoded path', async () => {
      const created = (await client.objects.upsert('office spaces', 'eu/west 1', { floor: 3 })) as Json;
      assert.equal(created['object_type'], 'office spaces');
      assert.equal(created['id'], 'eu/west 1');
      assert.deepEqual(((await client.objects.get('office spaces', 'eu/west 1')) as Json)['properties'], { floor: 3 });
      await client.objects.delete('office spaces', 'eu/west 1');
      // The longest allowed id, non-ASCII so its encoded path is far longer than the characters.
      const longest = 'é'.repeat(256);
      assert.equal(((await client.objects.upsert('teams', longest, {})) as Json)['id'], longest);
      await client.objects.delete('teams', longest);
      assert.equal(await objectRow('office spaces', 'eu/west 1'), undefined);
    });

    test('objects.edit applies every ObjectEdit operation, and also takes a plain payload', async () => {
      await client.objects.upsert('projects', 'apollo', { stage: 'draft', tags: ['a', 'b'], obsolete: true });
      const edit = client.objects.get_edit_instance('projects', 'apollo');
      edit.set('owner', 'ops');
      edit.set({ budget: 10 });
      edit.set_once('stage', 'ignored because set');
      edit.set_once('started', '2026-01-01');
      edit.increment('budget', 5);
      edit.append('tags', 'c');
      edit.remove('tags', 'a');
      edit.unset('obsolete');
      edit.set_preferred_language('fr');
      edit.set_timezone('Europe/Paris');
      edit.add_email('apollo@example.com');
      edit.add_email('old@example.com');
      edit.remove_email('old@example.com');
      edit.add_sms('+15555550100');
      edit.add_whatsapp('+15555550101');
      edit.add_androidpush('android-token', 'fcm');
      edit.add_iospush('ios-token', 'apns');
      edit.add_webpush({ endpoint: 'https://push.example.com/1', keys: { p256dh: 'k', auth: 'a' } }, 'vapid');
      edit.add_slack({ incoming_webhook: { url: 'https://hooks.slack.com/services/T/B/X' } });
      edit.add_ms_teams({ incoming_webhook: { url: 'https://example.webhook.office.com/x' } });
      const edited = (await client.objects.edit(edit)) as Json;
      assert.deepEqual(edited['properties'], {
        stage: 'draft',
        tags: ['b', 'c'],
        owner: 'ops',
        budget: 15,
        started: '2026-01-01',
        $preferred_language: 'fr',
        $timezone: 'Europe/Paris',
      });
      assert.deepEqual(edited['$email'], [{ value: 'apollo@example.com' }]);
      assert.deepEqual(edited['$sms'], [{ value: '+15555550100' }]);
      assert.deepEqual(edited['$whatsapp'], [{ value: '+15555550101' }]);
      assert.deepEqual(edited['$androidpush'], [{ value: 'android-token', provider: 'fcm' }]);
      assert.deepEqual(edited['$iospush'], [{ value: 'ios-token', provider: 'apns' }]);
      assert.equal((edited['$webpush'] as Json[]).length, 1);
      assert.equal((edited['$slack'] as Json[]).length, 1);
      assert.equal((edited['$ms_teams'] as Json[]).length, 1);

      const removal = client.objects.get_edit_instance('projects', 'apollo');
      removal.remove_sms('+15555550100');
      removal.remove_whatsapp('+15555550101');
      removal.remove_androidpush('android-token', 'fcm');
      removal.remove_iospush('ios-token', 'apns');
      removal.remove_webpush({ endpoint: 'https://push.example.com/1', keys: { p256dh: 'k', auth: 'a' } }, 'vapid');
      removal.remove_slack({ incoming_webhook: { url: 'https://hooks.slack.com/services/T/B/X' } });
      removal.remove_ms_teams({ incoming_webhook: { url: 'https://example.webhook.office.com/x' } });
      const trimmed = (await client.objects.edit(removal)) as Json;
      for (const channel of ['$sms', '$whatsapp', '$androidpush', '$iospush', '$webpush', '$slack', '$ms_teams']) {
        assert.equal(trimmed[channel], undefined, `${channel} should be gone`);
      }
      assert.deepEqual(trimmed['$email'], [{ value: 'apollo@example.com' }]);

      // edit(type, id, payload): both the operations form and a plain payload (an upsert).
      const byOperations = (await client.objects.edit('projects', 'apollo', { operations: [{ $set: { stage: 'live' } }] })) as Json;
      assert.equal((byOperations['properties'] as Json)['stage'], 'live');
      const byPayload = (await client.objects.edit('projects', 'apollo', { region: 'eu' })) as Json;
      assert.equal((byPayload['properties'] as Json)['region'], 'eu');
      assert.equal((byPayload['properties'] as Json)['stage'], 'live');
    });

    test('objects.list pages through one type by object id, forwards and backwards', async () => {
      for (const id of ['c', 'a', 'e', 'b', 'd']) await client.objects.upsert('letters', id, {});
      const first = asPage(await client.objects.list('letters', { limit: 2 }));
      assert.deepEqual(
        first.results.map((r) => r['id']),
        ['a', 'b'],
      );
      assert.equal(first.meta.has_next, true);
      assert.equal(first.meta.count, 2);
      assert.ok(first.meta.after);
      const second = asPage(await client.objects.list('letters', { limit: 2, after: first.meta.after }));
      assert.deepEqual(
        second.results.map((r) => r['id']),
        ['c', 'd'],
      );
      const last = asPage(await client.objects.list('letters', { limit: 2, after: second.meta.after ?? '' }));
      assert.deepEqual(
        last.results.map((r) => r['id']),
        ['e'],
      );
      assert.equal(last.meta.has_next, false);
      assert.equal(last.meta.after, null);
      const back = asPage(await client.objects.list('letters', { limit: 2, before: second.meta.before ?? '' }));
      assert.deepEqual(
        back.results.map((r) => r['id']),
        ['a', 'b'],
      );
      // Other types never leak into the list.
      const all = asPage(await client.objects.list('letters'));
      assert.equal(all.meta.count, 5);
      assert.ok(all.results.every((r) => r['object_type'] === 'letters'));
    });

    test('subscriptions: create (users inline and objects), list with cursors, subscribed_to, delete', async () => {
      await client.objects.upsert('departments', 'engineering', { name: 'Engineering' });
      const created = (await client.objects.create_subscriptions('departments', 'engineering', {
        recipients: [
          'alice',
          { distinct_id: 'bob', $email: ['bob@example.com'], title: 'Lead' },
          { object_type: 'departments', id: 'frontend' },
        ],
        properties: { role: 'member' },
      })) as { results: SubscriptionView[] };
      assert.equal(created.results.length, 3);
      assert.deepEqual(
        created.results.map((r) => r.user?.distinct_id ?? `${r.object?.object_type}/${r.object?.id}`),
        ['alice', 'bob', 'departments/frontend'],
      );
      assert.ok(created.results.every((r) => (r.properties as Json)['role'] === 'member'));

      // The inline user went through the users domain: identities and properties are on the profile.
      const bob = (await client.users.get('bob')) as Json;
      assert.deepEqual(bob['$email'], [{ value: 'bob@example.com' }]);
      assert.deepEqual(bob['properties'], { title: 'Lead' });
      assert.ok(await client.users.get('alice'));
      // The object recipient was created.
      assert.ok(await objectRow('departments', 'frontend'));

      // Re-subscribing replaces the properties.
      await client.objects.create_subscriptions('departments', 'engineering', { recipients: ['alice'], properties: { role: 'owner' } });

      const page1 = asPage(await client.objects.get_subscriptions('departments', 'engineering', { limit: 2 }));
      assert.equal(page1.meta.count, 2);
      assert.equal(page1.meta.has_next, true);
      const users = page1.results as unknown as SubscriptionView[];
      assert.deepEqual(
        users.map((r) => [r.user?.distinct_id, r.properties['role']]),
        [
          ['alice', 'owner'],
          ['bob', 'member'],
        ],
      );
      const page2 = asPage(
        await client.objects.get_subscriptions('departments', 'engineering', { limit: 2, after: page1.meta.after ?? '' }),
      );
      const objects = page2.results as unknown as SubscriptionView[];
      assert.deepEqual(
        objects.map((r) => [r.user, r.object?.object_type, r.object?.id]),
        [[null, 'departments', 'frontend']],
      );
      assert.equal(page2.meta.has_next, false);
      const back = asPage(
        await client.objects.get_subscriptions('departments', 'engineering', { limit: 2, before: page2.meta.before ?? '' }),
      );
      assert.equal(back.results.length, 2);

      assert.equal(((await client.objects.get('departments', 'engineering')) as Json)['subscriptions_count'], 3);

      const parents = asPage(await client.objects.get_objects_subscribed_to('departments', 'frontend'));
      assert.deepEqual(
        parents.results.map((r) => r['object']),
        [
          {
            id: 'engineering',
            object_type: 'departments',
            properties: { name: 'Engineering' },
            subscriptions_count: 3,
            updated_at: new Date(h.clock.now()).toISOString(),
          },
        ],
      );
      // The users domain sees the same rows from the user's side.
      const bobsObjects = (await client.users.get_objects_subscribed_to('bob', {})) as Page;
      assert.equal(bobsObjects.results.length, 1);

      const removed = (await client.objects.delete_subscriptions('departments', 'engineering', {
        recipients: ['alice', { object_type: 'departments', id: 'frontend' }],
      })) as Json;
      assert.equal(removed['success'], true);
      const rest = await subscriptionRows();
      assert.deepEqual(
        rest.filter((r) => r.object_id === 'engineering').map((r) => r.recipient_id),
        ['bob'],
      );
      assert.equal(asPage(await client.objects.get_objects_subscribed_to('departments', 'frontend')).results.length, 0);
    });

    test('objects.delete removes the object and its subscriptions on both sides, in one go', async () => {
      await client.objects.create_subscriptions('clubs', 'chess', { recipients: ['carol', { object_type: 'clubs', id: 'juniors' }] });
      await client.objects.create_subscriptions('clubs', 'everyone', { recipients: [{ object_type: 'clubs', id: 'chess' }] });
      const response = (await client.objects.delete('clubs', 'chess')) as Json;
      assert.deepEqual(response, { success: true, status_code: 200 });
      assert.equal(await objectRow('clubs', 'chess'), undefined);
      const rows = (await subscriptionRows()).filter((r) => r.object_type === 'clubs' || r.recipient_type === 'clubs');
      assert.deepEqual(rows, [], 'subscriptions of and to the deleted object are gone');
      assert.ok(await objectRow('clubs', 'juniors'), 'the former subscriber object stays');
      await assert.rejects(client.objects.get('clubs', 'chess'), apiError(404, /not found/));
      await assert.rejects(client.objects.delete('clubs', 'chess'), apiError(404));
    });

    test('objects.bulk_delete removes the listed objects of one type and ignores unknown ids', async () => {
      for (const id of ['x1', 'x2', 'x3']) await client.objects.upsert('boxes', id, {});
      await client.objects.create_subscriptions('boxes', 'x3', { recipients: [{ object_type: 'boxes', id: 'x1' }] });
      const response = (await client.objects.bulk_delete('boxes', { object_ids: ['x1', 'x3', 'missing'] })) as Json;
      assert.equal(response['success'], true);
      const left = asPage(await client.objects.list('boxes'));
      assert.deepEqual(
        left.results.map((r) => r['id']),
        ['x2'],
      );
      assert.deepEqual(
        (await subscriptionRows()).filter((r) => r.object_type === 'boxes' || r.recipient_type === 'boxes'),
        [],
      );
    });

    test("another workspace's objects answer exactly like missing ones and are never touched", async () => {
      await client.objects.upsert('teams', 'private', { secret: 'x' });
      await client.objects.create_subscriptions('teams', 'private', { recipients: ['dave'] });

      const missing = await other.objects.get('teams', 'nope').catch((error: unknown) => error);
      const foreign = await other.objects.get('teams', 'private').catch((error: unknown) => error);
      assert.ok(missing instanceof Error && foreign instanceof Error);
      assert.equal(foreign.message, missing.message.replace('nope', 'private'));
      assert.match(foreign.message, /^404: /);

      assert.equal(asPage(await other.objects.list('teams')).results.length, 0);
      await assert.rejects(other.objects.get_subscriptions('teams', 'private'), apiError(404));
      await assert.rejects(other.objects.get_objects_subscribed_to('teams', 'private'), apiError(404));
      await assert.rejects(other.objects.delete_subscriptions('teams', 'private', { recipients: ['dave'] }), apiError(404));
      await assert.rejects(other.objects.delete('teams', 'private'), apiError(404));
      await other.objects.bulk_delete('teams', { object_ids: ['private'] });
      // Writes in the other workspace create its own object, separate from staging's.
      await other.objects.upsert('teams', 'private', { secret: 'other' });
      await other.objects.create_subscriptions('teams', 'private', { recipients: ['erin'] });

      const mine = await objectRow('teams', 'private');
      assert.deepEqual(JSON.parse(mine?.properties ?? '{}'), { secret: 'x' });
      assert.deepEqual(
        (await subscriptionRows()).filter((r) => r.object_id === 'private').map((r) => r.recipient_id),
        ['dave'],
      );
      assert.deepEqual(
        (await subscriptionRows(otherWorkspaceId)).map((r) => r.recipient_id),
        ['erin'],
      );
    });

    test('bad object input answers 400 with what to fix, and changes nothing', async () => {
      await client.objects.upsert('teams', 'stable', { name: 'Stable' });
      const before = await objectRow('teams', 'stable');
      const subscriptionsBefore = await subscriptionRows();

      await assert.rejects(client.objects.upsert('teams', 'fresh', { $email: 'not-an-email' }), apiError(400, /email/));
      assert.equal(await objectRow('teams', 'fresh'), undefined);

      await assert.rejects(
        client.objects.edit('teams', 'stable', { operations: [{ $set: { name: 'Changed' } }, { $explode: {} }] }),
        apiError(400, /unknown operation/),
      );
      await assert.rejects(client.objects.edit('teams', 'stable', { operations: 'nope' }), apiError(400, /operations/));
      await assert.rejects(client.objects.upsert('teams', 'x'.repeat(257), {}), apiError(400, /256/));
      await assert.rejects(client.objects.list('teams', { limit: 'many' } as unknown as { limit: number }), apiError(400, /limit/));
      await assert.rejects(client.objects.get_subscriptions('teams', 'stable', { after: 'garbage' }), apiError(400, /cursor/));
      await assert.rejects(client.objects.bulk_delete('teams', {} as { object_ids: string[] }), apiError(400, /object_ids/));
      await assert.rejects(client.objects.bulk_delete('teams', { object_ids: ['stable', ''] }), apiError(400, /object_ids\[1\]/));

      // One bad recipient rejects the whole request: earlier recipients are not created either.
      await assert.rejects(
        client.objects.create_subscriptions('teams', 'stable', {
          recipients: ['frank', { object_type: 'teams', id: 'grown' }, { distinct_id: 'gina', $email: 'broken' }],
        }),
        apiError(400, /email/),
      );
      await assert.rejects(
        client.objects.create_subscriptions('teams', 'stable', { recipients: [{ object_type: 'teams' }] }),
        apiError(400, /recipients\[0\]\.id/),
      );
      await assert.rejects(
        client.objects.create_subscriptions('teams', 'stable', { recipients: [{ distinct_id: 'h', object_type: 't', id: 'i' }] }),
        apiError(400, /either/),
      );
      await assert.rejects(
        client.objects.create_subscriptions('teams', 'stable', { recipients: [{ object_type: 'teams', id: 'stable' }] }),
        apiError(400, /itself/),
      );
      await assert.rejects(client.objects.create_subscriptions('teams', 'stable', { recipients: [] }), apiError(400, /recipients/));
      await assert.rejects(
        client.objects.create_subscriptions('teams', 'stable', { recipients: ['ok'], properties: ['not', 'an', 'object'] }),
        apiError(400, /properties/),
      );
      await assert.rejects(
        client.objects.create_subscriptions('teams', 'stable', { recipients: Array(101).fill('u') }),
        apiError(400, /100/),
      );

      assert.deepEqual(await objectRow('teams', 'stable'), before);
      assert.equal(await objectRow('teams', 'grown'), undefined);
      await assert.rejects(client.users.get('frank'), apiError(404));
      assert.deepEqual(await subscriptionRows(), subscriptionsBefore);
    });

    describe('messages', () => {
      const base = Date.parse('2026-03-01T10:00:00.000Z');
      const at = (minutes: number) => base + minutes * 60_000;

      before(async () => {
        await seedMessage(h, h.staging.id, { id: 'msg_a1', distinctId: 'ann', createdAt: at(1), category: 'billing' });
        await seedMessage(h, h.staging.id, { id: 'msg_a2', distinctId: 'ann', createdAt: at(2), workflow: 'welcome' });
        await seedMessage(h, h.staging.id, { id: 'msg_b1', distinctId: 'ben', createdAt: at(3), tenantId: 'acme' });
        await seedMessage(h, h.staging.id, { id: 'msg_b2', distinctId: 'ben', createdAt: at(4), channel: 'webhook' });
        await seedMessage(h, h.staging.id, { id: 'msg_c1', distinctId: 'cai', createdAt: at(5), category: 'promo' });
        await seedMessage(h, h.staging.id, { id: 'msg_c2', distinctId: 'cai', createdAt: at(5), status: 'read', withNotification: false });
        await seedMessage(h, otherWorkspaceId, { id: 'msg_other', distinctId: 'ann', createdAt: at(6) });
      });

      const ids = (page: Page) => page.results.map((r) => (r as unknown as MessageView).message_id);

      test('messages.list returns newest first and pages with after/before cursors', async () => {
        const all = asPage(await client.messages.list());
        assert.deepEqual(ids(all), ['msg_c2', 'msg_c1', 'msg_b2', 'msg_b1', 'msg_a2', 'msg_a1']);
        assert.equal(all.meta.limit, 20);
        assert.equal(all.meta.has_next, false);
        const first = all.results[0] as unknown as MessageView & { created_at: string };
        assert.deepEqual(first, {
          message_id: 'msg_c2',
          recipient_id: 'cai',
          tenant_id: 'default',
          workflow: 'order-shipped',
          category: 'transactional',
          channel: 'inbox',
          status: 'read',
          execution_id: 'exec_msg_c2',
          created_at: new Date(at(5)).toISOString(),
          updated_at: new Date(at(5)).toISOString(),
        });

        const p1 = asPage(await client.messages.list({ limit: 4 }));
        assert.deepEqual(ids(p1), ['msg_c2', 'msg_c1', 'msg_b2', 'msg_b1']);
        assert.equal(p1.meta.has_next, true);
        const p2 = asPage(await client.messages.list({ limit: 4, after: p1.meta.after ?? '' }));
        assert.deepEqual(ids(p2), ['msg_a2', 'msg_a1']);
        assert.equal(p2.meta.has_next, false);
        assert.equal(p2.meta.has_prev, true);
        const back = asPage(await client.messages.list({ limit: 1, before: p2.meta.before ?? '' }));
        assert.deepEqual(ids(back), ['msg_b1']);
      });

      test('messages.list filters: recipient_id/status/category once or repeated, workflow, channel, tenant', async () => {
        assert.deepEqual(ids(asPage(await client.messages.list({ recipient_id: 'ann' }))), ['msg_a2', 'msg_a1']);
        assert.deepEqual(ids(asPage(await client.messages.list({ recipient_id: ['ann', 'cai'], limit: 3 }))), [
          'msg_c2',
          'msg_c1',
          'msg_a2',
        ]);
        assert.deepEqual(ids(asPage(await client.messages.list({ status: ['read', 'sent'] }))), ['msg_c2', 'msg_b2']);
        assert.deepEqual(ids(asPage(await client.messages.list({ category: ['billing', 'promo'] }))), ['msg_c1', 'msg_a1']);
        assert.deepEqual(ids(asPage(await client.messages.list({ category: 'billing' }))), ['msg_a1']);
        assert.deepEqual(ids(asPage(await client.messages.list({ workflow_slug: 'welcome' }))), ['msg_a2']);
        assert.deepEqual(ids(asPage(await client.messages.list(untypedOptions({ workflow: 'welcome' })))), ['msg_a2']);
        assert.deepEqual(ids(asPage(await client.messages.list({ channel: 'webhook' }))), ['msg_b2']);
        assert.deepEqual(ids(asPage(await client.messages.list({ tenant_id: 'acme' }))), ['msg_b1']);
        assert.deepEqual(ids(asPage(await client.messages.list({ recipient_id: 'ben', channel: 'inbox' }))), ['msg_b1']);
        assert.deepEqual(
          ids(
            asPage(
              await client.messages.list({ created_at_gte: new Date(at(2)).toISOString(), created_at_lte: new Date(at(3)).toISOString() }),
            ),
          ),
          ['msg_b1', 'msg_a2'],
        );
      });

      test('messages.bulk_update applies each action to the message and its inbox notification', async () => {
        const notification = (id: string) =>
          h.herald.db
            .selectFrom('notifications')
            .select(['seen_at', 'read_at', 'interacted_at', 'archived_at'])
            .where('id', '=', `ntf_${id}`)
            .executeTakeFirstOrThrow();
        const status = async (id: string) =>
          (await h.herald.db.selectFrom('messages').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status;
        const now = h.clock.now();

        const result = (await client.messages.bulk_update([
          { message_id: 'msg_a1', action: 'seen' },
          { message_id: 'msg_a2', action: 'read' },
          { message_id: 'msg_b1', action: 'interacted' },
          { message_id: 'msg_c1', action: 'archive' },
        ])) as { records: BulkRecord[] };
        assert.deepEqual(
          result.records.map((r) => [r.message_id, r.status, r.error]),
          [
            ['msg_a1', 'success', null],
            ['msg_a2', 'success', null],
            ['msg_b1', 'success', null],
            ['msg_c1', 'success', null],
          ],
        );
        assert.deepEqual(await notification('msg_a1'), { seen_at: now, read_at: null, interacted_at: null, archived_at: null });
        assert.deepEqual(await notification('msg_a2'), { seen_at: now, read_at: now, interacted_at: null, archived_at: null });
        assert.deepEqual(await notification('msg_b1'), { seen_at: now, read_at: now, interacted_at: now, archived_at: null });
        assert.deepEqual(await notification('msg_c1'), { seen_at: null, read_at: null, interacted_at: null, archived_at: now });
        assert.deepEqual(
          [await status('msg_a1'), await status('msg_a2'), await status('msg_b1'), await status('msg_c1')],
          ['seen', 'read', 'interacted', 'archived'],
        );

        h.clock.advance(1000);
        const undo = (await client.messages.bulk_update([
          { message_id: 'msg_a2', action: 'unread' },
          { message_id: 'msg_c1', action: 'unarchive' },
          // An inbox message whose notification row is gone still changes status.
          { message_id: 'msg_c2', action: 'unread' },
        ])) as { records: BulkRecord[] };
        assert.ok(undo.records.every((r) => r.status === 'success'));
        assert.deepEqual(await notification('msg_a2'), { seen_at: now, read_at: null, interacted_at: null, archived_at: null });
        assert.deepEqual(await notification('msg_c1'), { seen_at: null, read_at: null, interacted_at: null, archived_at: null });
        assert.deepEqual([await status('msg_a2'), await status('msg_c1'), await status('msg_c2')], ['seen', 'delivered', 'seen']);
        const listed = asPage(await client.messages.list({ recipient_id: 'ann' })).results as unknown as Array<
          MessageView & { updated_at: string }
        >;
        assert.deepEqual(
          listed.map((m) => [m.status, m.updated_at]),
          [
            ['seen', new Date(now + 1000).toISOString()],
            ['seen', new Date(now).toISOString()],
          ],
        );
      });

      test('bulk_update reports unknown ids, unknown actions, non-inbox messages and other workspaces per item', async () => {
        const statusBefore = await h.herald.db.selectFrom('messages').select(['id', 'status', 'updated_at']).orderBy('id').execute();
        const result = (await client.messages.bulk_update([
          { message_id: 'msg_nope', action: 'read' },
          { message_id: 'msg_other', action: 'read' },
          { message_id: 'msg_a1', action: 'explode' },
          { message_id: 'msg_b2', action: 'read' },
          { message_id: 'msg_b1', action: 'interacted' },
        ])) as { records: BulkRecord[] };
        assert.deepEqual(
          result.records.map((r) => [r.message_id, r.status, r.error?.type]),
          [
            ['msg_nope', 'error', 'NOT_FOUND'],
            ['msg_other', 'error', 'NOT_FOUND'],
            ['msg_a1', 'error', 'VALIDATION_FAILED'],
            ['msg_b2', 'error', 'VALIDATION_FAILED'],
            ['msg_b1', 'success', undefined],
          ],
        );
        assert.equal(result.records[0]?.error?.message, 'message "msg_nope" not found');
        assert.equal(
          result.records[1]?.error?.message,
          'message "msg_other" not found',
          'another workspace reads exactly like a missing message',
        );
        assert.match(result.records[2]?.error?.message ?? '', /use seen, read/);
        assert.match(result.records[3]?.error?.message ?? '', /inbox messages only/);
        // msg_b1 was already interacted: nothing changes, and nothing else was touched.
        assert.deepEqual(
          await h.herald.db.selectFrom('messages').select(['id', 'status', 'updated_at']).orderBy('id').execute(),
          statusBefore,
        );
      });

      test("another workspace's messages are invisible to list", async () => {
        assert.deepEqual(ids(asPage(await other.messages.list())), ['msg_other']);
        assert.ok(!ids(asPage(await client.messages.list({ limit: 1000 }))).includes('msg_other'));
        assert.deepEqual(ids(asPage(await client.messages.list({ message_id: 'msg_other' }))), []);
      });

      test('malformed messages requests answer 400 and change nothing', async () => {
        const snapshot = () => h.herald.db.selectFrom('messages').select(['id', 'status', 'updated_at']).orderBy('id').execute();
        const before = await snapshot();
        const bad: unknown[] = ['not-a-list', [], [{ action: 'read' }], [{ message_id: 'msg_a1', action: 'read' }, 'x']];
        for (const messages of bad) {
          await assert.rejects(
            client.messages.bulk_update(messages as Array<{ message_id: string; action: string }>),
            apiError(400, /message/),
          );
        }
        assert.deepEqual(await snapshot(), before);

        await assert.rejects(client.messages.list({ after: 'not-a-cursor' }), apiError(400, /cursor/));
        await assert.rejects(client.messages.list({ limit: 0 }), apiError(400, /limit/));
        await assert.rejects(client.messages.list({ idempotency_key: 'k' }), apiError(400, /idempotency_key/));
        await assert.rejects(client.messages.list({ created_at_gte: 'yesterday' }), apiError(400, /created_at_gte/));
        await assert.rejects(client.messages.list(untypedOptions({ colour: 'red' })), apiError(400, /unknown query parameter "colour"/));
      });

      test('a plain REST client signing with an RFC 1123 Date and repeated recipient_id[] gets the same list', async () => {
        const target = '/v1/message?recipient_id%5B%5D=ben&recipient_id%5B%5D=ann&limit=2';
        const response = await fetch(`${h.baseUrl}${target}`, {
          headers: hmacHeaders(h.staging.workspaceKey, h.staging.secret, 'GET', target, undefined),
        });
        assert.equal(response.status, 200);
        const body = (await response.json()) as Page;
        assert.deepEqual(ids(body), ['msg_b2', 'msg_b1']);
      });
    });
  });
}
