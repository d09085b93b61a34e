import assert from 'node:assert/strict';
import { createHash, createPrivateKey } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SuprSend } from '@suprsend/web-sdk';
import { SignJWT } from 'jose';
import { CompiledQuery } from 'kysely';
import { feedPageQuery, type FeedScope } from '../src/inbox/inbox.repo.js';
import { InboxService } from '../src/inbox/inbox.service.js';
import { DEFAULT_STORE, parseStoreParam } from '../src/inbox/store-filter.js';
import type { JsonObject } from '../src/lib/json.js';
import type { RealtimeEvent, RealtimeNotifier, RealtimeTarget } from '../src/realtime/realtime.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { suprsendClient, WorkflowTriggerRequest } from './helpers/sdk.js';

/**
 * The in-app feed as the unmodified web SDK 4.x drives it (reference/client-sdk-protocol.md §5.3):
 * notifications delivered for real through the backend Node SDK, read and changed through
 * `@suprsend/web-sdk` running in Node, checked against the database.
 */

// The SDK only touches localStorage in a browser (it checks for `window`), but keep one in place
// so a code path that does not check cannot crash the run.
const storage = new Map<string, string>();
Object.assign(globalThis, {
  localStorage: {
    getItem: (key: string) => storage.get(key) ?? null,
    setItem: (key: string, value: string) => void storage.set(key, String(value)),
    removeItem: (key: string) => void storage.delete(key),
    clear: () => storage.clear(),
  },
});

const NOTIFICATION_KEYS = [
  'archived',
  'can_user_unpin',
  'created_on',
  'expiry',
  'interacted_on',
  'is_expiry_visible',
  'is_pinned',
  'message',
  'n_category',
  'n_id',
  'read_on',
  'seen_on',
  'tags',
  'tenant_id',
];

const WORKFLOWS = [
  {
    slug: 'feed-plain',
    category: 'transactional',
    steps: [{ type: 'inbox', template: { header: 'N{{data.n}}', text: 'Text {{data.n}}' } }],
  },
  {
    slug: 'feed-billing',
    category: 'billing',
    steps: [{ type: 'inbox', template: { header: 'Bill {{data.n}}', text: 'Pay', tags: ['billing'] } }],
  },
  {
    slug: 'feed-pinned',
    category: 'transactional',
    steps: [{ type: 'inbox', template: { header: 'N{{data.n}}', text: 'Pinned', is_pinned: true, can_user_unpin: true } }],
  },
  {
    slug: 'feed-expiring',
    category: 'transactional',
    steps: [{ type: 'inbox', template: { header: 'N{{data.n}}', text: 'Soon gone', expiry: '30s', is_expiry_visible: true } }],
  },
];

const TOKEN_LIFETIME_S = 30 * 86_400;

/*
 * The SDK's own types (web-sdk interface.ts / feed.ts), restated: its .d.ts files import each
 * other without extensions, which NodeNext cannot follow, so the package's types arrive as `any`.
 */
interface RemoteNotification {
  n_id: string;
  n_category: string;
  tenant_id: string;
  created_on: number;
  seen_on: number | null;
  read_on: number | null;
  interacted_on: number | null;
  archived: boolean;
  tags: string[];
  expiry: number | null;
  is_expiry_visible: boolean;
  is_pinned: boolean;
  can_user_unpin: boolean;
  message: { schema: string; header?: string; text: string };
}
interface SdkResponse {
  status: 'success' | 'error';
  statusCode?: number;
  body?: unknown;
  error?: { type?: string; message?: string };
}
interface StoreConfig {
  storeId: string;
  label?: string;
  query?: { tags?: string | string[]; categories?: string | string[]; read?: boolean; archived?: boolean };
}
interface SdkFeed {
  data: {
    notifications: RemoteNotification[];
    pageInfo: { total: number; hasMore: boolean; pageSize: number };
    meta: Record<string, number>;
  };
  fetch(): Promise<SdkResponse | undefined>;
  fetchNextPage(): Promise<SdkResponse | undefined>;
  fetchCount(): Promise<SdkResponse>;
  fetchDetails(id: string): Promise<SdkResponse>;
  changeActiveStore(storeId: string): Promise<SdkResponse | undefined>;
  markAsSeen(id: string): Promise<SdkResponse>;
  markAsRead(id: string): Promise<SdkResponse>;
  markAsUnread(id: string): Promise<SdkResponse>;
  markAsInteracted(id: string): Promise<SdkResponse>;
  markAsArchived(id: string): Promise<SdkResponse>;
  markBulkAsSeen(ids: string[]): Promise<SdkResponse>;
  resetBadgeCount(): Promise<SdkResponse>;
  markAllAsRead(): Promise<SdkResponse>;
}
interface SdkClient {
  identify(distinctId: string, userToken?: string): Promise<SdkResponse>;
  feeds: {
    initialize(options: {
      tenantId?: string;
      pageSize?: number;
      stores?: StoreConfig[];
      host: { apiHost: string; socketHost: string };
    }): SdkFeed;
  };
  reset(options: { unsubscribePush: boolean }): Promise<unknown>;
}

