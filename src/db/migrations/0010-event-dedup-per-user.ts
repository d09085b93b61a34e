import { sql, type Kysely, type Migration } from 'kysely';
import type { Engine } from '../../config.js';

/**
 * `$insert_id` deduplicates per user, not per workspace: a user's token could otherwise send
 * another user's insert id first and have that user's next event dropped as a repeat. Identity
 * events (profile changes) are recorded in `events` too, so a resent one is not applied twice.
 *
 * SQLite cannot drop a table's UNIQUE constraint: the table is rebuilt with the new one.
 */
export function eventDedupPerUserMigration(engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (engine === 'postgres') {
        await sql`alter table events drop constraint events_insert_id`.execute(db);
        await db.schema
          .createIndex('events_insert_id')
          .unique()
          .on('events')
          .columns(['workspace_id', 'distinct_id', 'insert_id'])
          .execute();
        return;
      }
      await rebuildSqlite(db, ['workspace_id', 'distinct_id', 'insert_id']);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      if (engine === 'postgres') {
        await db.schema.dropIndex('events_insert_id').execute();
        await sql`alter table events add constraint events_insert_id unique (workspace_id, insert_id)`.execute(db);
        return;
      }
      await rebuildSqlite(db, ['workspace_id', 'insert_id']);
    },
  };
}

async function rebuildSqlite(db: Kysely<unknown>, unique: string[]): Promise<void> {
  await db.schema
    .createTable('events_rebuilt')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
    .addColumn('insert_id', 'text', (c) => c.notNull())
    .addColumn('distinct_id', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text')
    .addColumn('properties', 'text', (c) => c.notNull())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('events_insert_id', unique as never)
    .execute();
  // Going back to per-workspace uniqueness, the first of two users' equal ids is kept.
  await sql`insert or ignore into events_rebuilt select id, workspace_id, insert_id, distinct_id, event, tenant_id, properties, time, created_at from events order by created_at`.execute(
    db,
  );
  await db.schema.dropTable('events').execute();
  await db.schema.alterTable('events_rebuilt').renameTo('events').execute();
}
