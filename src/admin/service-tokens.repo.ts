import type { Kysely, Selectable } from 'kysely';
import type { AdminServiceTokensTable, Database } from '../db/schema.js';

export type ServiceTokenRow = Selectable<AdminServiceTokensTable>;

export async function insertServiceToken(db: Kysely<Database>, row: ServiceTokenRow): Promise<void> {
  await db.insertInto('admin_service_tokens').values(row).execute();
}

export function listServiceTokens(db: Kysely<Database>): Promise<ServiceTokenRow[]> {
  return db.selectFrom('admin_service_tokens').selectAll().orderBy('created_at').orderBy('id').execute();
}

export function findServiceToken(db: Kysely<Database>, id: string): Promise<ServiceTokenRow | undefined> {
  return db.selectFrom('admin_service_tokens').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findServiceTokenByHash(db: Kysely<Database>, tokenHash: string): Promise<ServiceTokenRow | undefined> {
  return db.selectFrom('admin_service_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Sets revoked_at once; returns false when the token was already revoked. */
export async function markServiceTokenRevoked(db: Kysely<Database>, id: string, at: number): Promise<boolean> {
  const result = await db
    .updateTable('admin_service_tokens')
    .set({ revoked_at: at })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function touchServiceTokens(db: Kysely<Database>, uses: ReadonlyArray<readonly [id: string, at: number]>): Promise<void> {
  for (const [id, at] of uses) {
    await db
      .updateTable('admin_service_tokens')
      .set({ last_used_at: at })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', at)]))
      .execute();
  }
}
