import type { Insertable, Kysely } from 'kysely';
import type { Database, EventsTable } from '../db/schema.js';

/** Stores an event; a user's repeated `$insert_id` is ignored (the SDKs may resend). Returns whether it was new. */
export async function insertEvent(db: Kysely<Database>, row: Insertable<EventsTable>): Promise<boolean> {
  const result = await db
    .insertInto('events')
    .values(row)
    .onConflict((oc) => oc.columns(['workspace_id', 'distinct_id', 'insert_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function findEventIdByInsertId(
  db: Kysely<Database>,
  workspaceId: string,
  distinctId: string,
  insertId: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('events')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('distinct_id', '=', distinctId)
    .where('insert_id', '=', insertId)
    .executeTakeFirst();
  return row?.id;
}
