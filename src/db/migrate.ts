import { sql, type Kysely, type Migration } from 'kysely';
import type { Engine } from '../config.js';
import { initialMigration } from './migrations/0001-initial.js';
import { notificationsMigration } from './migrations/0002-notifications.js';
import { inboxMigration } from './migrations/0003-inbox.js';
import { adminMigration } from './migrations/0004-admin.js';
import { logsMigration } from './migrations/0005-logs.js';
import { inboxCountsMigration } from './migrations/0006-inbox-counts.js';
import { requestLogBudgetsMigration } from './migrations/0007-request-log-budgets.js';
import { inboxVersionsMigration } from './migrations/0008-inbox-versions.js';
import { auditRetentionMigration } from './migrations/0009-audit-retention.js';
import { eventDedupPerUserMigration } from './migrations/0010-event-dedup-per-user.js';
import { apiKeyScopesMigration } from './migrations/0011-api-key-scopes.js';
import { webhookSecretsMigration } from './migrations/0012-webhook-secrets.js';
import { webhookOutboxMessageMigration } from './migrations/0013-webhook-outbox-message.js';
import { signedClientSwitchMigration } from './migrations/0014-signed-client-switch.js';
import type { Database } from './schema.js';

function migrationsFor(engine: Engine): Record<string, Migration> {
  // Names sort lexically; never rename or reorder an applied migration.
  return {
    '0001-initial': initialMigration(engine),
    '0002-notifications': notificationsMigration(engine),
    '0003-inbox': inboxMigration(engine),
    '0004-admin': adminMigration(engine),
    '0005-logs': logsMigration(engine),
    '0006-inbox-counts': inboxCountsMigration(),
    '0007-request-log-budgets': requestLogBudgetsMigration(),
    '0008-inbox-versions': inboxVersionsMigration(engine),
    '0009-audit-retention': auditRetentionMigration(engine),
    '0010-event-dedup-per-user': eventDedupPerUserMigration(engine),
    '0011-api-key-scopes': apiKeyScopesMigration(),
    '0012-webhook-secrets': webhookSecretsMigration(),
    '0013-webhook-outbox-message': webhookOutboxMessageMigration(),
    '0014-signed-client-switch': signedClientSwitchMigration(),
  };
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

const MIGRATIONS_TABLE = 'herald_migrations';

/** Migrations recorded by Kysely's Migrator, which the first Herald builds used; looked up in our own schema only. */
async function kyselyApplied(db: Kysely<Database>, engine: Engine): Promise<string[]> {
  const exists =
    engine === 'postgres'
      ? (await sql<{ found: string | null }>`select to_regclass('kysely_migration')::text as found`.execute(db)).rows[0]?.found
      : (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name = 'kysely_migration'`.execute(db)).rows[0]
          ?.name;
  if (!exists) return [];
  return (await sql<{ name: string }>`select name from kysely_migration`.execute(db)).rows.map((row) => row.name);
}

/**
 * Applies every pending migration, in name order, all in one transaction. Safe to run from several
 * processes at once: PostgreSQL serialises runs with an advisory lock per schema; SQLite with its
 * write lock, taken by the first statement so the "what is applied" read happens under it.
 *
 * Herald does not use Kysely's Migrator: it finds its bookkeeping tables through whole-database
 * introspection, which fails ("schema … does not exist") while any other schema of the same
 * PostgreSQL database is being dropped, and without a schema option it mistakes another schema's
 * tables for its own.
 */
export async function migrateToLatest(db: Kysely<Database>, engine: Engine, schema: string | undefined): Promise<string[]> {
  const migrations = migrationsFor(engine);
  const names = Object.keys(migrations).sort();
  const applied: string[] = [];
  let current = '';
  try {
    await db.transaction().execute(async (trx) => {
      if (engine === 'postgres') {
        // Building an index on a large table, or waiting for another process's migration, may
        // take longer than the statement timeout that guards request queries.
        await sql`set local statement_timeout = 0`.execute(trx);
        await sql`select pg_advisory_xact_lock(hashtext(${`herald-migrate:${schema ?? 'public'}`}))`.execute(trx);
      }
      // On SQLite this write is the transaction's first statement, so it takes the write lock.
      await sql`create table if not exists ${sql.table(MIGRATIONS_TABLE)} (name text primary key, applied_at bigint not null)`.execute(trx);
      const done = new Set(
        (await sql<{ name: string }>`select name from ${sql.table(MIGRATIONS_TABLE)}`.execute(trx)).rows.map((row) => row.name),
      );
      if (done.size === 0) for (const name of await kyselyApplied(trx, engine)) done.add(name);
      for (const name of names) {
        if (done.has(name)) continue;
        current = name;
        await (migrations[name] as Migration).up(trx as unknown as Kysely<unknown>);
        await sql`insert into ${sql.table(MIGRATIONS_TABLE)} (name, applied_at) values (${name}, ${Date.now()})`.execute(trx);
        applied.push(name);
      }
    });
  } catch (error) {
    throw new MigrationError(`migration ${current || '(setup)'} failed: ${(error as Error).message}`, { cause: error });
  }
  return applied;
}
