/**
 * In-app feed latency for a user with 100k notifications, on SQLite, through the real app
 * (auth, routing, service, repo, serialisation) with app.inject, next to a bare Fastify route
 * measured in the same run. Run: `node --import tsx bench/inbox-feed.ts`.
 *
 * Seeding writes rows straight into the notifications table (one transaction, batched inserts):
 * the bench is about reading a large feed, not about delivering it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import type { NotificationsTable } from '../src/db/schema.js';
import { openHerald } from '../src/runtime.js';

const USER = 'heavy-user';
const NOTIFICATIONS = 100_000;
const OTHER_USERS = 50;
const PER_OTHER_USER = 200;
const INSERT_BATCH = 500;
const WARMUP = 50;
const ITERATIONS = 400;
const SLOW_ITERATIONS = 40;
const BASE_TIME_MS = Date.now() - NOTIFICATIONS * 60_000;

const CONTENT = JSON.stringify({
  message: {
    schema: '1.0',
    header: 'Your order has shipped',
    text: 'Hi Ada, order **A-10293** left our warehouse and will arrive on Thursday.',
    url: 'https://shop.example/orders/A-10293',
    open_in_new_tab: false,
    extra_data: null,
    actions: [{ name: 'Track', url: 'https://shop.example/track/A-10293', open_in_new_tab: false }],
    avatar: null,
    subtext: null,
  },
  is_expiry_visible: false,
  can_user_unpin: false,
});

function row(workspaceId: string, distinctId: string, i: number): NotificationsTable {
  const createdAt = BASE_TIME_MS + i * 60_000;
  const isRead = i < NOTIFICATIONS - 300;
  return {
    id: `ntf_${distinctId}_${String(i).padStart(7, '0')}`,
    workspace_id: workspaceId,
    distinct_id: distinctId,
    tenant_id: 'default',
    execution_id: `exe_bench_${i}`,
    workflow_slug: 'order-shipped',
    category: i % 4 === 0 ? 'billing' : 'transactional',
    content: CONTENT,
    tags: i % 4 === 0 ? '["billing"]' : '["orders"]',
    is_pinned: i % 10_000 === 0 ? 1 : 0,
    created_at: createdAt,
    seen_at: isRead ? createdAt : null,
    read_at: isRead ? createdAt : null,
    interacted_at: null,
    archived_at: i % 100 === 7 ? createdAt : null,
    expires_at: null,
  };
}

async function measure(app: FastifyInstance, url: string, headers: Record<string, string>, iterations: number): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + iterations; i++) {
    const start = process.hrtime.bigint();
    const response = await app.inject({ method: 'GET', url, headers });
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (response.statusCode !== 200) throw new Error(`${url} answered ${response.statusCode}: ${response.body}`);
    if (i >= WARMUP) samples.push(elapsed);
  }
  return samples.sort((a, b) => a - b);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'herald-bench-'));
  const config = loadConfig({ HERALD_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
  const herald = await openHerald(config);
  const app = buildApp({ herald, logger: pino({ level: 'silent' }) });
  const bare = Fastify({ logger: false });
  bare.get('/bare', async () => ({ results: [], meta: { total_count: 0, has_more: false } }));
  try {
    const workspace = await herald.workspaces.get('staging');
    // Created before the first request, so the credential cache loads it on first use.
    const { key: publicKey } = await herald.publicKeys.create(workspace, {});

    const seedStart = process.hrtime.bigint();
    await herald.db.transaction().execute(async (trx) => {
      const rows: NotificationsTable[] = [];
      for (let i = 0; i < NOTIFICATIONS; i++) rows.push(row(workspace.id, USER, i));
      for (let u = 0; u < OTHER_USERS; u++) for (let i = 0; i < PER_OTHER_USER; i++) rows.push(row(workspace.id, `neighbour-${u}`, i));
      for (let i = 0; i < rows.length; i += INSERT_BATCH)
        await trx
          .insertInto('notifications')
          .values(rows.slice(i, i + INSERT_BATCH))
          .execute();
    });
    const seedMs = Number(process.hrtime.bigint() - seedStart) / 1e6;
    await app.ready();
    await bare.ready();

    const headers = { authorization: publicKey, 'content-type': 'application/json' };
    const feed = (query: string) => `/v1/feed/notifications?distinct_id=${USER}&tenant_id=default&page_size=20&${query}`;
    const deep = row(workspace.id, USER, 10_001);
    const unreadStore = encodeURIComponent(
      JSON.stringify({ store_id: 'unread', query: { read: false, tags: { or: [] }, categories: { or: [] } } }),
    );
    const billingStore = encodeURIComponent(
      JSON.stringify({ store_id: 'billing', query: { tags: { or: ['billing'] }, categories: { or: [] } } }),
    );
    const stores = encodeURIComponent(
      JSON.stringify([
        { store_id: 'all', query: { tags: { or: [] }, categories: { or: [] } } },
        { store_id: 'billing', query: { tags: { or: ['billing'] }, categories: { or: [] } } },
      ]),
    );

    const first = JSON.parse((await app.inject({ method: 'GET', url: feed('search_after=[]'), headers })).body) as {
      results: unknown[];
      meta: unknown;
    };
    if (first.results.length !== 20) throw new Error(`expected a full first page, got ${JSON.stringify(first).slice(0, 300)}`);

    const cases: Array<{ name: string; url: string; iterations: number }> = [
      { name: 'bare Fastify route (baseline)', url: '/bare', iterations: ITERATIONS },
      { name: 'feed: first page (search_after=[])', url: feed('search_after=[]'), iterations: ITERATIONS },
      {
        name: 'feed: deep page, ~90k rows in (search_after)',
        url: feed(`search_after=[false,${deep.created_at}]`),
        iterations: ITERATIONS,
      },
      { name: 'feed: unread store, first page', url: feed(`store=${unreadStore}&search_after=[]`), iterations: ITERATIONS },
      { name: 'feed: billing tag store, first page', url: feed(`store=${billingStore}&search_after=[]`), iterations: ITERATIONS },
      {
        name: 'counts: badge + 2 stores',
        url: `/v1/feed/notifications_count?distinct_id=${USER}&tenant_id=default&stores=${stores}`,
        iterations: ITERATIONS,
      },
      { name: 'legacy page_no=4500 (OFFSET, web 3.x)', url: feed('page_no=4500'), iterations: SLOW_ITERATIONS },
    ];

    console.log(`Herald in-app feed bench — SQLite, node ${process.version}`);
    console.log(
      `seeded ${NOTIFICATIONS.toLocaleString('en')} notifications for one user + ${(OTHER_USERS * PER_OTHER_USER).toLocaleString('en')} for ${OTHER_USERS} others in ${seedMs.toFixed(0)} ms (one transaction)`,
    );
    console.log(`app.inject, ${WARMUP} warm-up requests, then median / p95 of the iterations shown\n`);
    const header = `${'case'.padEnd(48)} ${'iters'.padStart(5)} ${'median ms'.padStart(10)} ${'p95 ms'.padStart(8)} ${'× bare'.padStart(8)}`;
    console.log(header);
    console.log('-'.repeat(header.length));
    let bareMedian = Number.NaN;
    for (const c of cases) {
      const samples = await measure(c.url === '/bare' ? bare : app, c.url, headers, c.iterations);
      const median = percentile(samples, 0.5);
      if (c.url === '/bare') bareMedian = median;
      console.log(
        `${c.name.padEnd(48)} ${String(c.iterations).padStart(5)} ${median.toFixed(3).padStart(10)} ${percentile(samples, 0.95).toFixed(3).padStart(8)} ${(median / bareMedian).toFixed(1).padStart(8)}`,
      );
    }
  } finally {
    await app.close();
    await bare.close();
    await herald.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
