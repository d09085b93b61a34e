import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { prepared, preparedInsert } from '../src/db/prepared.js';
import { openHerald, type Herald } from '../src/runtime.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';

/** Prepared queries (src/db/prepared.ts) against the real engines: values bind, misuse is refused. */

const usersOf = prepared('test.usersOf', (db, p: { workspaceId: string; after: string; limit: number }) =>
  db
    .selectFrom('users')
    .select('distinct_id')
    .where('workspace_id', '=', p.workspaceId)
    .where('distinct_id', '>', p.after)
    .orderBy('distinct_id')
    .limit(p.limit),
);

const computed = prepared('test.computed', (db, p: { limit: number }) =>
  db
    .selectFrom('users')
    .select('distinct_id')
    .limit(((p.limit as unknown as string) + 1) as unknown as number),
);

const nested = prepared('test.nested', (db, p: { scope: { workspaceId: string } }) =>
  db.selectFrom('users').select('distinct_id').where('workspace_id', '=', p.scope.workspaceId),
);

const everyColumn = prepared('test.everyColumn', (db, p: { workspaceId: string; distinctId: string }) =>
  db.selectFrom('users').selectAll().where('workspace_id', '=', p.workspaceId).where('distinct_id', '=', p.distinctId),
);

const userInsert = preparedInsert('users', ['workspace_id', 'distinct_id', 'properties', 'channels', 'created_at', 'updated_at']);

for (const engine of enginesUnderTest()) {
  describe(`prepared queries on ${engine}`, () => {
    let t: TestEnv;
    let herald: Herald;
    let workspaceId: string;

    before(async () => {
      t = await createTestEnv(engine);
      herald = await openHerald(t.config);
      workspaceId = (await herald.workspaces.get('staging')).id;
      for (const id of ['p-a', 'p-b', 'p-c', 'p-d']) {
        await userInsert.execute(herald.db, {
          workspace_id: workspaceId,
          distinct_id: id,
          properties: '{}',
          channels: '{}',
          created_at: 1,
          updated_at: 1,
        });
      }
    });

    after(async () => {
      await herald?.close();
      await t?.cleanup();
    });

    test('a prepared `select *` keeps working after its table gains a column (a newer process migrating)', async () => {
      const row = await everyColumn.executeTakeFirst(herald.db, { workspaceId, distinctId: 'p-a' });
      assert.equal(row?.distinct_id, 'p-a');
      await sql`alter table users add column added_by_a_later_version text`.execute(herald.db);
      try {
        // Every pooled connection may hold the statement prepared with the old columns.
        for (let i = 0; i < 20; i++) {
          const again = (await everyColumn.executeTakeFirst(herald.db, { workspaceId, distinctId: 'p-a' })) as
            Record<string, unknown> | undefined;
          assert.equal(again?.['distinct_id'], 'p-a');
          assert.ok('added_by_a_later_version' in (again ?? {}));
        }
      } finally {
        await sql`alter table users drop column added_by_a_later_version`.execute(herald.db);
      }
    });

    test('one compiled statement serves every set of values', async () => {
      const names = async (after: string, limit: number) =>
        (await usersOf.execute(herald.db, { workspaceId, after, limit })).map((row) => row.distinct_id);
      assert.deepEqual(await names('p-a', 2), ['p-b', 'p-c']);
      assert.deepEqual(await names('p-c', 10), ['p-d']);
      assert.deepEqual(await names('p-', 1), ['p-a']);
      assert.deepEqual(await usersOf.execute(herald.db, { workspaceId: 'ws_other', after: '', limit: 10 }), []);
    });

    test('works inside a transaction, and a rollback undoes its writes', async () => {
      await assert.rejects(
        herald.db.transaction().execute(async (trx) => {
          await userInsert.execute(trx, {
            workspace_id: workspaceId,
            distinct_id: 'p-rolled-back',
            properties: '{}',
            channels: '{}',
            created_at: 1,
            updated_at: 1,
          });
          assert.deepEqual(
            (await usersOf.execute(trx, { workspaceId, after: 'p-e', limit: 10 })).map((row) => row.distinct_id),
            ['p-rolled-back'],
          );
          throw new Error('roll back');
        }),
        /roll back/,
      );
      assert.deepEqual(await usersOf.execute(herald.db, { workspaceId, after: 'p-e', limit: 10 }), []);
    });

    test('a placeholder computed with or reached through another is refused, not compiled wrong', async () => {
      await assert.rejects(computed.execute(herald.db, { limit: 1 }), /placeholder was used in an expression/);
      await assert.rejects(nested.execute(herald.db, { scope: { workspaceId } }), /placeholder was used in an expression/);
    });

    test('an insert refuses a column that is not in its list instead of dropping it', async () => {
      const row = {
        workspace_id: workspaceId,
        distinct_id: 'p-extra',
        properties: '{}',
        channels: '{}',
        created_at: 1,
        updated_at: 1,
        surprise: 'x',
      };
      await assert.rejects(userInsert.execute(herald.db, row), /column surprise is not in its column list/);
    });
  });
}
