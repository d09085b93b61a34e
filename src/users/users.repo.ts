import { sql, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { Engine } from '../config.js';
import type { Database, UsersTable } from '../db/schema.js';
import { prepared } from '../db/prepared.js';

export type UserRow = Selectable<UsersTable>;

/** Reads a user for update: PostgreSQL locks the row so concurrent edits apply one after another. */
type UserKey = { workspaceId: string; distinctId: string };

// Every delivery upserts its recipients through these: prepared, so Kysely builds each once.
const userByKey = (db: Kysely<Database>, key: UserKey) =>
  db.selectFrom('users').selectAll().where('workspace_id', '=', key.workspaceId).where('distinct_id', '=', key.distinctId);
const userForUpdate = {
  postgres: prepared('userForUpdate', (db, key: UserKey) => userByKey(db, key).forUpdate()),
  // SQLite has no FOR UPDATE; its writers are serialised by the database lock anyway.
  sqlite: prepared('userForUpdate', userByKey),
};
const userInsertIfMissing = prepared('userInsertIfMissing', (db, row: UserKey & { at: number }) =>
  db
    .insertInto('users')
    .values({
      workspace_id: row.workspaceId,
      distinct_id: row.distinctId,
      properties: '{}',
      channels: '{}',
      created_at: row.at,
      updated_at: row.at,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'distinct_id']).doNothing()),
);
const userProfileUpdate = prepared('userProfileUpdate', (db, row: UserKey & { properties: string; channels: string; at: number }) =>
  db
    .updateTable('users')
    .set({ properties: row.properties, channels: row.channels, updated_at: row.at })
    .where('workspace_id', '=', row.workspaceId)
    .where('distinct_id', '=', row.distinctId),
);

export function findUserForUpdate(
  db: Kysely<Database>,
  engine: Engine,
  workspaceId: string,
  distinctId: string,
): Promise<UserRow | undefined> {
  return userForUpdate[engine].executeTakeFirst(db, { workspaceId, distinctId });
}

export function findUser(db: Kysely<Database>, workspaceId: string, distinctId: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('distinct_id', '=', distinctId)
    .executeTakeFirst();
}

/** Inserts an empty user unless it exists (no error on a concurrent insert). */
export async function ensureUser(db: Kysely<Database>, workspaceId: string, distinctId: string, at: number): Promise<void> {
  await userInsertIfMissing.execute(db, { workspaceId, distinctId, at });
}

export async function saveUserProfile(
  db: Kysely<Database>,
  workspaceId: string,
  distinctId: string,
  profile: { properties: string; channels: string },
  at: number,
): Promise<void> {
  await userProfileUpdate.execute(db, { workspaceId, distinctId, ...profile, at });
}

export function listUsers(
  db: Kysely<Database>,
  workspaceId: string,
  page: { limit: number; after?: string | undefined; before?: string | undefined },
): Promise<UserRow[]> {
  let query = db.selectFrom('users').selectAll().where('workspace_id', '=', workspaceId);
  if (page.after !== undefined) query = query.where('distinct_id', '>', page.after);
  if (page.before !== undefined) query = query.where('distinct_id', '<', page.before);
  // Fetch one extra row to know whether there is another page.
  return query
    .orderBy('distinct_id', page.before !== undefined && page.after === undefined ? 'desc' : 'asc')
    .limit(page.limit + 1)
    .execute();
}

