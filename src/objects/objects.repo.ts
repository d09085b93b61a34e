import { expressionBuilder, type ExpressionBuilder, type Kysely, type Selectable, type SelectQueryBuilder } from 'kysely';
import type { Engine } from '../config.js';
import type { Database, ObjectSubscriptionsTable, ObjectsTable } from '../db/schema.js';

export type ObjectRow = Selectable<ObjectsTable>;
export type ObjectWithCount = ObjectRow & { subscriptions_count: number };

/** One subscriber of an object (user or child object), with what the API shows about it. */
export interface SubscriptionRow {
  recipient_type: string;
  recipient_id: string;
  properties: string;
  created_at: number;
  user_updated_at: number | null;
  child_updated_at: number | null;
  child_subscriptions_count: number;
}

/** One object a given object is subscribed to. */
export interface SubscribedToRow {
  object_type: string;
  object_id: string;
  properties: string;
  created_at: number;
  parent_properties: string | null;
  parent_updated_at: number | null;
  parent_subscriptions_count: number;
}

export interface RecipientKey {
  recipient_type: string;
  recipient_id: string;
}

/** A keyset position over a two-column ordering, e.g. (recipient_type, recipient_id). */
export type KeyPair = readonly [string, string];

export interface KeysetPage<C> {
  limit: number;
  after?: C | undefined;
  before?: C | undefined;
}

function isBackward<C>(page: KeysetPage<C>): boolean {
  return page.before !== undefined && page.after === undefined;
}

/** The two orderings of object_subscriptions (aliased s) that the API pages through. */
type SubscriptionPairColumns = readonly ['s.recipient_type', 's.recipient_id'] | readonly ['s.object_type', 's.object_id'];

/**
 * Applies a keyset page over (first, second): rows strictly beyond the key pair, ordered in the
 * page's direction, with one extra row that tells whether there is another page. The query must
 * read object_subscriptions as s; the column pairs above are the only ones it accepts.
 */
function pageByPair<DB, TB extends keyof DB, O>(
  query: SelectQueryBuilder<DB, TB, O>,
  [first, second]: SubscriptionPairColumns,
  page: KeysetPage<KeyPair>,
): SelectQueryBuilder<DB, TB, O> {
  const eb = expressionBuilder<{ s: ObjectSubscriptionsTable }, 's'>();
  const { after, before } = page;
  let paged = query;
  if (after !== undefined) {
    paged = paged.where(eb.or([eb(first, '>', after[0]), eb.and([eb(first, '=', after[0]), eb(second, '>', after[1])])]));
  }
  if (before !== undefined) {
    paged = paged.where(eb.or([eb(first, '<', before[0]), eb.and([eb(first, '=', before[0]), eb(second, '<', before[1])])]));
  }
  const direction = isBackward(page) ? 'desc' : 'asc';
  return paged
    .orderBy(eb.ref(first), direction)
    .orderBy(eb.ref(second), direction)
    .limit(page.limit + 1);
}

function subscriptionCount(eb: ExpressionBuilder<Database, 'objects'>) {
  return eb
    .selectFrom('object_subscriptions as count_s')
    .select((sub) => sub.fn.countAll<number>().as('n'))
    .whereRef('count_s.workspace_id', '=', 'objects.workspace_id')
    .whereRef('count_s.object_type', '=', 'objects.object_type')
    .whereRef('count_s.object_id', '=', 'objects.object_id');
}

function selectObjects(db: Kysely<Database>, workspaceId: string, objectType: string) {
  return db
    .selectFrom('objects')
    .selectAll('objects')
    .select((eb) => subscriptionCount(eb).as('subscriptions_count'))
    .where('objects.workspace_id', '=', workspaceId)
    .where('objects.object_type', '=', objectType);
}

function withNumericCount<T extends { subscriptions_count: unknown }>(row: T): T & { subscriptions_count: number } {
  return { ...row, subscriptions_count: Number(row.subscriptions_count ?? 0) };
}

export async function findObject(
  db: Kysely<Database>,
  workspaceId: string,
  objectType: string,
  objectId: string,
): Promise<ObjectWithCount | undefined> {
  const row = await selectObjects(db, workspaceId, objectType).where('objects.object_id', '=', objectId).executeTakeFirst();
  return row ? withNumericCount(row) : undefined;
}

