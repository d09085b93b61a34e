import type { Kysely, Selectable } from 'kysely';
import type { Database, PublicKeysTable } from '../db/schema.js';

export type PublicKeyRow = Selectable<PublicKeysTable>;

export async function insertPublicKey(db: Kysely<Database>, row: PublicKeyRow): Promise<void> {
  await db.insertInto('public_keys').values(row).execute();
}

export function listPublicKeys(db: Kysely<Database>, workspaceId: string): Promise<PublicKeyRow[]> {
  return db.selectFrom('public_keys').selectAll().where('workspace_id', '=', workspaceId).orderBy('created_at').orderBy('id').execute();
}

export function findPublicKey(db: Kysely<Database>, workspaceId: string, ref: string): Promise<PublicKeyRow | undefined> {
  return db
    .selectFrom('public_keys')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where((eb) => eb.or([eb('id', '=', ref), eb('key', '=', ref)]))
    .executeTakeFirst();
}

export function findPublicKeyByKey(db: Kysely<Database>, key: string): Promise<PublicKeyRow | undefined> {
  return db.selectFrom('public_keys').selectAll().where('key', '=', key).executeTakeFirst();
}
