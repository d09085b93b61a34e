import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { NotificationsTable } from '../src/db/schema.js';
import { FeedCache } from '../src/inbox/feed-cache.js';
import type { FeedScope } from '../src/inbox/inbox.repo.js';
import { InboxService, type FeedListRequest } from '../src/inbox/inbox.service.js';
import { DEFAULT_STORE } from '../src/inbox/store-filter.js';
import { fixedClock } from '../src/lib/clock.js';
import type { RealtimeNotifier } from '../src/realtime/realtime.js';
import { openHerald, type Herald } from '../src/runtime.js';
import { UserService } from '../src/users/users.service.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';

/**
 * The feed cache (src/inbox/feed-cache.ts) against the real database: two Herald instances on one
 * database stand for two nodes, each with its own cache. Whatever changes a feed — a service
 * call, a hand-written statement, a deletion, the bell reset, the clock passing an expiry — is
 * seen by the next request to either node; an unchanged feed is served from memory.
 */

const silent: RealtimeNotifier = { emit: () => {} };
const FIRST_PAGE: FeedListRequest = { store: DEFAULT_STORE, position: { kind: 'cursor', after: null }, pageSize: 20 };

interface Page {
  results: Array<{ n_id: string; read_on: number | null; archived: boolean }>;
  meta: { total_count: number };
}

