import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export type ChangedEntity = 'workspace' | 'workspace_secret' | 'api_key' | 'public_key' | 'signing_key' | 'workflow';

/** Written in the same transaction as the change it announces, so no process can miss it. */
export async function recordChange(
  db: Kysely<Database>,
  change: { workspaceId: string; entity: ChangedEntity; entityId: string; at: number },
): Promise<void> {
  await db
    .insertInto('change_log')
    .values({ workspace_id: change.workspaceId, entity: change.entity, entity_id: change.entityId, created_at: change.at })
    .execute();
}

export async function maxChangeId(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('change_log')
    .select((eb) => eb.fn.max('id').as('max'))
    .executeTakeFirst();
  return Number(row?.max ?? 0);
}

export async function changesAfter(
  db: Kysely<Database>,
  afterId: number,
  alsoIds: number[],
): Promise<Array<{ id: number; workspace_id: string; entity: string }>> {
  let query = db.selectFrom('change_log').select(['id', 'workspace_id', 'entity']);
  query =
    alsoIds.length > 0 ? query.where((eb) => eb.or([eb('id', '>', afterId), eb('id', 'in', alsoIds)])) : query.where('id', '>', afterId);
  return query.orderBy('id').execute();
}

export async function pruneChanges(db: Kysely<Database>, olderThan: number): Promise<void> {
  await db.deleteFrom('change_log').where('created_at', '<', olderThan).execute();
}
