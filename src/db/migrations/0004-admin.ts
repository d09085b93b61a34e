import { sql, type Kysely, type Migration } from 'kysely';
import type { Engine } from '../../config.js';

/**
 * Admin identity (src/admin/): dashboard accounts, their sessions, service tokens for the admin
 * API, and the login throttle. Only hashes of secrets are stored: argon2id for passwords,
 * SHA-256 for session cookies and service tokens (both carry ≥178 random bits).
 */
export function adminMigration(_engine: Engine): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('admin_accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        // Stored lower-cased: one account per address however it is typed.
        .addColumn('email', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('owner', 'admin', 'developer', 'viewer')`))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('disabled_at', 'bigint')
        .addColumn('last_login_at', 'bigint')
        .execute();

      await db.schema
        .createTable('admin_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        // SHA-256 of the cookie value; the value itself is never stored.
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('account_id', 'text', (c) => c.notNull().references('admin_accounts.id').onDelete('cascade'))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        // Last time the password was entered (login or reauth): the "fresh session" clock.
        .addColumn('authenticated_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('ip', 'text')
        .addColumn('user_agent', 'text')
        .execute();
      await db.schema.createIndex('admin_sessions_account').on('admin_sessions').column('account_id').execute();

      await db.schema
        .createTable('admin_service_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('display_prefix', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin', 'developer', 'viewer')`))
        // '*' (every workspace, present and future) or a JSON array of workspace ids.
        .addColumn('workspace_ids', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('expires_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .execute();

      // One row per throttled key (`email:<sha256>` or `ip:<address>`), shared by every process.
      await db.schema
        .createTable('admin_login_throttle')
        .addColumn('key', 'text', (c) => c.primaryKey())
        // Attempts since the last reset (failures plus any still being checked).
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('last_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('locked_until', 'bigint')
        // Locks so far: each one lasts twice as long as the previous.
        .addColumn('lockouts', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('admin_login_throttle').execute();
      await db.schema.dropTable('admin_service_tokens').execute();
      await db.schema.dropTable('admin_sessions').execute();
      await db.schema.dropTable('admin_accounts').execute();
    },
  };
}
