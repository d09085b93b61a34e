import type { Kysely, Migration } from 'kysely';

/**
 * API keys get a scope (src/auth/api-key-scope.ts): `full` (what every existing key keeps),
 * `trigger` or `read`, and optionally a list of route groups (JSON array; null = every group).
 */
export function apiKeyScopesMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('api_keys')
        .addColumn('scope', 'text', (c) => c.notNull().defaultTo('full'))
        .execute();
      await db.schema.alterTable('api_keys').addColumn('route_groups', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('api_keys').dropColumn('route_groups').execute();
      await db.schema.alterTable('api_keys').dropColumn('scope').execute();
    },
  };
}
