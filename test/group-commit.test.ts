import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { GroupCommit } from '../src/db/group-commit.js';
import type { Database } from '../src/db/schema.js';
import { openHerald, type Herald } from '../src/runtime.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';

/**
 * GroupCommit (src/db/group-commit.ts) on the real engines: units queued in one event-loop turn
 * share a SQLite transaction, each keeps its own outcome (a failing unit's writes are undone, the
 * others' kept), and nothing resolves before its commit.
 */

for (const engine of enginesUnderTest()) {
  describe(`group commit on ${engine}`, { timeout: 120_000 }, () => {
    let t: TestEnv;
    let herald: Herald;
    let workspaceId: string;
    let seq = 0;

    before(async () => {
      t = await createTestEnv(engine);
      herald = await openHerald(t.config);
      workspaceId = (await herald.workspaces.get('staging')).id;
    });

    after(async () => {
      await herald?.close();
      await t?.cleanup();
    });

    const insertUser = async (db: Kysely<Database>, distinctId: string) => {
      const now = Date.now();
      await db
        .insertInto('users')
        .values({ workspace_id: workspaceId, distinct_id: distinctId, properties: '{}', channels: '{}', created_at: now, updated_at: now })
        .execute();
    };
    const userExists = async (distinctId: string) =>
      (await herald.db
        .selectFrom('users')
        .select('distinct_id')
        .where('workspace_id', '=', workspaceId)
        .where('distinct_id', '=', distinctId)
        .executeTakeFirst()) !== undefined;
    const nextId = (label: string) => `gc-${label}-${++seq}`;

    test('units queued together commit together; a failing unit is undone alone', async () => {
      const writes = new GroupCommit(herald.db, engine);
      const ok = [nextId('ok'), nextId('ok'), nextId('ok')];
      const bad = nextId('bad');
      const outcomes = await Promise.allSettled([
        writes.run(async (trx) => {
          await insertUser(trx, ok[0] as string);
          return 'first';
        }),
        writes.run(async (trx) => {
          await insertUser(trx, bad);
          throw new Error('unit failed after writing');
        }),
        writes.run(async (trx) => {
          await insertUser(trx, ok[1] as string);
          return 'third';
        }),
        writes.run(async (trx) => {
          await insertUser(trx, ok[2] as string);
          return 'fourth';
        }),
      ]);
      assert.deepEqual(
        outcomes.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as Error).message)),
        ['first', 'unit failed after writing', 'third', 'fourth'],
      );
      for (const id of ok) assert.equal(await userExists(id), true, id);
      assert.equal(await userExists(bad), false, 'the failed unit left nothing behind');
      if (engine === 'sqlite') assert.deepEqual(writes.stats(), { batches: 1, units: 4 }, 'one transaction for the four units');
    });

    test('a unit alone that fails leaves nothing; the next batch still runs', async () => {
      const writes = new GroupCommit(herald.db, engine);
      const lonely = nextId('lonely');
      await assert.rejects(
        writes.run(async (trx) => {
          await insertUser(trx, lonely);
          throw new Error('nope');
        }),
        /nope/,
      );
      assert.equal(await userExists(lonely), false);
      const later = nextId('later');
      await writes.run((trx) => insertUser(trx, later));
      assert.equal(await userExists(later), true);
    });

    test('a unit resolves only once its write is committed and visible to every reader', async () => {
      const writes = new GroupCommit(herald.db, engine);
      const ids = Array.from({ length: 20 }, () => nextId('seen'));
      await Promise.all(
        ids.map((id) =>
          writes
            .run(async (trx) => {
              await insertUser(trx, id);
            })
            .then(async () => assert.equal(await userExists(id), true, `${id} visible when its unit resolved`)),
        ),
      );
      if (engine === 'sqlite') assert.ok(writes.stats().batches < ids.length, JSON.stringify(writes.stats()));
    });
  });
}
