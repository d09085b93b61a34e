import { sql, type Kysely, type Migration } from 'kysely';
import type { Engine } from '../../config.js';

/**
 * The two logs of the admin dashboard.
 *
 * request_log: one row per API request (src/request-log/), written in batches and pruned by age
 * and by count per workspace. `workspace_id` is null when the request named no known workspace.
 *
 * audit_log: credential and security events (src/audit/). Append-only: there is no code path
 * that updates or deletes a row, and triggers make the database refuse it too. Neither table has
 * a foreign key to workspaces: a log must outlive what it talks about, and a batch of request
 * rows must not fail because a workspace went away meanwhile.
 */
export function logsMigration(engine: Engine): Migration {
  const serial = (table: 'request_log' | 'audit_log', column: string) => (db: Kysely<unknown>) =>
    db.schema
      .createTable(table)
      .addColumn(column, engine === 'postgres' ? 'bigserial' : 'integer', (c) =>
        engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
      );

  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await serial(
        'request_log',
        'seq',
      )(db)
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('workspace_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('route', 'text')
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('latency_ms', 'double precision', (c) => c.notNull())
        .addColumn('credential_type', 'text', (c) => c.notNull())
        .addColumn('credential_id', 'text')
        .addColumn('subscriber_id', 'text')
        .addColumn('error_code', 'text')
        .addColumn('reason', 'text')
        .execute();
      // Listing (newest first, per workspace) and pruning by count walk this index.
      await db.schema.createIndex('request_log_workspace_time').on('request_log').columns(['workspace_id', 'created_at', 'seq']).execute();
      // Pruning by age.
      await db.schema.createIndex('request_log_created').on('request_log').column('created_at').execute();

      await serial(
        'audit_log',
        'id',
      )(db)
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('workspace_id', 'text')
        .addColumn('actor_type', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text')
        .addColumn('actor_label', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text')
        .addColumn('target_id', 'text')
        .addColumn('ip', 'text')
        .addColumn('details', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_workspace_time').on('audit_log').columns(['workspace_id', 'created_at', 'id']).execute();

      // Defence in depth for "append-only": even a hand-written statement cannot rewrite history.
      if (engine === 'postgres') {
        await sql`
          create function audit_log_append_only() returns trigger language plpgsql as $$
          begin
            raise exception 'audit_log is append-only';
          end;
          $$`.execute(db);
        await sql`
          create trigger audit_log_append_only before update or delete on audit_log
          for each row execute function audit_log_append_only()`.execute(db);
      } else {
        for (const operation of ['update', 'delete'] as const) {
          await sql`
            create trigger ${sql.id(`audit_log_no_${operation}`)} before ${sql.raw(operation)} on audit_log
            begin select raise(abort, 'audit_log is append-only'); end`.execute(db);
        }
      }
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('audit_log').execute();
      if (engine === 'postgres') await sql`drop function if exists audit_log_append_only()`.execute(db);
      await db.schema.dropTable('request_log').execute();
    },
  };
}
