import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

type RevocableTable = 'api_keys' | 'public_keys' | 'signing_keys';

/** Marks one credential revoked, scoped to its workspace; a second revocation keeps the first time. */
export async function markRevoked(db: Kysely<Database>, table: RevocableTable, workspaceId: string, id: string, at: number): Promise<void> {
  await db
    .updateTable(table)
    .set({ revoked_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .execute();
}