/** Reads an object for update: PostgreSQL locks the row so concurrent edits apply one after another. */
export function findObjectForUpdate(
  db: Kysely<Database>,
  engine: Engine,
  workspaceId: string,
  objectType: string,
  objectId: string,
): Promise<ObjectRow | undefined> {
  const query = db
    .selectFrom('objects')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('object_type', '=', objectType)
    .where('object_id', '=', objectId);
  // SQLite has no FOR UPDATE; its writers are serialised by the database lock anyway.
  return (engine === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
}

/** Inserts an empty object unless it exists (no error on a concurrent insert). */
export async function ensureObject(
  db: Kysely<Database>,
  workspaceId: string,
  objectType: string,
  objectId: string,
  at: number,
): Promise<void> {
  await db
    .insertInto('objects')
    .values({
      workspace_id: workspaceId,
      object_type: objectType,
      object_id: objectId,
      properties: '{}',
      channels: '{}',
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'object_type', 'object_id']).doNothing())
    .execute();
}

export async function saveObjectProfile(
  db: Kysely<Database>,
  workspaceId: string,
  objectType: string,
  objectId: string,
  profile: { properties: string; channels: string },
  at: number,
): Promise<void> {
  await db
    .updateTable('objects')
    .set({ ...profile, updated_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('object_type', '=', objectType)
    .where('object_id', '=', objectId)
    .execute();
}

export async function listObjects(
  db: Kysely<Database>,
  workspaceId: string,
  objectType: string,
  page: KeysetPage<string>,
): Promise<ObjectWithCount[]> {
  let query = selectObjects(db, workspaceId, objectType);
  if (page.after !== undefined) query = query.where('objects.object_id', '>', page.after);
  if (page.before !== undefined) query = query.where('objects.object_id', '<', page.before);
  // One extra row tells whether there is another page.
  const rows = await query
    .orderBy('objects.object_id', isBackward(page) ? 'desc' : 'asc')
    .limit(page.limit + 1)
    .execute();
  return rows.map(withNumericCount);
}

/**
 * Removes objects with their subscriptions on both sides (their subscribers, and their own
 * subscriptions to other objects), in the caller's transaction.
 */
export async function deleteObjects(db: Kysely<Database>, workspaceId: string, objectType: string, objectIds: string[]): Promise<number> {
  if (objectIds.length === 0) return 0;
  await db
    .deleteFrom('object_subscriptions')
    .where('workspace_id', '=', workspaceId)
    .where('object_type', '=', objectType)
    .where('object_id', 'in', objectIds)
    .execute();
  await db
    .deleteFrom('object_subscriptions')
    .where('workspace_id', '=', workspaceId)
    .where('recipient_type', '=', objectType)
    .where('recipient_id', 'in', objectIds)
    .execute();
  const result = await db
    .deleteFrom('objects')
    .where('workspace_id', '=', workspaceId)
    .where('object_type', '=', objectType)
    .where('object_id', 'in', objectIds)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Adds a subscription, or replaces the properties of an existing one (created_at is kept). */
export async function upsertSubscription(
  db: Kysely<Database>,
  row: { workspace_id: string; object_type: string; object_id: string; properties: string; created_at: number } & RecipientKey,
): Promise<void> {
  await db
    .insertInto('object_subscriptions')
    .values(row)
    .onConflict((oc) =>
      oc
        .columns(['workspace_id', 'object_type', 'object_id', 'recipient_type', 'recipient_id'])
        .doUpdateSet({ properties: row.properties }),
    )
    .execute();
}

export async function deleteSubscriptions(
  db: Kysely<Database>,
  workspaceId: string,
  objectType: string,
  objectId: string,
  recipients: RecipientKey[],
): Promise<number> {
  if (recipients.length === 0) return 0;
  const result = await db
    .deleteFrom('object_subscriptions')
    .where('workspace_id', '=', workspaceId)
    .where('object_type', '=', objectType)
    .where('object_id', '=', objectId)
    .where((eb) =>
      eb.or(recipients.map((r) => eb.and([eb('recipient_type', '=', r.recipient_type), eb('recipient_id', '=', r.recipient_id)]))),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

function selectSubscribers(db: Kysely<Database>, workspaceId: string, objectType: string, objectId: string) {
  return db
    .selectFrom('object_subscriptions as s')
    .leftJoin('users as u', (join) =>
      join.onRef('u.workspace_id', '=', 's.workspace_id').onRef('u.distinct_id', '=', 's.recipient_id').on('s.recipient_type', '=', ''),
    )
    .leftJoin('objects', (join) =>
      join
        .onRef('objects.workspace_id', '=', 's.workspace_id')
        .onRef('objects.object_type', '=', 's.recipient_type')
        .onRef('objects.object_id', '=', 's.recipient_id'),
    )
    .select([
      's.recipient_type',
      's.recipient_id',
      's.properties',
      's.created_at',
      'u.updated_at as user_updated_at',
      'objects.updated_at as child_updated_at',
    ])
    .select((eb) => subscriptionCount(eb).as('child_subscriptions_count'))
    .where('s.workspace_id', '=', workspaceId)
    .where('s.object_type', '=', objectType)
    .where('s.object_id', '=', objectId);
}

function toSubscriptionRow(row: {
  recipient_type: string;
  recipient_id: string;
  properties: string;
  created_at: number;
  user_updated_at: number | null;
  child_updated_at: number | null;
  child_subscriptions_count: unknown;
}): SubscriptionRow {
  return { ...row, child_subscriptions_count: Number(row.child_subscriptions_count ?? 0) };
}

/** Subscribers of one object ordered by (recipient_type, recipient_id): users ('') first. */
export async function listSubscribers(
  db: Kysely<Database>,
  workspaceId: string,
  objectType: string,
  objectId: string,
  page: KeysetPage<KeyPair>,
): Promise<SubscriptionRow[]> {
  const query = selectSubscribers(db, workspaceId, objectType, objectId);
  const rows = await pageByPair(query, ['s.recipient_type', 's.recipient_id'], page).execute();
  return rows.map(toSubscriptionRow);
}

/** The given subscribers of one object (those that exist). */
export async function findSubscribers(
  db: Kysely<Database>,
  workspaceId: string,
  objectType: string,
  objectId: string,
  recipients: RecipientKey[],
): Promise<SubscriptionRow[]> {
  if (recipients.length === 0) return [];
  const rows = await selectSubscribers(db, workspaceId, objectType, objectId)
    .where((eb) =>
      eb.or(recipients.map((r) => eb.and([eb('s.recipient_type', '=', r.recipient_type), eb('s.recipient_id', '=', r.recipient_id)]))),
    )
    .execute();
  return rows.map(toSubscriptionRow);
}

/** Objects that the object (recipientType, recipientId) is subscribed to, ordered by (object_type, object_id). */
export async function listSubscribedTo(
  db: Kysely<Database>,
  workspaceId: string,
  recipientType: string,
  recipientId: string,
  page: KeysetPage<KeyPair>,
): Promise<SubscribedToRow[]> {
  const query = db
    .selectFrom('object_subscriptions as s')
    .leftJoin('objects', (join) =>
      join
        .onRef('objects.workspace_id', '=', 's.workspace_id')
        .onRef('objects.object_type', '=', 's.object_type')
        .onRef('objects.object_id', '=', 's.object_id'),
    )
    .select([
      's.object_type',
      's.object_id',
      's.properties',
      's.created_at',
      'objects.properties as parent_properties',
      'objects.updated_at as parent_updated_at',
    ])
    .select((eb) => subscriptionCount(eb).as('parent_subscriptions_count'))
    .where('s.workspace_id', '=', workspaceId)
    .where('s.recipient_type', '=', recipientType)
    .where('s.recipient_id', '=', recipientId);
  const rows = await pageByPair(query, ['s.object_type', 's.object_id'], page).execute();
  return rows.map((row) => ({ ...row, parent_subscriptions_count: Number(row.parent_subscriptions_count ?? 0) }));
}

/**
 * distinct_ids of the users a trigger on the object reaches: its user subscribers, and the user
 * subscribers of the objects subscribed to it (one level, as SuprSend fans out), each once, at most
 * `limit` (the caller asks for one more than it accepts, to tell "too many" apart).
 */
export async function findFanOutUserIds(
  db: Kysely<Database>,
  workspaceId: string,
  objectType: string,
  objectId: string,
  limit: number,
): Promise<string[]> {
  const children = db
    .selectFrom('object_subscriptions as c')
    .select(['c.recipient_type', 'c.recipient_id'])
    .where('c.workspace_id', '=', workspaceId)
    .where('c.object_type', '=', objectType)
    .where('c.object_id', '=', objectId)
    .where('c.recipient_type', '<>', '')
    .$asTuple('recipient_type', 'recipient_id');
  const rows = await db
    .selectFrom('object_subscriptions as u')
    .select('u.recipient_id as distinct_id')
    .distinct()
    .where('u.workspace_id', '=', workspaceId)
    .where('u.recipient_type', '=', '')
    .where((eb) =>
      eb.or([
        eb.and([eb('u.object_type', '=', objectType), eb('u.object_id', '=', objectId)]),
        eb(eb.refTuple('u.object_type', 'u.object_id'), 'in', children),
      ]),
    )
    .orderBy('distinct_id')
    .limit(limit)
    .execute();
  return rows.map((row) => row.distinct_id);
}
