import { sql, type Kysely, type Migration, type RawBuilder } from 'kysely';
import type { Engine } from '../../config.js';

/**
 * The audit log gets an age limit (HERALD_AUDIT_RETENTION, src/maintenance/retention.ts). The
 * database still refuses every UPDATE, and every DELETE of an entry younger than 30 days: recent
 * history cannot be erased by a hand-written statement, only aged out.
 */

/** No audit entry younger than this can be deleted, whatever the configuration says. */
export const AUDIT_DELETE_FLOOR_MS = 30 * 86_400_000;

const REFUSAL = 'audit_log is append-only: entries cannot be changed, nor deleted before they are 30 days old';

/** PostgreSQL: the one trigger function refuses updates, and deletes unless `deletable` holds. */
function postgresGuard(deletable: RawBuilder<unknown>, message: string) {
  return sql`
    create or replace function audit_log_append_only() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' and ${deletable} then
        return old;
      end if;
      raise exception ${sql.lit(message)};
    end;
    $$`;
}

/** SQLite: the delete trigger (updates keep their own) refuses when `refused` holds. */
async function replaceSqliteDeleteGuard(db: Kysely<unknown>, refused: RawBuilder<unknown>, message: string): Promise<void> {
  await sql`drop trigger audit_log_no_delete`.execute(db);
  await sql`
    create trigger audit_log_no_delete before delete on audit_log when ${refused}
    begin select raise(abort, ${sql.lit(message)}); end`.execute(db);
}

export function auditRetentionMigration(engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createIndex('audit_log_created').on('audit_log').column('created_at').execute();
      if (engine === 'postgres') {
        const old = sql`old.created_at < (extract(epoch from clock_timestamp()) * 1000)::bigint - ${sql.lit(AUDIT_DELETE_FLOOR_MS)}`;
        await postgresGuard(old, REFUSAL).execute(db);
      } else {
        const young = sql`old.created_at >= cast(strftime('%s', 'now') as integer) * 1000 - ${sql.lit(AUDIT_DELETE_FLOOR_MS)}`;
        await replaceSqliteDeleteGuard(db, young, REFUSAL);
      }
    },
    async down(db: Kysely<unknown>): Promise<void> {
      if (engine === 'postgres') await postgresGuard(sql`false`, 'audit_log is append-only').execute(db);
      else await replaceSqliteDeleteGuard(db, sql`true`, 'audit_log is append-only');
      await db.schema.dropIndex('audit_log_created').execute();
    },
  };
}
