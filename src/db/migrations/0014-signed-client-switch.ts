import type { Kysely, Migration } from 'kysely';

/**
 * The per-workspace switch "allow key+secret signed client calls" (src/auth/hmac.ts): web-sdk
 * 1.x, Android 1.x and iOS legacy builds sign with the workspace secret shipped inside the app, so
 * with enhanced security on they are refused unless this is 1. Off for every existing workspace.
 */
export function signedClientSwitchMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .alterTable('workspaces')
        .addColumn('allow_signed_clients', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('workspaces').dropColumn('allow_signed_clients').execute();
    },
  };
}
