import type { Kysely, Migration } from 'kysely';

/**
 * Outbound webhooks get a signing secret of their own per workspace (src/credentials/webhook-secrets.service.ts),
 * apart from the workspace secret the backend SDKs sign requests with: a webhook receiver then holds
 * no key that can call the API, and rotating either secret leaves the other alone. Same shape as
 * workspace_secrets: the current secret has no expiry; a rolled-out one keeps signing until its
 * grace period ends. A workspace made before this migration has no row until its first roll, and
 * its webhooks stay signed with the workspace secret until then.
 */
export function webhookSecretsMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('webhook_secrets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspaces.id').onDelete('cascade'))
        .addColumn('secret_enc', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .execute();
      await db.schema.createIndex('webhook_secrets_workspace').on('webhook_secrets').columns(['workspace_id', 'created_at']).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('webhook_secrets').execute();
    },
  };
}
