import type { Kysely, Migration } from 'kysely';

/**
 * Request-log rows of requests that were never authenticated (no or a bad credential, naming a
 * workspace only through its public workspace key) are counted apart from authenticated traffic,
 * so a flood of junk cannot rotate a workspace's real history out of its bounded log.
 */
export function requestLogBudgetsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('request_log')
        .addColumn('is_authenticated', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
      // Pruning by count walks each (workspace, authenticated) bucket newest first.
      await db.schema
        .createIndex('request_log_budget')
        .on('request_log')
        .columns(['workspace_id', 'is_authenticated', 'created_at', 'seq'])
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('request_log_budget').execute();
      await db.schema.alterTable('request_log').dropColumn('is_authenticated').execute();
    },
  };
}
