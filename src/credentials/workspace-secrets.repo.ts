import type { Kysely, Selectable } from 'kysely';
import type { Database, WorkspaceSecretsTable } from '../db/schema.js';

export type WorkspaceSecretRow = Selectable<WorkspaceSecretsTable>;

export async function insertWorkspaceSecret(db: Kysely<Database>, row: WorkspaceSecretRow): Promise<void> {
  await db.insertInto('workspace_secrets').values(row).execute();
}

/** Current secret first, then those still inside their grace period (newest first). */
export function findValidSecrets(db: Kysely<Database>, workspaceId: string, now: number): Promise<WorkspaceSecretRow[]> {
  return db
    .selectFrom('workspace_secrets')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('created_at', 'desc')
    .execute();
}

export function findCurrentSecret(db: Kysely<Database>, workspaceId: string): Promise<WorkspaceSecretRow | undefined> {
  return db
    .selectFrom('workspace_secrets')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('expires_at', 'is', null)
    .executeTakeFirst();
}

/** Ends every secret of the workspace that would still be valid after `at` (used before a rotation). */
export async function expireSecrets(db: Kysely<Database>, workspaceId: string, ids: string[], at: number): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('workspace_secrets')
    .set({ expires_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', ids)
    .execute();
}
