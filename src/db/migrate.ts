import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import type { Engine } from '../config.js';
import { initialMigration } from './migrations/0001-initial.js';
import { notificationsMigration } from './migrations/0002-notifications.js';
import { inboxMigration } from './migrations/0003-inbox.js';
import type { Database } from './schema.js';

function migrationsFor(engine: Engine): Record<string, Migration> {
  // Names sort lexically; never rename or reorder an applied migration.
  return {
    '0001-initial': initialMigration(engine),
    '0002-notifications': notificationsMigration(engine),
    '0003-inbox': inboxMigration(engine),
  };
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Applies every pending migration. Safe to run from several processes at once (Kysely takes a lock). */
export async function migrateToLatest(db: Kysely<Database>, engine: Engine, schema: string | undefined): Promise<string[]> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrationsFor(engine) },
    // Kysely looks for its bookkeeping tables in every schema unless told which one: without
    // this, another schema's kysely_migration table (another Herald, another app) would be taken for ours.
    ...(engine === 'postgres' && schema ? { migrationTableSchema: schema } : {}),
  });
  const result: MigrationResultSet = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new MigrationError(`migration ${failed} failed: ${String(result.error)}`);
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