function countsOf(response: SdkResponse): Record<string, number> {
  assert.equal(response.status, 'success', JSON.stringify(response));
  return response.body as Record<string, number>;
}

interface Recorded {
  target: RealtimeTarget;
  event: RealtimeEvent;
  payload: JsonObject;
}

for (const engine of enginesUnderTest()) {
  describe(`in-app feed with the real web SDK on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;
    let publicKey: string;
    let signingPem: string;
    let signingKid: string;
    let backend: ReturnType<typeof suprsendClient>;
    const clients: SdkClient[] = [];

    const token = (distinctId: string, tenantId = 'default') =>
      new SignJWT({ entity_type: 'subscriber', entity_id: distinctId, scope: { tenant_id: tenantId } })
        .setProtectedHeader({ alg: 'ES256', kid: signingKid })
        .setIssuedAt(Math.floor(h.clock.now() / 1000) - 60)
        .setExpirationTime(Math.floor(h.clock.now() / 1000) + TOKEN_LIFETIME_S)
        .sign(createPrivateKey(signingPem));

    /**
     * Delivers one inbox notification through the backend SDK; returns its id. Each call is 100 ms
     * after the previous one (the clock stays near real time: the SDK's HMAC Date header is real).
     */
    const deliver = async (workflow: string, distinctId: string, n: number, tenantId = 'default', advanceMs = 100) => {
      h.clock.advance(advanceMs);
      const result = await backend.workflows.trigger(
        new WorkflowTriggerRequest({ workflow, recipients: [distinctId], data: { n } }, { tenant_id: tenantId }),
      );
      assert.equal(result.success, true, JSON.stringify(result));
      // workflows.trigger returns {success, status_code, message: <raw response text>} (its .d.ts says otherwise).
      const executionId = (JSON.parse((result as unknown as { message: string }).message) as { message_id: string }).message_id;
      const row = await h.herald.db
        .selectFrom('notifications')
        .select('id')
        .where('workspace_id', '=', h.staging.id)
        .where('execution_id', '=', executionId)
        .executeTakeFirstOrThrow();
      return row.id;
    };

    const rowOf = (id: string) => h.herald.db.selectFrom('notifications').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    const messageStatusOf = async (notificationId: string) =>
      (await h.herald.db.selectFrom('messages').select('status').where('notification_id', '=', notificationId).executeTakeFirstOrThrow())
        .status;

    /** The unmodified SDK, identified as `distinctId` with a token scoped to `tenantId`. */
    const openFeed = async (distinctId: string, options: { tenantId?: string; pageSize?: number; stores?: StoreConfig[] } = {}) => {
      const client = new SuprSend(publicKey, { host: h.baseUrl }) as SdkClient;
      clients.push(client);
      const identified = await client.identify(distinctId, await token(distinctId, options.tenantId ?? 'default'));
      assert.equal(identified.status, 'success', JSON.stringify(identified));
      const feed = client.feeds.initialize({
        ...options,
        host: { apiHost: h.baseUrl, socketHost: h.baseUrl },
      });
      return feed;
    };
    const idsOf = (feed: SdkFeed) => feed.data.notifications.map((n) => n.n_id);

    /** Plain HTTP, for what the SDK never sends. */
    const call = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
      const response = await fetch(`${h.baseUrl}${path}`, {
        method,
        headers: { 'content-type': 'application/json', authorization: publicKey, ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, text: await response.text() };
    };
    const asUser = async (distinctId: string, tenantId = 'default') => ({ 'x-ss-signature': await token(distinctId, tenantId) });

    /** Everything a feed call could write, as one digest. */
    const snapshot = async () => {
      const parts = [
        await h.herald.db.selectFrom('notifications').selectAll().orderBy('id').execute(),
        await h.herald.db.selectFrom('messages').selectAll().orderBy('id').execute(),
        await h.herald.db.selectFrom('inbox_badges').selectAll().orderBy('distinct_id').execute(),
      ];
      return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
    };

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      const staging = await h.herald.workspaces.get('staging');
      publicKey = (await h.herald.publicKeys.create(staging, {})).key;
      const signing = await h.herald.signingKeys.create(staging, {});
      signingPem = signing.pem;
      signingKid = signing.kid;
      await new WorkflowService(h.herald).apply(h.staging.id, WORKFLOWS);
      backend = suprsendClient(h.staging.workspaceKey, h.staging.secret, h.baseUrl);
      // Credential changes reach the app's cache by polling.
      await new Promise((resolve) => setTimeout(resolve, t.config.invalidationPollMs * 3));
    });

    after(async () => {
      // The SDK keeps an expiry timer per fetched feed; reset() clears it so the process can exit.
      for (const client of clients) await client.reset({ unsubscribePush: false });
      await h?.close();
      await t?.cleanup();
    });

    test('fetch and fetchNextPage: pinned first, then newest first, exact pages, nothing repeated', async () => {
      const ids: string[] = [];
      for (let n = 0; n < 8; n++) ids.push(await deliver(n === 2 || n === 5 ? 'feed-pinned' : 'feed-plain', 'pager', n));
      const byN = (...ns: number[]) => ns.map((n) => ids[n] as string);
      const feed = await openFeed('pager', { pageSize: 3 });

      const first = await feed.fetch();
      assert.equal(first?.status, 'success', JSON.stringify(first));
      assert.deepEqual(idsOf(feed), byN(5, 2, 7));
      assert.equal(feed.data.pageInfo.hasMore, true);
      assert.equal(feed.data.pageInfo.total, 8);
      await feed.fetchNextPage();
      assert.deepEqual(idsOf(feed), byN(5, 2, 7, 6, 4, 3));
      assert.equal(feed.data.pageInfo.hasMore, true);
      await feed.fetchNextPage();
      assert.deepEqual(idsOf(feed), byN(5, 2, 7, 6, 4, 3, 1, 0));
      assert.equal(feed.data.pageInfo.hasMore, false);
      const past = await feed.fetchNextPage();
      assert.equal(past?.status, 'error');

      // The Notification object exactly as the SDK reads it.
      const pinned = feed.data.notifications[0] as RemoteNotification;
      const row = await rowOf(pinned.n_id);
      assert.deepEqual(Object.keys(pinned).sort(), NOTIFICATION_KEYS);
      assert.deepEqual(
        { ...pinned, message: undefined },
        {
          n_id: row.id,
          n_category: 'transactional',
          tenant_id: 'default',
          created_on: row.created_at,
          seen_on: null,
          read_on: null,
          interacted_on: null,
          archived: false,
          tags: [],
          expiry: null,
          is_expiry_visible: false,
          is_pinned: true,
          can_user_unpin: true,
          message: undefined,
        },
      );
      assert.equal(pinned.message.header, 'N5');
      assert.equal(pinned.message.text, 'Pinned');
      assert.equal(pinned.message.schema, '1.0');
      assert.equal((feed.data.notifications[2] as RemoteNotification).is_pinned, false);
    });

    test('notifications created in the same millisecond are never split across pages', async () => {
      const older = [await deliver('feed-plain', 'ties', 0), await deliver('feed-plain', 'ties', 1)];
      h.clock.advance(1_000);
      const tied: string[] = [];
      for (let n = 2; n < 7; n++) tied.push(await deliver('feed-plain', 'ties', n, 'default', 0));
      const feed = await openFeed('ties', { pageSize: 2 });
      await feed.fetch();
      // A cut after 2 would make the SDK's next search_after ([false, t]) skip or repeat the rest of the run.
      assert.deepEqual([...idsOf(feed)].sort(), [...tied].sort());
      assert.equal(feed.data.pageInfo.hasMore, true);
      await feed.fetchNextPage();
      assert.deepEqual(idsOf(feed).slice(5), [older[1], older[0]]);
      assert.equal(new Set(idsOf(feed)).size, 7);
      assert.equal(feed.data.pageInfo.hasMore, false);
    });

    test('page_no + before (web 3.x, Android 2.x) pages by number with page meta', async () => {
      const ids: string[] = [];
      for (let n = 0; n < 5; n++) ids.push(await deliver('feed-plain', 'numbered', n));
      const frozenAt = h.clock.now();
      await deliver('feed-plain', 'numbered', 5);
      const headers = await asUser('numbered');
      const page2 = await call(
        'GET',
        `/v1/feed/notifications?distinct_id=numbered&tenant_id=default&page_no=2&page_size=2&before=${frozenAt}`,
        headers,
      );
      assert.equal(page2.status, 200, page2.text);
      const body = JSON.parse(page2.text) as { results: Array<{ n_id: string }>; meta: JsonObject };
      assert.deepEqual(
        body.results.map((r) => r.n_id),
        [ids[2], ids[1]],
      );
      assert.deepEqual(body.meta, { total_count: 5, has_more: true, current_page: 2, total_pages: 3 });
      const page3 = JSON.parse(
        (await call('GET', `/v1/feed/notifications?distinct_id=numbered&page_no=3&page_size=2&before=${frozenAt}`, headers)).text,
      ) as { results: Array<{ n_id: string }>; meta: JsonObject };
      assert.deepEqual(
        page3.results.map((r) => r.n_id),
        [ids[0]],
      );
      assert.deepEqual(page3.meta, { total_count: 5, has_more: false, current_page: 3, total_pages: 3 });
    });

    test('stores filter the feed the way the SDK files notifications, and count their unread', async () => {
      const p1 = await deliver('feed-plain', 'shopper', 1);
      const p2 = await deliver('feed-plain', 'shopper', 2);
      const b1 = await deliver('feed-billing', 'shopper', 3);
      const b2 = await deliver('feed-billing', 'shopper', 4);
      const headers = await asUser('shopper');
      assert.equal((await call('PATCH', `/v1/feed/notifications/${p1}/archive?distinct_id=shopper`, headers, {})).status, 200);
      assert.equal((await call('PATCH', `/v1/feed/notifications/${b1}/read?distinct_id=shopper`, headers, {})).status, 200);

      const feed = await openFeed('shopper', {
        stores: [
          { storeId: 'all', label: 'All' },
          { storeId: 'unread', label: 'Unread', query: { read: false } },
          { storeId: 'billing-tag', label: 'Bills', query: { tags: 'billing' } },
          { storeId: 'billing-read', label: 'Paid', query: { categories: ['billing'], read: true } },
          { storeId: 'archived', label: 'Archive', query: { archived: true } },
        ],
      });
      await feed.fetch();
      assert.deepEqual(idsOf(feed), [b2, b1, p2]);
      const expected: Record<string, string[]> = {
        unread: [b2, p2],
        'billing-tag': [b2, b1],
        'billing-read': [b1],
        archived: [p1],
      };
      for (const [storeId, ids] of Object.entries(expected)) {
        await feed.changeActiveStore(storeId);
        assert.deepEqual(idsOf(feed), ids, storeId);
      }

      const count = await feed.fetchCount();
      // badge: unseen among everything the stores show (p1 in archive, p2, b2); b1 was read, so seen.
      assert.deepEqual(countsOf(count), { all: 2, unread: 2, 'billing-tag': 1, 'billing-read': 0, archived: 1, badge: 3 });
      assert.deepEqual(feed.data.meta, count.body);

      // Without stores the bell counts the default store: everything not archived.
      const plain = await call('GET', '/v1/feed/notifications_count?distinct_id=shopper&tenant_id=default', headers);
      assert.deepEqual(JSON.parse(plain.text), { badge: 2 });
    });

    test('markAsSeen / Read / Unread / Interacted / Archived change the notification and its message together', async () => {
      const a = await deliver('feed-plain', 'actor', 1);
      const b = await deliver('feed-plain', 'actor', 2);
      const c = await deliver('feed-plain', 'actor', 3);
      const feed = await openFeed('actor');
      await feed.fetch();
      const expectSuccess = (response: SdkResponse | undefined) => {
        assert.equal(response?.status, 'success', JSON.stringify(response));
        assert.equal(response?.statusCode, 200);
        assert.deepEqual(response?.body, { success: true });
      };

      h.clock.advance(10);
      const at = h.clock.now();
      expectSuccess(await feed.markAsSeen(a));
      assert.deepEqual([(await rowOf(a)).seen_at, (await rowOf(a)).read_at], [at, null]);
      assert.equal(await messageStatusOf(a), 'seen');

      expectSuccess(await feed.markAsRead(b));
      assert.deepEqual([(await rowOf(b)).seen_at, (await rowOf(b)).read_at], [at, at]);
      assert.equal(await messageStatusOf(b), 'read');

      expectSuccess(await feed.markAsUnread(b));
      assert.deepEqual([(await rowOf(b)).seen_at, (await rowOf(b)).read_at], [at, null]);
      assert.equal(await messageStatusOf(b), 'seen');

      expectSuccess(await feed.markAsInteracted(c));
      const clicked = await rowOf(c);
      assert.deepEqual([clicked.seen_at, clicked.read_at, clicked.interacted_at], [at, at, at]);
      assert.equal(await messageStatusOf(c), 'interacted');

      expectSuccess(await feed.markAsArchived(a));
      assert.equal((await rowOf(a)).archived_at, at);
      assert.equal(await messageStatusOf(a), 'archived');

      const detail = await feed.fetchDetails(a);
      assert.equal(detail.status, 'success');
      assert.equal((detail.body as RemoteNotification).archived, true);
      const fresh = await openFeed('actor');
      await fresh.fetch();
      assert.deepEqual(idsOf(fresh), [c, b]);
      assert.equal((fresh.data.notifications[0] as RemoteNotification).interacted_on, at);
      assert.equal((fresh.data.notifications[1] as RemoteNotification).read_on, null);
    });

    test("markBulkAsSeen marks the user's own notifications only", async () => {
      const mine = [await deliver('feed-plain', 'scroller', 1), await deliver('feed-plain', 'scroller', 2)];
      const untouched = await deliver('feed-plain', 'scroller', 3);
      const theirs = await deliver('feed-plain', 'bystander', 1);
      const feed = await openFeed('scroller');
      await feed.fetch();
      const response = await feed.markBulkAsSeen([...mine, theirs, 'ntf_missing']);
      assert.equal(response.status, 'success', JSON.stringify(response));
      for (const id of mine) {
        assert.equal((await rowOf(id)).seen_at, h.clock.now());
        assert.equal(await messageStatusOf(id), 'seen');
      }
      assert.equal((await rowOf(untouched)).seen_at, null);
      assert.equal((await rowOf(theirs)).seen_at, null);
      assert.equal(await messageStatusOf(theirs), 'delivered');

      const tooMany = await call('POST', '/v1/feed/bulk/notifications/seen?distinct_id=scroller', await asUser('scroller'), {
        notification_ids: Array.from({ length: 101 }, (_, i) => `ntf_${i}`),
      });
      assert.equal(tooMany.status, 400);
    });

    test('resetBadgeCount zeroes the bell until something new arrives', async () => {
      await deliver('feed-plain', 'ringer', 1);
      await deliver('feed-plain', 'ringer', 2);
      const feed = await openFeed('ringer');
      assert.equal(countsOf(await feed.fetchCount())['badge'], 2);
      const reset = await feed.resetBadgeCount();
      assert.equal(reset.status, 'success');
      assert.equal(countsOf(await feed.fetchCount())['badge'], 0);
      const fresh = await deliver('feed-plain', 'ringer', 3);
      assert.equal(countsOf(await feed.fetchCount())['badge'], 1);
      await feed.fetch();
      await feed.markAsSeen(fresh);
      assert.equal(countsOf(await feed.fetchCount())['badge'], 0);
    });

    test("markAllAsRead reads and sees everything unread in the user's tenant, and nothing else", async () => {
      const ids = [
        await deliver('feed-plain', 'reader', 1),
        await deliver('feed-plain', 'reader', 2),
        await deliver('feed-plain', 'reader', 3),
      ];
      const otherTenant = await deliver('feed-plain', 'reader', 4, 'acme');
      const otherUser = await deliver('feed-plain', 'nonreader', 1);
      const feed = await openFeed('reader', { stores: [{ storeId: 'unread', label: 'Unread', query: { read: false } }] });
      await feed.fetch();
      await feed.markAsSeen(ids[0] as string);
      const seenAt = h.clock.now();
      h.clock.advance(10);
      const response = await feed.markAllAsRead();
      assert.equal(response.status, 'success', JSON.stringify(response));
      for (const id of ids) {
        const row = await rowOf(id);
        assert.equal(row.read_at, h.clock.now());
        assert.equal(row.seen_at, id === ids[0] ? seenAt : h.clock.now());
        assert.equal(await messageStatusOf(id), 'read');
      }
      assert.equal((await rowOf(otherTenant)).read_at, null);
      assert.equal((await rowOf(otherUser)).read_at, null);
      assert.deepEqual(countsOf(await feed.fetchCount()), { unread: 0, badge: 0 });
    });

    test('expired notifications drop out of the feed, the counts and the detail call', async () => {
      const expiring = await deliver('feed-expiring', 'mayfly', 1);
      const lasting = await deliver('feed-plain', 'mayfly', 2);
      const created = h.clock.now() - 100;
      const feed = await openFeed('mayfly');
      await feed.fetch();
      assert.deepEqual(idsOf(feed), [lasting, expiring]);
      const shown = feed.data.notifications[1] as RemoteNotification;
      assert.equal(shown.expiry, created + 30_000);
      assert.equal(shown.is_expiry_visible, true);
      assert.equal(countsOf(await feed.fetchCount())['badge'], 2);

      h.clock.advance(30_000);
      const later = await openFeed('mayfly');
      await later.fetch();
      assert.deepEqual(idsOf(later), [lasting]);
      assert.equal(later.data.pageInfo.total, 1);
      assert.equal(countsOf(await later.fetchCount())['badge'], 1);
      const detail = await later.fetchDetails(expiring);
      assert.equal(detail.status, 'error');
      assert.equal(detail.statusCode, 404);
      assert.equal((await later.markAsRead(expiring)).statusCode, 404);
    });

    test("another user's notification is a 404 identical to a missing one; other users and tenants are 403; nothing changes", async () => {
      const alices = await deliver('feed-plain', 'alice', 1);
      const bobs = await deliver('feed-plain', 'bob', 1);
      await deliver('feed-plain', 'alice', 2, 'acme');
      const alice = await asUser('alice');
      const before = await snapshot();

      const missing = 'ntf_doesnotexist0000000';
      for (const [method, suffix] of [
        ['GET', ''],
        ['PATCH', '/read'],
        ['PATCH', '/archive'],
      ] as const) {
        const other = await call(
          method,
          `/v1/feed/notifications/${bobs}${suffix}?distinct_id=alice&tenant_id=default`,
          alice,
          method === 'GET' ? undefined : {},
        );
        const none = await call(
          method,
          `/v1/feed/notifications/${missing}${suffix}?distinct_id=alice&tenant_id=default`,
          alice,
          method === 'GET' ? undefined : {},
        );
        assert.equal(other.status, 404);
        assert.equal(other.text.replaceAll(bobs, 'ID'), none.text.replaceAll(missing, 'ID'));
        assert.ok(!other.text.includes('bob"'), other.text);
      }
      const ownInOtherTenant = await call(
        'GET',
        `/v1/feed/notifications/${alices}?distinct_id=alice&tenant_id=acme`,
        await asUser('alice', 'acme'),
      );
      assert.equal(ownInOtherTenant.status, 404);

      const scopedToAcme = await asUser('alice', 'acme');
      const outOfScope = [
        ['GET', '/v1/feed/notifications?distinct_id=alice&tenant_id=other&search_after=[]'],
        ['GET', '/v1/feed/notifications_count?distinct_id=alice&tenant_id=other'],
        ['PATCH', '/v1/feed/mark_all_read?distinct_id=alice&tenant_id=other'],
        ['PATCH', '/v1/feed/reset_bell_count?distinct_id=alice'],
      ] as const;
      for (const [method, path] of outOfScope) {
        const response = await call(method, path, scopedToAcme, method === 'GET' ? undefined : {});
        assert.equal(response.status, 403, `${path}: ${response.text}`);
        assert.equal((JSON.parse(response.text) as { error: { type: string } }).error.type, 'TENANT_NOT_IN_SCOPE');
      }

      const asOtherUser = [
        ['GET', '/v1/feed/notifications?distinct_id=bob&tenant_id=default'],
        ['GET', `/v1/feed/notifications/${bobs}?distinct_id=bob`],
        ['PATCH', `/v1/feed/notifications/${bobs}/read?distinct_id=bob`],
        ['POST', '/v1/feed/bulk/notifications/seen?distinct_id=bob'],
        ['PATCH', '/v1/feed/mark_all_read?distinct_id=bob'],
        ['PATCH', '/v1/feed/reset_bell_count?distinct_id=bob'],
      ] as const;
      for (const [method, path] of asOtherUser) {
        const body = method === 'POST' ? { notification_ids: [bobs] } : method === 'PATCH' ? {} : undefined;
        const response = await call(method, path, alice, body);
        assert.equal(response.status, 403, `${path}: ${response.text}`);
        assert.equal((JSON.parse(response.text) as { error: { type: string } }).error.type, 'SUBSCRIBER_MISMATCH');
        assert.ok(!response.text.includes(bobs));
      }
      assert.equal(await snapshot(), before, 'a rejected request changed something');
    });

    test('every state change is announced to the user, in their tenant, after it is stored', async () => {
      const events: Recorded[] = [];
      const recorder: RealtimeNotifier = { emit: (target, event, payload) => void events.push({ target, event, payload }) };
      const inbox = new InboxService(h.herald, recorder);
      const scope: FeedScope = { workspaceId: h.staging.id, distinctId: 'listener', tenantId: 'default' };
      const [a, b] = [await deliver('feed-plain', 'listener', 1), await deliver('feed-plain', 'listener', 2)];

      await inbox.act(scope, a, 'read');
      await inbox.act(scope, a, 'read');
      await inbox.act(scope, a, 'seen');
      await inbox.markBulkSeen(scope, [a, b]);
      await inbox.resetBadge(scope);
      await inbox.act(scope, a, 'unread');
      await inbox.markAllRead(scope);
      await inbox.markAllRead(scope);
      await assert.rejects(inbox.act(scope, 'ntf_nope', 'read'), /not found/);
      assert.deepEqual(
        events.map((e) => [e.event, e.payload]),
        [
          ['notification_update', { n_id: a, action: 'read' }],
          // Repeating a change that changes nothing announces nothing.
          ['bulk_notification_update', { notification_ids: [b], action: 'seen' }],
          ['reset_badge', {}],
          ['notification_update', { n_id: a, action: 'unread' }],
          ['bulk_notification_update', { notification_ids: 'all', action: 'read' }],
        ],
      );
      for (const e of events) assert.deepEqual(e.target, scope);
    });

    test('the page query is an index seek in feed order, at any depth', async () => {
      // Enough rows (and, on PostgreSQL, statistics) that the planner's choice is the one a large feed gets.
      const scope: FeedScope = { workspaceId: h.staging.id, distinctId: 'heavy', tenantId: 'default' };
      const base = 1_600_000_000_000;
      const rows = Array.from({ length: 3_000 }, (_, i) => ({
        id: `ntf_heavy${String(i).padStart(6, '0')}`,
        workspace_id: scope.workspaceId,
        distinct_id: i % 3 === 0 ? 'heavy-neighbour' : scope.distinctId,
        tenant_id: 'default',
        execution_id: 'exe_seed',
        workflow_slug: 'feed-plain',
        category: 'transactional',
        content: '{"message":{"text":"x"}}',
        tags: '[]',
        is_pinned: i % 500 === 0 ? 1 : 0,
        created_at: base + i * 1_000,
        seen_at: null,
        read_at: i % 2 === 0 ? base + i * 1_000 : null,
        interacted_at: null,
        archived_at: null,
        expires_at: null,
      }));
      await h.herald.db.transaction().execute(async (trx) => {
        for (let i = 0; i < rows.length; i += 250)
          await trx
            .insertInto('notifications')
            .values(rows.slice(i, i + 250))
            .execute();
      });
      if (engine === 'postgres') await h.herald.db.executeQuery(CompiledQuery.raw('analyze notifications'));

      const pages = [
        { name: 'first page', after: null },
        { name: 'deep page', after: { isPinned: false, createdAt: base + 600_000, id: undefined } },
        { name: 'deep page with n_id', after: { isPinned: false, createdAt: base + 600_000, id: 'ntf_heavy000600' } },
      ];
      for (const page of pages) {
        const query = feedPageQuery(
          h.herald.db,
          engine,
          scope,
          { store: DEFAULT_STORE, after: page.after, createdUpTo: undefined, limit: 21, offset: 0 },
          h.clock.now(),
        ).compile();
        const prefix = engine === 'sqlite' ? 'EXPLAIN QUERY PLAN ' : 'EXPLAIN ';
        const result = await h.herald.db.executeQuery<Record<string, unknown>>(
          CompiledQuery.raw(prefix + query.sql, [...query.parameters]),
        );
        const plan = result.rows.map((row) => String(row['detail'] ?? row['QUERY PLAN'])).join('\n');
        assert.match(plan, /notifications_feed/, `${page.name}:\n${plan}`);
        if (engine === 'sqlite') {
          assert.doesNotMatch(plan, /USE TEMP B-TREE FOR ORDER BY/, `${page.name}:\n${plan}`);
          if (page.after)
            assert.match(plan, /\(is_pinned,created_at(,id)?\)<\(\?,\?(,\?)?\)/, `${page.name} seeks to the cursor:\n${plan}`);
        } else {
          assert.doesNotMatch(plan, /\bSort\b/, `${page.name}:\n${plan}`);
          assert.match(plan, /Index Scan Backward using notifications_feed/, `${page.name}:\n${plan}`);
          if (page.after) assert.match(plan, /Index Cond: .*ROW\(is_pinned, created_at/, `${page.name} seeks to the cursor:\n${plan}`);
        }
      }

      // The same query, through the SDK's own search_after, continues exactly where the page ended.
      const unreadStore = parseStoreParam('{"store_id":"u","query":{"read":false}}');
      const firstPage = await feedPageQuery(
        h.herald.db,
        engine,
        scope,
        { store: unreadStore, after: null, createdUpTo: undefined, limit: 3, offset: 0 },
        h.clock.now(),
      ).execute();
      assert.deepEqual(
        firstPage.map((r) => r.id),
        ['ntf_heavy002999', 'ntf_heavy002995', 'ntf_heavy002993'],
      );
    });

    test('enhanced security mode: off by default (public key alone), then a token is required', async () => {
      await deliver('feed-plain', 'anon', 1);
      const open = await call('GET', '/v1/feed/notifications?distinct_id=anon&tenant_id=default&search_after=[]', {});
      assert.equal(open.status, 200, open.text);
      assert.equal((JSON.parse(open.text) as { results: unknown[] }).results.length, 1);
      const noUser = await call('GET', '/v1/feed/notifications?tenant_id=default', {});
      assert.equal(noUser.status, 400);

      await h.herald.workspaces.setEnhancedSecurity('staging', true);
      try {
        await new Promise((resolve) => setTimeout(resolve, t.config.invalidationPollMs * 3));
        const before = await snapshot();
        for (const [method, path] of [
          ['GET', '/v1/feed/notifications?distinct_id=anon'],
          ['GET', '/v1/feed/notifications_count?distinct_id=anon'],
          ['PATCH', '/v1/feed/mark_all_read?distinct_id=anon'],
          ['PATCH', '/v1/feed/reset_bell_count?distinct_id=anon'],
        ] as const) {
          const response = await call(method, path, {}, method === 'PATCH' ? {} : undefined);
          assert.equal(response.status, 401, `${path}: ${response.text}`);
        }
        assert.equal(await snapshot(), before);
        const withToken = await call('GET', '/v1/feed/notifications?distinct_id=anon', await asUser('anon'));
        assert.equal(withToken.status, 200, withToken.text);
      } finally {
        await h.herald.workspaces.setEnhancedSecurity('staging', false);
      }
    });
  });
}
