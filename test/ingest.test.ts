import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { hmacHeaders } from './helpers/http.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { Event, SubscriberListBroadcast, suprsendClient, Workflow, WorkflowTriggerRequest } from './helpers/sdk.js';
import { CategoryService } from '../src/preferences/categories.service.js';
import { startWebhookReceiver, waitFor } from './helpers/webhook-receiver.js';

const ORDER_SHIPPED = {
  slug: 'order-shipped',
  name: 'Order shipped',
  category: 'transactional',
  steps: [
    {
      type: 'inbox',
      template: {
        header: 'Order {{data.order_id}} shipped',
        text: 'Hi {{recipient.name}}, your order is on its way.',
        url: 'https://shop.example/orders/{{data.order_id}}',
        tags: ['orders'],
        actions: [{ name: 'Track', url: 'https://shop.example/track/{{data.order_id}}' }],
      },
    },
  ],
};

/** workflows.trigger returns {success, status_code, message: <raw response text>} (its .d.ts says otherwise). */
function messageIdOf(result: unknown): string {
  return (JSON.parse((result as { message: string }).message) as { message_id: string }).message_id;
}

for (const engine of enginesUnderTest()) {
  describe(`ingest with the real Node SDK on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;
    let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
    let client: ReturnType<typeof suprsendClient>;

    const notificationsOf = (distinctId: string) =>
      h.herald.db
        .selectFrom('notifications')
        .selectAll()
        .where('workspace_id', '=', h.staging.id)
        .where('distinct_id', '=', distinctId)
        .execute();
    const countAll = async () =>
      Number(
        (
          await h.herald.db
            .selectFrom('notifications')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      receiver = await startWebhookReceiver();
      await new WorkflowService(h.herald).apply(h.staging.id, [
        ORDER_SHIPPED,
        { slug: 'order-webhook', category: 'transactional', steps: [{ type: 'webhook', url: receiver.url, headers: { 'x-team': 'ops' } }] },
      ]);
      client = suprsendClient(h.staging.workspaceKey, h.staging.secret, h.baseUrl);
    });

    after(async () => {
      await h?.close();
      await receiver?.close();
      await t?.cleanup();
    });

    test('workflows.trigger delivers an inbox notification per recipient, in the workspace and tenant', async () => {
      const request = new WorkflowTriggerRequest(
        {
          workflow: 'order-shipped',
          recipients: ['alice', { distinct_id: 'bob', $email: ['bob@example.com'], name: 'Bob' }],
          data: { order_id: 'A1' },
        },
        { tenant_id: 'acme' },
      );
      const result = await client.workflows.trigger(request);
      assert.equal(result.success, true, JSON.stringify(result));
      assert.equal(result.status_code, 202);
      const messageId = messageIdOf(result);
      assert.match(messageId, /^exe_/);

      const [bobs] = await notificationsOf('bob');
      assert.ok(bobs, 'bob has a notification');
      assert.equal(bobs.tenant_id, 'acme');
      assert.equal(bobs.category, 'transactional');
      assert.equal(bobs.execution_id, messageId);
      const content = JSON.parse(bobs.content) as {
        message: { header: string; text: string; url: string; actions: Array<{ url: string }> };
      };
      assert.equal(content.message.header, 'Order A1 shipped');
      assert.equal(content.message.text, 'Hi Bob, your order is on its way.');
      assert.equal(content.message.actions[0]?.url, 'https://shop.example/track/A1');
      assert.equal((await notificationsOf('alice')).length, 1);

      const bob = await client.users.get('bob');
      assert.deepEqual(bob['$email'], [{ value: 'bob@example.com' }]);
      assert.equal((bob['properties'] as Record<string, unknown>)['name'], 'Bob');
    });

    test('a webhook step POSTs a payload signed with the webhook secret', async () => {
      const { webhook_secret: webhookSecret } = await h.herald.webhookSecrets.roll(await h.herald.workspaces.get('staging'), 0);
      const before = receiver.received.length;
      const result = await client.workflows.trigger(
        new WorkflowTriggerRequest({ workflow: 'order-webhook', recipients: ['alice'], data: { order_id: 'W1' } }),
      );
      assert.equal(result.success, true);
      await waitFor(() => receiver.received.length > before);
      const hook = receiver.received[before];
      assert.ok(hook);
      const body = JSON.parse(hook.body) as { workflow: string; data: { order_id: string }; recipient: { distinct_id: string } };
      assert.equal(body.workflow, 'order-webhook');
      assert.equal(body.data.order_id, 'W1');
      assert.equal(body.recipient.distinct_id, 'alice');
      assert.equal(hook.headers['x-team'], 'ops');
      const signature = String(hook.headers['x-herald-signature']);
      const [, ts] = /t=(\d+)/.exec(signature) ?? [];
      const expected = createHmac('sha256', webhookSecret).update(`${ts}.${hook.body}`).digest('hex');
      assert.equal(signature, `t=${ts},v1=${expected}`);
      await waitFor(async () => {
        const row = await h.herald.db
          .selectFrom('messages')
          .select('status')
          .where('channel', '=', 'webhook')
          .where('workspace_id', '=', h.staging.id)
          .executeTakeFirst();
        return row?.status === 'sent';
      });
    });

    test('bulk triggers report per record; the valid ones are delivered', async () => {
      const bulk = client.workflows.bulk_trigger_instance();
      bulk.append(
        new WorkflowTriggerRequest({ workflow: 'order-shipped', recipients: ['bulk-1'], data: { order_id: 'B1' } }),
        new WorkflowTriggerRequest({ workflow: 'no-such-workflow', recipients: ['bulk-2'], data: {} }),
        new WorkflowTriggerRequest({ workflow: 'order-shipped', recipients: ['bulk-3'], data: { order_id: 'B3' } }),
      );
      const result = await bulk.trigger();
      assert.equal(result.total, 3);
      assert.equal((await notificationsOf('bulk-1')).length, 1);
      assert.equal((await notificationsOf('bulk-2')).length, 0);
      assert.equal((await notificationsOf('bulk-3')).length, 1);

      // What Python reads: one record per input, in order.
      const body = JSON.stringify([
        { workflow: 'order-shipped', recipients: ['bulk-4'], data: { order_id: 'B4' } },
        { workflow: 'no-such-workflow', recipients: ['bulk-5'], data: {} },
      ]);
      const response = await fetch(`${h.baseUrl}/trigger/`, {
        method: 'POST',
        body,
        headers: hmacHeaders(h.staging.workspaceKey, h.staging.secret, 'POST', '/trigger/', body),
      });
      assert.equal(response.status, 207);
      const json = (await response.json()) as { records: Array<{ status: string; status_code: number; error?: { message: string } }> };
      assert.deepEqual(
        json.records.map((r) => [r.status, r.status_code]),
        [
          ['success', 202],
          ['error', 404],
        ],
      );
      assert.match(json.records[1]?.error?.message ?? '', /workflow "no-such-workflow" not found/);
    });

    test('legacy trigger_workflow and bulk_workflows deliver by template slug, with the category override', async () => {
      const result = await client.trigger_workflow(
        new Workflow(
          {
            name: 'legacy',
            template: 'order-shipped',
            notification_category: 'promotional',
            users: [{ distinct_id: 'carol' }],
            data: { order_id: 'L1' },
          },
          { tenant_id: 'acme' },
        ),
      );
      assert.equal(result.success, true, JSON.stringify(result));
      const [carols] = await notificationsOf('carol');
      assert.equal(carols?.category, 'promotional');
      assert.equal(carols?.tenant_id, 'acme');

      const bulk = client.bulk_workflows.new_instance();
      bulk.append(
        new Workflow({
          name: 'l2',
          template: 'order-shipped',
          notification_category: 'transactional',
          users: [{ distinct_id: 'dora' }],
          data: {},
        }),
        new Workflow({
          name: 'l3',
          template: 'order-shipped',
          notification_category: 'transactional',
          users: [{ distinct_id: 'ed' }],
          data: {},
        }),
      );
      const bulkResult = await bulk.trigger();
      assert.equal(bulkResult.success, 2, JSON.stringify(bulkResult));
      assert.equal((await notificationsOf('dora')).length, 1);
      assert.equal((await notificationsOf('ed')).length, 1);
    });

    test('track_event and bulk_events store events once per $insert_id', async () => {
      const result = await client.track_event(new Event('alice', 'order_viewed', { sku: 'X1' }, { tenant_id: 'acme' }));
      assert.equal(result.success, true, JSON.stringify(result));
      const bulk = client.bulk_events.new_instance();
      bulk.append(new Event('alice', 'cart_opened', {}), new Event('bob', 'cart_opened', {}));
      const bulkResult = await bulk.trigger();
      assert.equal(bulkResult.success, 2, JSON.stringify(bulkResult));
      const events = await h.herald.db.selectFrom('events').selectAll().where('workspace_id', '=', h.staging.id).execute();
      assert.deepEqual(events.map((e) => e.event).sort(), ['cart_opened', 'cart_opened', 'order_viewed']);
      assert.equal(events.find((e) => e.event === 'order_viewed')?.tenant_id, 'acme');
    });

    test('identity events from user.save, bulk_users, users.async_edit and bulk edits update profiles', async () => {
      const dave = client.user.get_instance('dave');
      dave.add_email('dave@example.com');
      dave.set('plan', 'pro');
      dave.increment('logins', 2);
      dave.set_preferred_language('de');
      assert.equal((await dave.save()).success, true);
      const stored = await client.users.get('dave');
      assert.deepEqual(stored['$email'], [{ value: 'dave@example.com' }]);
      assert.deepEqual(stored['properties'], { plan: 'pro', logins: 2, $preferred_language: 'de' });

      const bulk = client.bulk_users.new_instance();
      const u1 = client.user.get_instance('fay');
      u1.add_sms('+15550001111');
      const u2 = client.user.get_instance('gus');
      u2.set('vip', true);
      bulk.append(u1, u2);
      assert.equal((await bulk.save()).success, 2);
      assert.deepEqual((await client.users.get('fay'))['$sms'], [{ value: '+15550001111' }]);

      const edit = client.users.get_edit_instance('dave');
      edit.remove_email('dave@example.com');
      edit.unset('plan');
      assert.equal((await client.users.async_edit(edit)).success, true);
      const edited = await client.users.get('dave');
      assert.equal(edited['$email'], undefined);
      assert.deepEqual(edited['properties'], { logins: 2, $preferred_language: 'de' });

      const bulkEdit = client.users.get_bulk_edit_instance();
      const e1 = client.users.get_edit_instance('gus');
      e1.set('vip', false);
      bulkEdit.append(e1);
      assert.equal((await bulkEdit.save()).success, 1);
      assert.equal(((await client.users.get('gus'))['properties'] as Record<string, unknown>)['vip'], false);
    });

    test('a repeated $idempotency_key returns the first result and delivers nothing new', async () => {
      const make = () =>
        new WorkflowTriggerRequest(
          { workflow: 'order-shipped', recipients: ['idem-user'], data: { order_id: 'I1' } },
          { idempotency_key: 'order-I1' },
        );
      const first = messageIdOf(await client.workflows.trigger(make()));
      const second = messageIdOf(await client.workflows.trigger(make()));
      assert.equal(second, first);
      assert.equal((await notificationsOf('idem-user')).length, 1);
    });

    test('Python-style requests: spaced JSON with raw UTF-8 on /v2/event/ and /v2/bulk/event/', async () => {
      const event = '{"distinct_id": "zoë", "event": "page_viewed", "properties": {"city": "Zürich"}, "$insert_id": "py-1"}';
      const single = await fetch(`${h.baseUrl}/v2/event/`, {
        method: 'POST',
        body: event,
        headers: hmacHeaders(h.staging.workspaceKey, h.staging.secret, 'POST', '/v2/event/', event),
      });
      assert.equal(single.status, 202);
      assert.equal(((await single.json()) as { status: string }).status, 'success');
      const bulk = `[${event}, {"distinct_id": "zoë", "event": "page_left", "$insert_id": "py-2"}]`;
      const many = await fetch(`${h.baseUrl}/v2/bulk/event/`, {
        method: 'POST',
        body: bulk,
        headers: hmacHeaders(h.staging.workspaceKey, h.staging.secret, 'POST', '/v2/bulk/event/', bulk),
      });
      assert.equal(many.status, 202);
      const records = ((await many.json()) as { records: Array<{ status: string }> }).records;
      assert.equal(records.length, 2);
      const stored = await h.herald.db.selectFrom('events').selectAll().where('distinct_id', '=', 'zoë').execute();
      assert.equal(stored.length, 2, 'the repeated $insert_id py-1 is stored once');
    });

    test('rejected requests write nothing: wrong secret, another workspace key in the path, revoked or expired API key', async () => {
      const before = await countAll();
      const body = JSON.stringify({ workflow: 'order-shipped', recipients: ['mallory'], data: {} });
      const wrongSecret = await fetch(`${h.baseUrl}/trigger/`, {
        method: 'POST',
        body,
        headers: hmacHeaders(h.staging.workspaceKey, `${h.staging.secret}x`, 'POST', '/trigger/', body),
      });
      assert.equal(wrongSecret.status, 401);
      assert.equal(((await wrongSecret.json()) as { error: { type: string } }).error.type, 'SIGNATURE_INVALID');

      const production = await h.herald.workspaces.get('production');
      const legacy = JSON.stringify({
        name: 'x',
        template: 'order-shipped',
        notification_category: 'transactional',
        users: [{ distinct_id: 'mallory' }],
        data: {},
      });
      const path = `/${production.workspaceKey}/trigger/`;
      const crossed = await fetch(`${h.baseUrl}${path}`, {
        method: 'POST',
        body: legacy,
        headers: hmacHeaders(h.staging.workspaceKey, h.staging.secret, 'POST', path, legacy),
      });
      assert.equal(crossed.status, 404);

      const staging = await h.herald.workspaces.get('staging');
      const revoked = await h.herald.apiKeys.create(staging, { name: 'revoked' });
      await h.herald.apiKeys.revoke(staging, revoked.id);
      const expiring = await h.herald.apiKeys.create(staging, { name: 'expiring', expiresInMs: 60_000 });
      await new Promise((resolve) => setTimeout(resolve, t.config.invalidationPollMs * 3));
      h.clock.advance(120_000);
      try {
        for (const key of [revoked.key, expiring.key]) {
          const response = await fetch(`${h.baseUrl}/trigger/`, {
            method: 'POST',
            body,
            headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          });
          assert.equal(response.status, 401);
        }
      } finally {
        h.clock.advance(-120_000);
      }
      assert.equal(await countAll(), before);
      assert.equal((await notificationsOf('mallory')).length, 0);
    });

    test('a Bearer API key triggers like a signed request; bad bodies get a clear 4xx', async () => {
      const staging = await h.herald.workspaces.get('staging');
      const { key } = await h.herald.apiKeys.create(staging, { name: 'rest' });
      const post = (body: string) =>
        fetch(`${h.baseUrl}/trigger`, {
          method: 'POST',
          body,
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        });
      const ok = await post(JSON.stringify({ workflow: 'order-shipped', recipients: ['rest-user'], data: { order_id: 'R1' } }));
      assert.equal(ok.status, 202);
      assert.equal((await notificationsOf('rest-user')).length, 1);
      const cases: Array<[string, number, RegExp]> = [
        ['{"workflow":"order-shipped","recipients":["x"],"data":{},"extra":1}', 400, /unknown field\(s\) extra/],
        ['{"workflow":"order-shipped","recipients":[]}', 400, /recipients must be a non-empty list/],
        ['{"workflow":"nope","recipients":["x"]}', 404, /workflow "nope" not found/],
        ['{not json', 400, /not valid JSON/],
      ];
      for (const [body, status, message] of cases) {
        const response = await post(body);
        assert.equal(response.status, status, body);
        const json = (await response.json()) as { message: string; status: string };
        assert.equal(json.status, 'error');
        assert.match(json.message, message);
      }
      assert.equal((await notificationsOf('x')).length, 0);
    });

    test('a list broadcast is accepted at once and delivered to every member in the background', async () => {
      await client.subscriber_lists.create({ list_id: 'beta-users', list_name: 'Beta users' });
      const members = Array.from({ length: 450 }, (_, i) => `beta-${String(i).padStart(3, '0')}`);
      for (let i = 0; i < members.length; i += 200) await client.subscriber_lists.add('beta-users', members.slice(i, i + 200));
      const result = await client.subscriber_lists.broadcast(
        new SubscriberListBroadcast({
          list_id: 'beta-users',
          template: 'order-shipped',
          notification_category: 'transactional',
          data: { order_id: 'BC' },
        }),
      );
      assert.equal(result.success, true, JSON.stringify(result));
      const delivered = () =>
        h.herald.db
          .selectFrom('notifications')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('workspace_id', '=', h.staging.id)
          .where('distinct_id', 'like', 'beta-%')
          .executeTakeFirstOrThrow();
      await waitFor(async () => Number((await delivered()).n) === members.length, 30_000);
      // The job is marked done after its last page commits.
      const job = () => h.herald.db.selectFrom('jobs').selectAll().where('kind', '=', 'broadcast').executeTakeFirstOrThrow();
      await waitFor(async () => (await job()).status === 'done', 10_000);
      assert.equal((await job()).attempts, 1);

      const missing = await client.subscriber_lists.broadcast(
        new SubscriberListBroadcast({
          list_id: 'no-such-list',
          template: 'order-shipped',
          notification_category: 'transactional',
          data: {},
        }),
      );
      assert.equal(missing.success, false);
      assert.equal(missing.status_code, 404);
    });

    test("a user's category opt-out suppresses the inbox notification; a mandatory category still arrives", async () => {
      await new CategoryService(h.herald).apply(h.staging.id, [
        { slug: 'promotional', name: 'Promotions', default_preference: 'opt_in' },
        { slug: 'security', name: 'Security alerts', default_preference: 'cant_unsubscribe' },
      ]);
      const path = '/v1/user/opted-out/preference/category/promotional/';
      const body = '{"preference": "opt_out"}';
      await client.users.upsert('opted-out', {});
      const optOut = await fetch(`${h.baseUrl}${path}`, {
        method: 'PATCH',
        body,
        headers: hmacHeaders(h.staging.workspaceKey, h.staging.secret, 'PATCH', path, body),
      });
      assert.equal(optOut.status, 200, await optOut.text());
      const legacy = (category: string) =>
        client.trigger_workflow(
          new Workflow({
            name: 'preference-check',
            template: 'order-shipped',
            notification_category: category,
            users: [{ distinct_id: 'opted-out' }],
            data: {},
          }),
        );
      assert.equal((await legacy('promotional')).success, true);
      assert.equal((await notificationsOf('opted-out')).length, 0, 'opted out of promotional');
      assert.equal((await legacy('security')).success, true);
      const delivered = await notificationsOf('opted-out');
      assert.deepEqual(
        delivered.map((n) => n.category),
        ['security'],
      );
    });

    test('bodies of 3 MB are accepted; larger than the limit get 413 with the envelope', async () => {
      const big = JSON.stringify({ distinct_id: 'big', event: 'big_event', properties: { blob: 'x'.repeat(3 * 1024 * 1024) } });
      const accepted = await fetch(`${h.baseUrl}/event/`, {
        method: 'POST',
        body: big,
        headers: hmacHeaders(h.staging.workspaceKey, h.staging.secret, 'POST', '/event/', big),
      });
      assert.equal(accepted.status, 202);
      const huge = JSON.stringify({ distinct_id: 'big', event: 'big_event', properties: { blob: 'x'.repeat(t.config.bodyLimitBytes) } });
      const rejected = await fetch(`${h.baseUrl}/event/`, {
        method: 'POST',
        body: huge,
        headers: hmacHeaders(h.staging.workspaceKey, h.staging.secret, 'POST', '/event/', huge),
      });
      assert.equal(rejected.status, 413);
      assert.equal(((await rejected.json()) as { error: { type: string } }).error.type, 'PAYLOAD_TOO_LARGE');
    });
  });
}
