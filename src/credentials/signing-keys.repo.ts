import type { Kysely, Selectable } from 'kysely';
import type { Database, SigningKeysTable } from '../db/schema.js';

export type SigningKeyRow = Selectable<SigningKeysTable>;

export async function insertSigningKey(db: Kysely<Database>, row: SigningKeyRow): Promise<void> {
  await db.insertInto('signing_keys').values(row).execute();
}

export function listSigningKeys(db: Kysely<Database>, workspaceId: string): Promise<SigningKeyRow[]> {
  return db.selectFrom('signing_keys').selectAll().where('workspace_id', '=', workspaceId).orderBy('created_at').orderBy('id').execute();
}

export function listActiveSigningKeys(db: Kysely<Database>, workspaceId: string): Promise<SigningKeyRow[]> {
  return db
    .selectFrom('signing_keys')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('revoked_at', 'is', null)
    .orderBy('created_at', 'desc')
    .execute();
}

export function findSigningKeyById(db: Kysely<Database>, id: string): Promise<SigningKeyRow | undefined> {
  return db.selectFrom('signing_keys').selectAll().where('id', '=', id).executeTakeFirst();
}
