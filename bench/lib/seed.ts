/**
 * Bulk data the HTTP API would take too long to load (100,000 notifications, 100,000 API keys),
 * written straight into the database with Herald's own modules while no server runs. The modules
 * are the compiled ones in dist/ (the code `node dist/main.js` runs), so the schema and the key
 * format always match the server under test; their types come from src/.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Insertable, Kysely } from 'kysely';
import type { ApiKeysTable, Database, NotificationsTable } from '../../src/db/schema.js';
import { ROOT } from './common.js';

type ConfigModule = typeof import('../../src/config.js');
type RuntimeModule = typeof import('../../src/runtime.js');
type KeyFormatModule = typeof import('../../src/credentials/key-format.js');
type IdsModule = typeof import('../../src/lib/ids.js');
type Herald = Awaited<ReturnType<RuntimeModule['openHerald']>>;

const INSERT_BATCH = 500;

async function dist<T>(file: string): Promise<T> {
  return (await import(pathToFileURL(path.join(ROOT, 'dist', file)).href)) as T;
}

/** Opens Herald on the env a server would get, runs `work`, closes it. */
async function withHerald<T>(env: Record<string, string>, work: (herald: Herald) => Promise<T>): Promise<T> {
  const { loadConfig } = await dist<ConfigModule>('config.js');
  const { openHerald } = await dist<RuntimeModule>('runtime.js');
  const herald = await openHerald(loadConfig({ ...env, LOG_LEVEL: 'silent' }));
  try {
    return await work(herald);
  } finally {
    await herald.close();
  }
}

async function insertInBatches<T>(
  herald: Herald,
  rows: Iterable<T>,
  insert: (db: Kysely<Database>, batch: T[]) => Promise<void>,
): Promise<void> {
  await herald.db.transaction().execute(async (trx) => {
    let batch: T[] = [];
    for (const row of rows) {
      batch.push(row);
      if (batch.length === INSERT_BATCH) {
        await insert(trx, batch);
        batch = [];
      }
    }
    if (batch.length > 0) await insert(trx, batch);
  });
}

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

/**
 * `count` notifications for one user, one a minute up to now: all but the newest 20 read, a few
 * archived, one in 10,000 pinned (shapes as the delivery pipeline writes them).
 */
function* notificationRows(workspaceId: string, distinctId: string, count: number): Generator<NotificationsTable> {
  const base = Date.now() - count * 60_000;
  for (let i = 0; i < count; i++) {
    const createdAt = base + i * 60_000;
    const isRead = i < count - 20;
    yield {
      id: `ntf_bench_${distinctId}_${String(i).padStart(7, '0')}`,
      workspace_id: workspaceId,
      distinct_id: distinctId,
      tenant_id: 'default',
      execution_id: `exe_bench_${distinctId}_${i}`,
      workflow_slug: 'bench-inbox',
      category: i % 4 === 0 ? 'billing' : 'transactional',
      content: CONTENT,
      tags: i % 4 === 0 ? '["billing"]' : '["orders"]',
      is_pinned: i % 10_000 === 9_999 ? 1 : 0,
      created_at: createdAt,
      seen_at: isRead ? createdAt : null,
      read_at: isRead ? createdAt : null,
      interacted_at: null,
      archived_at: i % 100 === 7 ? createdAt : null,
      expires_at: null,
    };
  }
}

export interface SeedResult {
  rows: number;
  seconds: number;
}

/** Notifications for users of the `staging` workspace, one transaction, batched inserts. */
export async function seedNotifications(
  env: Record<string, string>,
  users: ReadonlyArray<{ distinctId: string; count: number }>,
): Promise<SeedResult> {
  const started = performance.now();
  let rows = 0;
  await withHerald(env, async (herald) => {
    const workspace = await herald.workspaces.get('staging');
    for (const { distinctId, count } of users) {
      await insertInBatches(herald, notificationRows(workspace.id, distinctId, count), async (db, batch) => {
        await db.insertInto('notifications').values(batch).execute();
      });
      rows += count;
    }
  });
  return { rows, seconds: (performance.now() - started) / 1000 };
}

/**
 * Real API keys of the `staging` workspace, made as `herald api-key create` makes them
 * (generateApiKey: random, checksummed, stored as SHA-256 + display prefix), without audit entries.
 * The keys themselves are thrown away: the bench uses one created through the CLI.
 */
export async function seedApiKeys(env: Record<string, string>, count: number): Promise<SeedResult> {
  const started = performance.now();
  const { generateApiKey } = await dist<KeyFormatModule>('credentials/key-format.js');
  const { newId } = await dist<IdsModule>('lib/ids.js');
  await withHerald(env, async (herald) => {
    const workspace = await herald.workspaces.get('staging');
    const now = Date.now();
    function* rows(): Generator<Insertable<ApiKeysTable>> {
      for (let i = 0; i < count; i++) {
        const generated = generateApiKey(workspace.mode);
        yield {
          id: newId('apiKey'),
          workspace_id: workspace.id,
          name: `bench-${i}`,
          key_hash: generated.hash,
          display_prefix: generated.displayPrefix,
          created_at: now,
          created_by: null,
          expires_at: null,
          last_used_at: null,
          revoked_at: null,
        };
      }
    }
    await insertInBatches(herald, rows(), async (db, batch) => {
      await db.insertInto('api_keys').values(batch).execute();
    });
  });
  return { rows: count, seconds: (performance.now() - started) / 1000 };
}