for (const engine of enginesUnderTest()) {
  describe(`feed cache on ${engine}`, { timeout: 120_000 }, () => {
    let t: TestEnv;
    const clock = fixedClock(Date.parse('2026-06-01T12:00:00Z'));
    let nodeA: Herald;
    let nodeB: Herald;
    let cacheA: FeedCache;
    let inboxA: InboxService;
    let inboxB: InboxService;
    let workspaceId: string;
    let seq = 0;

    const scopeOf = (distinctId: string): FeedScope => ({ workspaceId, distinctId, tenantId: 'default' });
    const pageOf = async (distinctId: string) => JSON.parse(await inboxA.listJson(scopeOf(distinctId), FIRST_PAGE)) as Page;

    const insert = async (distinctId: string, extra: Partial<NotificationsTable> = {}) => {
      seq += 1;
      const id = `ntf_cache_${String(seq).padStart(4, '0')}`;
      await nodeB.db
        .insertInto('notifications')
        .values({
          id,
          workspace_id: workspaceId,
          distinct_id: distinctId,
          tenant_id: 'default',
          execution_id: `exe_cache_${seq}`,
          workflow_slug: 'cache',
          category: 'transactional',
          content: JSON.stringify({ message: { schema: '1', header: `N${seq}`, text: 'text' } }),
          tags: '[]',
          is_pinned: 0,
          created_at: clock.now() - 1_000 + seq,
          seen_at: null,
          read_at: null,
          interacted_at: null,
          archived_at: null,
          expires_at: null,
          ...extra,
        })
        .execute();
      return id;
    };

    before(async () => {
      t = await createTestEnv(engine);
      nodeA = await openHerald(t.config, { clock });
      nodeB = await openHerald(t.config, { clock });
      workspaceId = (await nodeA.workspaces.get('staging')).id;
      cacheA = new FeedCache(1_048_576);
      inboxA = new InboxService(nodeA, silent, cacheA);
      inboxB = new InboxService(nodeB, silent, new FeedCache(1_048_576));
    });

    after(async () => {
      await nodeA?.close();
      await nodeB?.close();
      await t?.cleanup();
    });

    test('an unchanged feed is served from memory, the same bytes', async () => {
      await insert('ada');
      await insert('ada');
      const first = await inboxA.listJson(scopeOf('ada'), FIRST_PAGE);
      const hits = cacheA.stats().hits;
      const second = await inboxA.listJson(scopeOf('ada'), FIRST_PAGE);
      assert.equal(second, first);
      assert.equal(cacheA.stats().hits, hits + 1);
      assert.equal((JSON.parse(first) as Page).results.length, 2);
    });

    test("a change made through the other node is seen by this node's next request", async () => {
      const id = await insert('bob');
      assert.equal((await pageOf('bob')).results[0]?.read_on, null);
      await pageOf('bob');
      await inboxB.act(scopeOf('bob'), id, 'read');
      assert.equal((await pageOf('bob')).results[0]?.read_on, clock.now());
      // A new notification, inserted by hand on the other node.
      await insert('bob');
      assert.equal((await pageOf('bob')).results.length, 2);
    });

    test('hand-written updates and deletes change the version too', async () => {
      const id = await insert('cy');
      await insert('cy');
      assert.equal((await pageOf('cy')).meta.total_count, 2);
      await sql`update notifications set archived_at = ${clock.now()} where id = ${id}`.execute(nodeB.db);
      assert.deepEqual(
        (await pageOf('cy')).results.map((n) => n.n_id),
        [`ntf_cache_${String(seq).padStart(4, '0')}`],
      );
      await nodeB.db.deleteFrom('notifications').where('workspace_id', '=', workspaceId).where('distinct_id', '=', 'cy').execute();
      assert.equal((await pageOf('cy')).results.length, 0);
      // Deleting the user on the other node (users.repo deletes the notifications) is seen as well.
      const users = new UserService(nodeB);
      await users.upsert(workspaceId, 'cy', {});
      await insert('cy');
      assert.equal((await pageOf('cy')).results.length, 1);
      await users.delete(workspaceId, 'cy');
      assert.equal((await pageOf('cy')).results.length, 0);
    });

    test('the bell reset on the other node changes the badge count', async () => {
      await insert('dee');
      await insert('dee');
      const countsOf = async () => JSON.parse(await inboxA.countsJson(scopeOf('dee'), [])) as { badge: number };
      assert.equal((await countsOf()).badge, 2);
      assert.equal((await countsOf()).badge, 2);
      clock.advance(1);
      await inboxB.resetBadge(scopeOf('dee'));
      assert.equal((await countsOf()).badge, 0);
    });

    test('a feed with an unexpired notification follows the clock, then is cached again', async () => {
      await insert('eve');
      await insert('eve', { expires_at: clock.now() + 5_000 });
      assert.equal((await pageOf('eve')).results.length, 2);
      const hits = cacheA.stats().hits;
      assert.equal((await pageOf('eve')).results.length, 2);
      assert.equal(cacheA.stats().hits, hits, 'nothing is cached while an expiry is ahead');
      clock.advance(5_000);
      assert.equal((await pageOf('eve')).results.length, 1, 'the expired notification is gone without any write');
      assert.equal((await pageOf('eve')).results.length, 1);
      assert.equal(cacheA.stats().hits, hits + 1, 'cached again once every expiry has passed');
    });

    test('the cache holds at most its memory budget, least recently used out first', async () => {
      const small = new FeedCache(16_384);
      const inbox = new InboxService(nodeA, silent, small);
      for (const user of ['f1', 'f2', 'f3', 'f4', 'f5', 'f6']) {
        for (let i = 0; i < 5; i++) await insert(user);
        await inbox.listJson(scopeOf(user), FIRST_PAGE);
        assert.ok(small.stats().bytes <= 16_384, JSON.stringify(small.stats()));
      }
      assert.ok(small.stats().entries < 6, JSON.stringify(small.stats()));
      const hits = small.stats().hits;
      await inbox.listJson(scopeOf('f6'), FIRST_PAGE);
      assert.equal(small.stats().hits, hits + 1, 'the newest entry is kept');
      await inbox.listJson(scopeOf('f1'), FIRST_PAGE);
      assert.equal(small.stats().hits, hits + 1, 'the oldest entry was evicted');
    });

    test('a zero budget turns the cache off', async () => {
      const off = new FeedCache(0);
      const inbox = new InboxService(nodeA, silent, off);
      await insert('gus');
      await inbox.listJson(scopeOf('gus'), FIRST_PAGE);
      await inbox.listJson(scopeOf('gus'), FIRST_PAGE);
      assert.deepEqual(off.stats(), { hits: 0, misses: 0, entries: 0, bytes: 0 });
    });
  });
}
