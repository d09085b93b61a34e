import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LightMyRequestResponse as InjectResponse } from 'fastify';
import { createAdminGroupDeps } from '../src/admin/admin-group.js';
import { UserService } from '../src/users/users.service.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { hmacHeaders } from './helpers/http.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { startWebhookReceiver, waitFor } from './helpers/webhook-receiver.js';

/**
 * The dashboard's message log (GET /admin/api/workspaces/:ws/messages[/:id]) against real
 * deliveries: inbox notifications and a webhook whose receiver fails once, then succeeds.
 */

const PASSWORD = 'correct horse battery staple';
const CLI_ACTOR = { type: 'cli' as const, id: null, label: 'cli:test', ip: null };
const ORIGIN = 'http://localhost';
const WS = '/admin/api/workspaces/staging';
/** Credentials a webhook step carries: in its headers and in its URL's query. */
const HOOK_HEADER_VALUE = 'Bearer receiver-credential-42';
const HOOK_URL_TOKEN = 'url-token-s3cr3t';
/** webhook-sender.ts: the first retry waits 10 s. */
const FIRST_BACKOFF_MS = 10_000;

interface Entry {
  message_id: string;
  time: number;
  recipient_id: string;
  workflow: string;
  channel: string;
  status: string;
  webhook: {
    target_host: string | null;
    status: string;
    attempts: number;
    last_attempt_at: number | null;
    last_error: string | null;
    last_http_status: number | null;
    next_attempt_at: number | null;
    data?: Record<string, unknown> | null;
  } | null;
  notification?: { title: string | null; body: string | null; url: string | null; tags: string[] } | null;
}

interface Page {
  entries: Entry[];
  next: string | null;
}