/** Removes a user and everything that hangs off it, in the caller's transaction. */
export async function deleteUsers(db: Kysely<Database>, workspaceId: string, distinctIds: string[]): Promise<number> {
  if (distinctIds.length === 0) return 0;
  for (const table of ['list_members', 'user_tenants', 'user_preferences', 'user_channel_preferences', 'notifications'] as const) {
    await db.deleteFrom(table).where('workspace_id', '=', workspaceId).where('distinct_id', 'in', distinctIds).execute();
  }
  await db
    .deleteFrom('object_subscriptions')
    .where('workspace_id', '=', workspaceId)
    .where('recipient_type', '=', '')
    .where('recipient_id', 'in', distinctIds)
    .execute();
  const result = await db
    .deleteFrom('users')
    .where('workspace_id', '=', workspaceId)
    .where('distinct_id', 'in', distinctIds)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Moves list memberships, tenant links and object subscriptions of `from` onto `to` (merge). */
export async function moveUserLinks(db: Kysely<Database>, workspaceId: string, from: string, to: string): Promise<void> {
  const memberships = await db
    .selectFrom('list_members')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('distinct_id', '=', from)
    .execute();
  for (const row of memberships) {
    await db
      .insertInto('list_members')
      .values({ ...row, distinct_id: to })
      .onConflict((oc) => oc.columns(['workspace_id', 'list_id', 'version_id', 'distinct_id']).doNothing())
      .execute();
  }
  const tenants = await db
    .selectFrom('user_tenants')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('distinct_id', '=', from)
    .execute();
  for (const row of tenants) {
    await db
      .insertInto('user_tenants')
      .values({ ...row, distinct_id: to })
      .onConflict((oc) => oc.columns(['workspace_id', 'distinct_id', 'tenant_id']).doNothing())
      .execute();
  }
  const subscriptions = await db
    .selectFrom('object_subscriptions')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('recipient_type', '=', '')
    .where('recipient_id', '=', from)
    .execute();
  for (const row of subscriptions) {
    await db
      .insertInto('object_subscriptions')
      .values({ ...row, recipient_id: to })
      .onConflict((oc) => oc.columns(['workspace_id', 'object_type', 'object_id', 'recipient_type', 'recipient_id']).doNothing())
      .execute();
  }
  await db
    .updateTable('notifications')
    .set({ distinct_id: to })
    .where('workspace_id', '=', workspaceId)
    .where('distinct_id', '=', from)
    .execute();
}

export function listUserListIds(
  db: Kysely<Database>,
  workspaceId: string,
  distinctId: string,
  page: { limit: number; after?: string | undefined },
): Promise<Array<{ list_id: string; created_at: number }>> {
  let query = db
    .selectFrom('list_members')
    .select(['list_id', 'created_at'])
    .where('workspace_id', '=', workspaceId)
    .where('distinct_id', '=', distinctId)
    .where('version_id', '=', '');
  if (page.after !== undefined) query = query.where('list_id', '>', page.after);
  return query
    .orderBy('list_id')
    .limit(page.limit + 1)
    .execute();
}

export function listUserObjectSubscriptions(
  db: Kysely<Database>,
  workspaceId: string,
  distinctId: string,
  page: { limit: number },
): Promise<Array<{ object_type: string; object_id: string; properties: string; created_at: number }>> {
  return db
    .selectFrom('object_subscriptions')
    .select(['object_type', 'object_id', 'properties', 'created_at'])
    .where('workspace_id', '=', workspaceId)
    .where('recipient_type', '=', '')
    .where('recipient_id', '=', distinctId)
    .orderBy('object_type')
    .orderBy('object_id')
    .limit(page.limit + 1)
    .execute();
}

/** `term` as a LIKE pattern matching it anywhere, with LIKE's wildcards taken literally (ESCAPE '\'). */
function containsPattern(term: string): string {
  return `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The admin dashboard's user search: distinct_id starting with `term` (case-sensitive, as ids
 * are), or the `name` property or an `$email` identity containing it (case-insensitive). Walks the
 * workspace's users in primary-key order (workspace_id, distinct_id) and stops at `limit + 1`
 * matches, so a page costs at most one pass over the workspace and usually far less. There is no
 * trigram index: substring search over JSON cannot use a b-tree on either engine.
 */
export function searchUsers(
  db: Kysely<Database>,
  engine: Engine,
  workspaceId: string,
  page: { term: string; limit: number; after?: string | undefined },
): Promise<UserRow[]> {
  const pattern = containsPattern(page.term);
  const escape = sql.raw(`'\\'`);
  const name =
    engine === 'postgres'
      ? sql`lower((${sql.ref('users.properties')})::jsonb ->> 'name') like ${pattern} escape ${escape}`
      : sql`lower(json_extract(${sql.ref('users.properties')}, '$.name')) like ${pattern} escape ${escape}`;
  const email =
    engine === 'postgres'
      ? sql`exists (select 1 from jsonb_array_elements(case when jsonb_typeof((${sql.ref('users.channels')})::jsonb -> '$email') = 'array'
            then (${sql.ref('users.channels')})::jsonb -> '$email' else '[]'::jsonb end) as e
            where lower(e ->> 'value') like ${pattern} escape ${escape})`
      : sql`exists (select 1 from json_each(${sql.ref('users.channels')}, '$."$email"') as e
            where json_valid(e.value) and lower(json_extract(e.value, '$.value')) like ${pattern} escape ${escape})`;
  let query = db
    .selectFrom('users')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where((eb) =>
      eb.or([
        eb(eb.fn('substr', [eb.ref('distinct_id'), eb.val(1), eb.val([...page.term].length)]), '=', page.term),
        sql<SqlBool>`${name}`,
        sql<SqlBool>`${email}`,
      ]),
    );
  if (page.after !== undefined) query = query.where('distinct_id', '>', page.after);
  return query
    .orderBy('distinct_id')
    .limit(page.limit + 1)
    .execute();
}
