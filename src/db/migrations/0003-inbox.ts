import { sql, type Kysely, type Migration } from 'kysely';
import type { Engine } from '../../config.js';

/**
 * The client in-app feed (src/inbox/): the bell-count reset time per user and tenant, and the
 * indexes that keep the feed's counts and state changes proportional to what they touch rather
 * than to the size of a user's (or the workspace's) history.
 */
export function inboxMigration(_engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('inbox_badges')
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
        .addColumn('distinct_id', 'text', (c) => c.notNull())
        .addColumn('tenant_id', 'text', (c) => c.notNull())
        // The bell shows notifications created after this time that are still unseen.
        .addColumn('reset_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('inbox_badges_pk', ['workspace_id', 'distinct_id', 'tenant_id'])
        .execute();

      // Unread counts (per store, the bell) and "mark all read" read only the unread rows; a
      // partial index keeps them small and cheap however many read notifications a user keeps.
      // Queries must say `read_at is null` literally for either planner to pick it.
      await db.schema
        .createIndex('notifications_unread')
        .on('notifications')
        .columns(['workspace_id', 'distinct_id', 'tenant_id', 'created_at'])
        .where(sql.ref('read_at'), 'is', null)
        .execute();

      // A state change of a notification updates its `messages` row; without this that update
      // would scan every message of the workspace.
      await db.schema.createIndex('messages_notification').on('messages').columns(['workspace_id', 'notification_id']).execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('messages_notification').execute();
      await db.schema.dropIndex('notifications_unread').execute();
      await db.schema.dropTable('inbox_badges').execute();
    },
  };
}
