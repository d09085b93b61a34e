import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { Engine } from '../config.js';
import type { Database, ListsTable, ListVersionsTable } from '../db/schema.js';

export type ListRow = Selectable<ListsTable>;
export type ListVersionRow = Selectable<ListVersionsTable>;
export type VersionStatus = ListVersionRow['status'];

/** The version id of the live members; sync versions have ids of their own. */
export const LIVE = '';

// 1000 ids × 5 columns stays far below both engines' bound-parameter limits.
const INSERT_CHUNK = 1000;

export function findList(db: Kysely<Database>, workspaceId: string, listId: string): Promise<ListRow | undefined> {
  return db.selectFrom('lists').selectAll().where('workspace_id', '=', workspaceId).where('list_id', '=', listId).executeTakeFirst();
}

/**
 * Locks the list row on PostgreSQL. Every change to a list's members or versions takes this lock
 * first, so a delete cannot interleave with an add (orphan members) and finish_sync runs alone.
 */
export function findListForUpdate(db: Kysely<Database>, engine: Engine, workspaceId: string, listId: string): Promise<ListRow | undefined> {
  const query = db.selectFrom('lists').selectAll().where('workspace_id', '=', workspaceId).where('list_id', '=', listId);
  // SQLite has no FOR UPDATE; its writers are serialised by the database lock anyway.
  return (engine === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
}

/** Inserts a list unless it exists (no error on a concurrent create of the same id). */
export async function ensureList(db: Kysely<Database>, workspaceId: string, listId: string, name: string, at: number): Promise<void> {
  await db
    .insertInto('lists')
    .values({ workspace_id: workspaceId, list_id: listId, name, description: null, created_at: at, updated_at: at })
    .onConflict((oc) => oc.columns(['workspace_id', 'list_id']).doNothing())
    .execute();
}

export async function saveList(
  db: Kysely<Database>,
  workspaceId: string,
  listId: string,
  values: { name: string; description: string | null },
  at: number,
): Promise<void> {
  await db
    .updateTable('lists')
    .set({ ...values, updated_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('list_id', '=', listId)
    .execute();
}

export async function touchList(db: Kysely<Database>, workspaceId: string, listId: string, at: number): Promise<void> {
  await db.updateTable('lists').set({ updated_at: at }).where('workspace_id', '=', workspaceId).where('list_id', '=', listId).execute();
}

export async function countLists(db: Kysely<Database>, workspaceId: string): Promise<number> {
  const row = await db
    .selectFrom('lists')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A page of lists with their live member counts. */
export async function listLists(
  db: Kysely<Database>,
  workspaceId: string,
  page: { limit: number; offset: number },
): Promise<Array<ListRow & { subscribers_count: number }>> {
  const rows = await db
    .selectFrom('lists as l')
    .selectAll('l')
    .select((eb) =>
      eb
        .selectFrom('list_members as m')
        .select((inner) => inner.fn.countAll().as('n'))
        .whereRef('m.workspace_id', '=', 'l.workspace_id')
        .whereRef('m.list_id', '=', 'l.list_id')
        .where('m.version_id', '=', LIVE)
        .as('subscribers_count'),
    )
    .where('l.workspace_id', '=', workspaceId)
    .orderBy('l.list_id')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  return rows.map((row) => ({ ...row, subscribers_count: Number(row.subscribers_count ?? 0) }));
}

export async function countMembers(db: Kysely<Database>, workspaceId: string, listId: string, versionId: string): Promise<number> {
  const row = await db
    .selectFrom('list_members')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('list_id', '=', listId)
    .where('version_id', '=', versionId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Adds members; ones already there keep their original created_at. */
export async function insertMembers(
  db: Kysely<Database>,
  workspaceId: string,
  listId: string,
  versionId: string,
  distinctIds: readonly string[],
  at: number,
): Promise<void> {
  for (let start = 0; start < distinctIds.length; start += INSERT_CHUNK) {
    const chunk = distinctIds.slice(start, start + INSERT_CHUNK);
    await db
      .insertInto('list_members')
      .values(
        chunk.map((distinctId) => ({
          workspace_id: workspaceId,
          list_id: listId,
          version_id: versionId,
          distinct_id: distinctId,
          created_at: at,
        })),
      )
      .onConflict((oc) => oc.columns(['workspace_id', 'list_id', 'version_id', 'distinct_id']).doNothing())
      .execute();
  }
}

export async function deleteMembers(
  db: Kysely<Database>,
  workspaceId: string,
  listId: string,
  versionId: string,
  distinctIds: readonly string[],
): Promise<void> {
  if (distinctIds.length === 0) return;
  await db
    .deleteFrom('list_members')
    .where('workspace_id', '=', workspaceId)
    .where('list_id', '=', listId)
    .where('version_id', '=', versionId)
    .where('distinct_id', 'in', distinctIds)
    .execute();
}

/** Removes a list with all its members and versions, in the caller's transaction. */
export async function deleteList(db: Kysely<Database>, workspaceId: string, listId: string): Promise<void> {
  await db.deleteFrom('list_members').where('workspace_id', '=', workspaceId).where('list_id', '=', listId).execute();
  await db.deleteFrom('list_versions').where('workspace_id', '=', workspaceId).where('list_id', '=', listId).execute();
  await db.deleteFrom('lists').where('workspace_id', '=', workspaceId).where('list_id', '=', listId).execute();
}

export async function insertVersion(
  db: Kysely<Database>,
  workspaceId: string,
  listId: string,
  versionId: string,
  at: number,
): Promise<void> {
  await db
    .insertInto('list_versions')
    .values({ workspace_id: workspaceId, list_id: listId, version_id: versionId, status: 'draft', created_at: at, updated_at: at })
    .execute();
}

export function findVersion(
  db: Kysely<Database>,
  workspaceId: string,
  listId: string,
  versionId: string,
): Promise<ListVersionRow | undefined> {
  return db
    .selectFrom('list_versions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('list_id', '=', listId)
    .where('version_id', '=', versionId)
    .executeTakeFirst();
}

export async function setVersionStatus(
  db: Kysely<Database>,
  workspaceId: string,
  listId: string,
  versionId: string,
  status: VersionStatus,
  at: number,
): Promise<void> {
  await db
    .updateTable('list_versions')
    .set({ status, updated_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('list_id', '=', listId)
    .where('version_id', '=', versionId)
    .execute();
}

/** Marks every active version of the list deleted (the one being finished replaces them). */
export async function retireActiveVersions(db: Kysely<Database>, workspaceId: string, listId: string, at: number): Promise<void> {
  await db
    .updateTable('list_versions')
    .set({ status: 'deleted', updated_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('list_id', '=', listId)
    .where('status', '=', 'active')
    .execute();
}

/**
 * Makes a version's members the live members, in the caller's transaction. Members in both keep
 * their live row (and its created_at, the time they joined the list); the version's rows are
 * consumed.
 */
export async function replaceLiveMembers(db: Kysely<Database>, workspaceId: string, listId: string, versionId: string): Promise<void> {
  const scope = (version: string) =>
    db.deleteFrom('list_members').where('workspace_id', '=', workspaceId).where('list_id', '=', listId).where('version_id', '=', version);
  // NOT EXISTS rather than NOT IN (subquery): PostgreSQL's NOT IN degrades to a nested loop on big lists.
  const inVersion = (eb: ExpressionBuilder<Database, 'list_members'>, version: string) =>
    eb.exists(
      eb
        .selectFrom('list_members as other')
        .select('other.distinct_id')
        .where('other.workspace_id', '=', workspaceId)
        .where('other.list_id', '=', listId)
        .where('other.version_id', '=', version)
        .whereRef('other.distinct_id', '=', 'list_members.distinct_id'),
    );
  await scope(LIVE)
    .where((eb) => eb.not(inVersion(eb, versionId)))
    .execute();
  await scope(versionId)
    .where((eb) => inVersion(eb, LIVE))
    .execute();
  await db
    .updateTable('list_members')
    .set({ version_id: LIVE })
    .where('workspace_id', '=', workspaceId)
    .where('list_id', '=', listId)
    .where('version_id', '=', versionId)
    .execute();
}

export async function deleteVersionMembers(db: Kysely<Database>, workspaceId: string, listId: string, versionId: string): Promise<void> {
  await db
    .deleteFrom('list_members')
    .where('workspace_id', '=', workspaceId)
    .where('list_id', '=', listId)
    .where('version_id', '=', versionId)
    .execute();
}

/** Live members' distinct_ids in ascending order, strictly after `after` (keyset pagination for delivery). */
export async function listLiveMemberIds(
  db: Kysely<Database>,
  workspaceId: string,
  listId: string,
  after: string | undefined,
  limit: number,
): Promise<string[]> {
  let query = db
    .selectFrom('list_members')
    .select('distinct_id')
    .where('workspace_id', '=', workspaceId)
    .where('list_id', '=', listId)
    .where('version_id', '=', LIVE);
  if (after !== undefined) query = query.where('distinct_id', '>', after);
  const rows = await query.orderBy('distinct_id').limit(limit).execute();
  return rows.map((row) => row.distinct_id);
}

/**
 * A page of live members ordered by distinct_id (the primary key's order, so a page reads only its
 * rows), `descending` or not, strictly beyond the `after` / `before` keys, with one extra row that
 * tells whether there is another page. A `before` page alone is read in reverse (the caller flips it).
 */
export async function listMemberPage(
  db: Kysely<Database>,
  workspaceId: string,
  listId: string,
  page: { limit: number; after?: string | undefined; before?: string | undefined; descending: boolean },
): Promise<Array<{ distinct_id: string; created_at: number }>> {
  const [next, previous] = page.descending ? (['<', '>'] as const) : (['>', '<'] as const);
  let query = db
    .selectFrom('list_members')
    .select(['distinct_id', 'created_at'])
    .where('workspace_id', '=', workspaceId)
    .where('list_id', '=', listId)
    .where('version_id', '=', LIVE);
  if (page.after !== undefined) query = query.where('distinct_id', next, page.after);
  if (page.before !== undefined) query = query.where('distinct_id', previous, page.before);
  const isBackward = page.before !== undefined && page.after === undefined;
  const direction = page.descending !== isBackward ? 'desc' : 'asc';
  return query
    .orderBy('distinct_id', direction)
    .limit(page.limit + 1)
    .execute();
}