for (const engine of enginesUnderTest()) {
  describe(`the admin message log on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;
    let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
    let cookie: string;
    let productionMessageId: string;
    let t0: number;

    const get = (url: string): Promise<InjectResponse> =>
      h.app.inject({ method: 'GET', url, headers: { origin: ORIGIN, cookie }, remoteAddress: '127.0.0.1' });

    async function page(query: string): Promise<Page> {
      const res = await get(`${WS}/messages${query}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<Page>();
    }

    async function detail(id: string): Promise<Entry> {
      const res = await get(`${WS}/messages/${encodeURIComponent(id)}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json<Entry>();
    }

    async function trigger(workflow: string, recipients: string[], data: Record<string, unknown> = {}): Promise<void> {
      const res = await h.signed('POST', '/trigger', JSON.stringify({ workflow, recipients, data }));
      assert.equal(res.statusCode, 202, res.body);
    }

    async function webhookMessageId(): Promise<string> {
      const [hook] = (await page('?channel=webhook')).entries;
      assert.ok(hook, 'a webhook message is listed');
      return hook.message_id;
    }

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      t0 = h.clock.now();
      receiver = await startWebhookReceiver(500);
      const deps = createAdminGroupDeps(h.herald);
      await deps.accounts.create({ email: 'viewer@example.com', password: PASSWORD, role: 'viewer' }, { kind: 'cli' }, CLI_ACTOR);
      const login = await h.app.inject({
        method: 'POST',
        url: '/admin/api/login',
        headers: { origin: ORIGIN },
        payload: { email: 'viewer@example.com', password: PASSWORD },
        remoteAddress: '127.0.0.1',
      });
      assert.equal(login.statusCode, 200, login.body);
      cookie = `herald_session=${login.cookies.find((c) => c.name === 'herald_session')?.value}`;

      await new UserService(h.herald).upsert(h.staging.id, 'alice', { name: 'Alice Liddell' });
      const workflows = new WorkflowService(h.herald);
      const welcome = {
        slug: 'welcome',
        name: 'Welcome',
        category: 'transactional',
        steps: [{ type: 'inbox', template: { header: 'Welcome {{recipient.name}}', text: 'Order {{data.order}}', tags: ['onboarding'] } }],
      };
      await workflows.apply(h.staging.id, [
        welcome,
        {
          slug: 'order-hook',
          category: 'transactional',
          steps: [
            { type: 'inbox', template: { header: 'Order {{data.order}}', text: 'On its way' } },
            { type: 'webhook', url: `${receiver.url}?token=${HOOK_URL_TOKEN}`, headers: { authorization: HOOK_HEADER_VALUE } },
          ],
        },
      ]);

      // The webhook fails first (HTTP 500); its retry is due 10 s later on the test clock.
      await trigger('order-hook', ['alice'], { order: 7, note: 'gift wrap' });
      await waitFor(() => receiver.received.length === 1);
      h.clock.advance(1_000);
      await trigger('welcome', ['bob', 'carol'], { order: 8 });
      h.clock.advance(1_000);
      await trigger('welcome', ['alice'], { order: 9 });

      // Another workspace's message, to be asked for through staging.
      const production = await h.herald.workspaces.get('production');
      await workflows.apply(production.id, [welcome]);
      const secret = await h.herald.workspaceSecrets.reveal(production.id);
      const body = JSON.stringify({ workflow: 'welcome', recipients: ['alice'], data: { order: 1 } });
      const res = await h.app.inject({
        method: 'POST',
        url: '/trigger',
        headers: hmacHeaders(production.workspaceKey, secret, 'POST', '/trigger', body),
        payload: body,
      });
      assert.equal(res.statusCode, 202, res.body);
      const row = await h.herald.db.selectFrom('messages').select('id').where('workspace_id', '=', production.id).executeTakeFirstOrThrow();
      productionMessageId = row.id;
    });

    after(async () => {
      await h?.close();
      await receiver?.close();
      await t?.cleanup();
    });

    test('lists the workspace’s messages newest first, and only them', async () => {
      const { entries, next } = await page('');
      assert.equal(next, null);
      assert.equal(entries.length, 5);
      const sorted = [...entries].sort((a, b) => b.time - a.time || (a.message_id < b.message_id ? 1 : -1));
      assert.deepEqual(
        entries.map((e) => e.message_id),
        sorted.map((e) => e.message_id),
      );
      assert.equal(entries[0]?.workflow, 'welcome');
      assert.equal(entries[0]?.time, t0 + 2_000);
      assert.deepEqual(new Set(entries.slice(1, 3).map((e) => e.recipient_id)), new Set(['bob', 'carol']));
      assert.deepEqual(new Set(entries.slice(3).map((e) => e.channel)), new Set(['inbox', 'webhook']));
      assert.ok(!entries.some((e) => e.message_id === productionMessageId), "another workspace's message is not listed");
      for (const entry of entries) {
        assert.equal(entry.webhook === null, entry.channel === 'inbox', `${entry.channel} message has webhook state iff it is a webhook`);
      }
    });

    test('pages with `before`, to the same list', async () => {
      const all = (await page('')).entries.map((e) => e.message_id);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const current: Page = await page(`?limit=2${cursor ? `&before=${encodeURIComponent(cursor)}` : ''}`);
        assert.ok(current.entries.length <= 2);
        seen.push(...current.entries.map((e) => e.message_id));
        cursor = current.next;
        pages += 1;
      } while (cursor !== null);
      assert.equal(pages, 3);
      assert.deepEqual(seen, all);
      // With a filter too.
      const first = await page('?recipient=alice&limit=2');
      assert.equal(first.entries.length, 2);
      assert.ok(first.next);
      const second = await page(`?recipient=alice&limit=2&before=${encodeURIComponent(first.next)}`);
      assert.equal(second.entries.length, 1);
      assert.equal(second.next, null);
      assert.deepEqual(
        [...first.entries, ...second.entries].map((e) => e.message_id),
        all.filter((id) => [...first.entries, ...second.entries].some((e) => e.message_id === id)),
      );
    });

    test('filters by status, channel, recipient and workflow', async () => {
      const ids = async (query: string) =>
        (await page(query)).entries.map((e) => `${e.recipient_id}/${e.workflow}/${e.channel}/${e.status}`).sort();
      assert.deepEqual(await ids('?channel=webhook'), ['alice/order-hook/webhook/queued']);
      assert.equal((await ids('?channel=inbox')).length, 4);
      assert.deepEqual(await ids('?status=queued'), ['alice/order-hook/webhook/queued']);
      assert.equal((await ids('?status=delivered')).length, 4);
      assert.deepEqual(await ids('?status=failed'), []);
      assert.deepEqual(await ids('?recipient=bob'), ['bob/welcome/inbox/delivered']);
      assert.deepEqual(await ids('?recipient=alice'), [
        'alice/order-hook/inbox/delivered',
        'alice/order-hook/webhook/queued',
        'alice/welcome/inbox/delivered',
      ]);
      assert.deepEqual(await ids('?workflow=order-hook'), ['alice/order-hook/inbox/delivered', 'alice/order-hook/webhook/queued']);
      assert.deepEqual(await ids('?workflow=welcome&recipient=alice'), ['alice/welcome/inbox/delivered']);
      assert.deepEqual(await ids('?workflow=no-such-workflow'), []);
    });

    test('a message shows its rendered notification', async () => {
      const [latest] = (await page('?recipient=alice&workflow=welcome')).entries;
      assert.ok(latest);
      const shown = await detail(latest.message_id);
      assert.equal(shown.channel, 'inbox');
      assert.equal(shown.status, 'delivered');
      assert.equal(shown.webhook, null);
      assert.equal(shown.notification?.title, 'Welcome Alice Liddell');
      assert.equal(shown.notification?.body, 'Order 9');
      assert.deepEqual(shown.notification?.tags, ['onboarding']);
    });

    test('a webhook message shows a failed attempt, then the successful retry', async () => {
      const id = await webhookMessageId();
      await waitFor(async () => (await detail(id)).webhook?.last_error !== null);
      const failed = await detail(id);
      assert.equal(failed.status, 'queued');
      assert.equal(failed.notification, null);
      assert.deepEqual(failed.webhook, {
        target_host: new URL(receiver.url).host,
        status: 'pending',
        attempts: 1,
        last_attempt_at: t0,
        last_error: 'HTTP 500',
        last_http_status: 500,
        next_attempt_at: t0 + FIRST_BACKOFF_MS,
        data: { order: 7, note: 'gift wrap' },
      });
      const listed = (await page('?channel=webhook')).entries[0];
      assert.equal(listed?.webhook?.attempts, 1);
      assert.equal(listed?.webhook?.last_http_status, 500);

      receiver.setStatus(200);
      h.clock.advance(FIRST_BACKOFF_MS);
      const retriedAt = h.clock.now();
      await waitFor(async () => (await detail(id)).status === 'sent');
      const sent = await detail(id);
      assert.equal(receiver.received.length, 2);
      assert.deepEqual(sent.webhook, {
        target_host: new URL(receiver.url).host,
        status: 'sent',
        attempts: 2,
        last_attempt_at: retriedAt,
        last_error: null,
        last_http_status: null,
        next_attempt_at: null,
        data: { order: 7, note: 'gift wrap' },
      });
      assert.deepEqual(
        (await page('?status=sent')).entries.map((e) => e.message_id),
        [id],
      );
      // The step's credentials (a header, the URL's query) appear nowhere in the log.
      for (const body of [(await get(`${WS}/messages/${id}`)).body, (await get(`${WS}/messages`)).body]) {
        assert.ok(!body.includes(HOOK_HEADER_VALUE), 'webhook header value shown');
        assert.ok(!body.includes(HOOK_URL_TOKEN), 'webhook URL query shown');
        assert.ok(!body.includes('/hook'), 'webhook URL path shown');
      }
    });

    test('bad filters are 400s that name the filter', async () => {
      const cases: Array<[string, RegExp]> = [
        ['status=bogus', /status must be one of/],
        ['channel=email', /channel must be one of inbox, webhook/],
        ['limit=0', /limit must be a whole number from 1 to 200/],
        ['limit=201', /limit/],
        ['limit=ten', /limit/],
        ['before=not-a-cursor', /before must be a cursor taken from next/],
        [`before=${'A'.repeat(300)}`, /before is longer than/],
        ['workflow=has%20space', /workflow must be a workflow slug/],
        [`recipient=${'r'.repeat(513)}`, /recipient is longer than 512/],
        ['recipient=a%00b', /"recipient" contains the character U\+0000/],
        ['status=sent&status=failed', /status must be given once/],
        ['recipient_id=alice', /unknown filter "recipient_id"/],
      ];
      for (const [query, message] of cases) {
        const res = await get(`${WS}/messages?${query}`);
        assert.equal(res.statusCode, 400, `${query}: ${res.body}`);
        const error = res.json<{ error: { type: string; message: string } }>().error;
        assert.equal(error.type, 'VALIDATION_FAILED', query);
        assert.match(error.message, message, query);
      }
    });

    test("another workspace's message answers exactly like a missing one", async () => {
      const missing = 'msg_0000000000000000000000';
      const other = await get(`${WS}/messages/${productionMessageId}`);
      const none = await get(`${WS}/messages/${missing}`);
      assert.equal(other.statusCode, 404);
      assert.equal(none.statusCode, 404);
      assert.equal(other.body.replaceAll(productionMessageId, '<id>'), none.body.replaceAll(missing, '<id>'));
      // The message exists and is readable through its own workspace.
      const own = await get(`/admin/api/workspaces/production/messages/${productionMessageId}`);
      assert.equal(own.statusCode, 200, own.body);
      const tooLong = await get(`${WS}/messages/msg_${'x'.repeat(96)}`);
      assert.equal(tooLong.statusCode, 404, tooLong.body);
    });
  });
}
