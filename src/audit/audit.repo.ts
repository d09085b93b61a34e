import type { Insertable, Kysely, Selectable } from 'kysely';
import type { AuditLogTable, Database } from '../db/schema.js';
import type { TimeCursor } from '../lib/cursor.js';

/**
 * The audit log is append-only: this file inserts and reads, and nothing else. (A test searches
 * src/audit for any statement that could rewrite a row; the database refuses them with triggers too.)
 */

export type AuditRow = Selectable<AuditLogTable>;

export async function insertAuditRow(db: Kysely<Database>, row: Insertable<AuditLogTable>): Promise<void> {
  await db.insertInto('audit_log').values(row).execute();
}

/** Newest first; `workspaceId` null reads the account-level entries. */
export function listAuditRows(
  db: Kysely<Database>,
  workspaceId: string | null,
  page: { limit: number; before: TimeCursor | undefined },
): Promise<AuditRow[]> {
  let query = db
    .selectFrom('audit_log')
    .selectAll()
    .where('workspace_id', workspaceId === null ? 'is' : '=', workspaceId);
  const before = page.before;
  if (before) {
    query = query.where((eb) =>
      eb.or([eb('created_at', '<', before.at), eb.and([eb('created_at', '=', before.at), eb('id', '<', before.seq)])]),
    );
  }
  return query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute();
}
