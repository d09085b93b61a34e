import type { Kysely, Migration } from 'kysely';

/**
 * The message log (dashboard) reads each listed webhook message's delivery state by message id;
 * without this index that is a scan of the outbox, which keeps rows for the retention period.
 */
export function webhookOutboxMessageMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createIndex('webhook_outbox_message').on('webhook_outbox').columns(['message_id']).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('webhook_outbox_message').execute();
    },
  };
}
