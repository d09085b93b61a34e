import type { Insertable, Kysely, Selectable } from 'kysely';
import { prepared } from '../db/prepared.js';
import type { Database, RequestLogTable } from '../db/schema.js';
import type { TimeCursor } from '../lib/cursor.js';

export type RequestLogRow = Selectable<RequestLogTable>;
export type NewRequestLogRow = Insertable<RequestLogTable>;

/** Rows per INSERT statement: well under either engine's bound-parameter limit (14 columns each). */
const ROWS_PER_STATEMENT = 100;

const COLUMNS = [
  'request_id',
  'workspace_id',
  'created_at',
  'method',
  'path',
  'route',
  'status',
  'latency_ms',
  'credential_type',
  'credential_id',
  'subscriber_id',
  'error_code',
  'reason',
  'is_authenticated',
] as const satisfies ReadonlyArray<keyof NewRequestLogRow>;

// Under load every flush holds full statements of ROWS_PER_STATEMENT rows: that statement is
// built once (building 1,400 values with Kysely cost more than SQLite took to insert them). Slots
// are named `<row>:<column>`.
const fullStatement = prepared('insert into request_log (full)', (db, p: Record<string, unknown>) =>
  db
    .insertInto('request_log')
    .values(
      Array.from({ length: ROWS_PER_STATEMENT }, (_, row) =>
        Object.fromEntries(COLUMNS.map((column) => [column, p[`${row}:${column}`]])),
      ) as NewRequestLogRow[],
    ),
);

function slotsOf(rows: readonly NewRequestLogRow[]): Record<string, unknown> {
  const slots: Record<string, unknown> = {};
  rows.forEach((row, index) => {
    for (const column of COLUMNS) slots[`${index}:${column}`] = row[column];
  });
  return slots;
}

/** One transaction for the whole batch: one commit (one fsync) however many requests it holds. */
export async function insertRequestLogRows(db: Kysely<Database>, rows: readonly NewRequestLogRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (let at = 0; at < rows.length; at += ROWS_PER_STATEMENT) {
      const chunk = rows.slice(at, at + ROWS_PER_STATEMENT);
      if (chunk.length === ROWS_PER_STATEMENT) await fullStatement.execute(trx, slotsOf(chunk));
      else await trx.insertInto('request_log').values(chunk).execute();
    }
  });
}

export interface RequestLogQuery {
  limit: number;
  before: TimeCursor | undefined;
  isErrorsOnly: boolean;
  credentialId: string | undefined;
}

/** Newest first; `workspaceId` null reads requests that named no known workspace. */
export function listRequestLogRows(db: Kysely<Database>, workspaceId: string | null, query: RequestLogQuery): Promise<RequestLogRow[]> {
  let select = db
    .selectFrom('request_log')
    .selectAll()
    .where('workspace_id', workspaceId === null ? 'is' : '=', workspaceId);
  if (query.isErrorsOnly) select = select.where('status', '>=', 400);
  if (query.credentialId !== undefined) select = select.where('credential_id', '=', query.credentialId);
  const before = query.before;
  if (before) {
    select = select.where((eb) =>
      eb.or([eb('created_at', '<', before.at), eb.and([eb('created_at', '=', before.at), eb('seq', '<', before.seq)])]),
    );
  }
  return select.orderBy('created_at', 'desc').orderBy('seq', 'desc').limit(query.limit).execute();
}

export async function deleteRequestLogOlderThan(db: Kysely<Database>, cutoff: number): Promise<number> {
  const result = await db.deleteFrom('request_log').where('created_at', '<', cutoff).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Keeps the newest `maxRows` rows of every workspace (and of the no-workspace bucket). */
/**
 * Keeps the newest `maxRows` rows of each workspace's authenticated requests, and apart from them
 * the newest `maxRows` of its unauthenticated ones: rejections that anyone can send in a workspace's
 * name (its workspace key is public) never push out its real traffic.
 */
export async function deleteRequestLogBeyondCount(db: Kysely<Database>, maxRows: number): Promise<number> {
  const buckets = await db
    .selectFrom('request_log')
    .select(['workspace_id', 'is_authenticated'])
    .groupBy(['workspace_id', 'is_authenticated'])
    .having((eb) => eb.fn.countAll(), '>', maxRows)
    .execute();
  let deleted = 0;
  for (const { workspace_id: workspaceId, is_authenticated: isAuthenticated } of buckets) {
    const byWorkspace = workspaceId === null ? ('is' as const) : ('=' as const);
    // The newest row that no longer fits; it and everything older goes.
    const cutoff = await db
      .selectFrom('request_log')
      .select(['created_at', 'seq'])
      .where('workspace_id', byWorkspace, workspaceId)
      .where('is_authenticated', '=', isAuthenticated)
      .orderBy('created_at', 'desc')
      .orderBy('seq', 'desc')
      .offset(maxRows)
      .limit(1)
      .executeTakeFirst();
    if (!cutoff) continue;
    const result = await db
      .deleteFrom('request_log')
      .where('workspace_id', byWorkspace, workspaceId)
      .where('is_authenticated', '=', isAuthenticated)
      .where((eb) =>
        eb.or([eb('created_at', '<', cutoff.created_at), eb.and([eb('created_at', '=', cutoff.created_at), eb('seq', '<=', cutoff.seq)])]),
      )
      .executeTakeFirst();
    deleted += Number(result.numDeletedRows);
  }
  return deleted;
}
