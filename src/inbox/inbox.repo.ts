import { sql, type Expression, type ExpressionBuilder, type Kysely, type Selectable, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { Engine } from '../config.js';
import type { Database, NotificationsTable } from '../db/schema.js';
import type { FeedCursor, StoreFilter } from './store-filter.js';

/**
 * Reads and writes of the client in-app feed. Every query is bound to one user in one tenant of
 * one workspace (FeedScope), and every feed query hides expired notifications.
 *
 * Feed order is (is_pinned desc, created_at desc, id desc): the notifications_feed index
 * (workspace_id, distinct_id, tenant_id, is_pinned, created_at, id) read backwards. Cursors are
 * row-value comparisons, `(is_pinned, created_at) < (?, ?)`, which both engines turn into an index
 * seek; the equivalent OR-expansion makes SQLite scan from the top of the feed instead.
 */

export type NotificationRow = Selectable<NotificationsTable>;
export type NotificationMarks = Pick<NotificationRow, 'seen_at' | 'read_at' | 'interacted_at' | 'archived_at'>;
export type MarkedRow = NotificationMarks & { id: string };

export interface FeedScope {
  workspaceId: string;
  distinctId: string;
  tenantId: string;
}

type NotificationsQuery<O> = SelectQueryBuilder<Database, 'notifications', O>;
type NotificationsEb = ExpressionBuilder<Database, 'notifications'>;

function scoped<O>(query: NotificationsQuery<O>, scope: FeedScope): NotificationsQuery<O> {
  return query
    .where('notifications.workspace_id', '=', scope.workspaceId)
    .where('notifications.distinct_id', '=', scope.distinctId)
    .where('notifications.tenant_id', '=', scope.tenantId);
}

function isVisible(eb: NotificationsEb, now: number): Expression<SqlBool> {
  return eb.or([eb('notifications.expires_at', 'is', null), eb('notifications.expires_at', '>', now)]);
}

function hasAnyTag(engine: Engine, tags: string[]): Expression<SqlBool> {
  // tags is a JSON array in a text column on both engines.
  if (engine === 'postgres') return sql<SqlBool>`(${sql.ref('notifications.tags')})::jsonb ?| ${tags}::text[]`;
  return sql<SqlBool>`exists (select 1 from json_each(${sql.ref('notifications.tags')}) where json_each.value in (${sql.join(tags)}))`;
}

/** The SDK's notificationBelongToStore as SQL. */
function inStore(eb: NotificationsEb, engine: Engine, store: StoreFilter): Expression<SqlBool> {
  const parts: Array<Expression<SqlBool>> = [
    store.archived ? eb('notifications.archived_at', 'is not', null) : eb('notifications.archived_at', 'is', null),
  ];
  if (store.read === true) parts.push(eb('notifications.read_at', 'is not', null));
  if (store.read === false) parts.push(eb('notifications.read_at', 'is', null));
  if (store.categories.length > 0) parts.push(eb('notifications.category', 'in', store.categories));
  if (store.tags.length > 0) parts.push(hasAnyTag(engine, store.tags));
  return eb.and(parts);
}

/** Rows after `cursor` in feed order. */
function after(eb: NotificationsEb, cursor: FeedCursor): Expression<SqlBool> {
  const pinned = cursor.isPinned ? 1 : 0;
  if (cursor.id === undefined) {
    return eb(eb.refTuple('notifications.is_pinned', 'notifications.created_at'), '<', eb.tuple(pinned, cursor.createdAt));
  }
  return eb(
    eb.refTuple('notifications.is_pinned', 'notifications.created_at', 'notifications.id'),
    '<',
    eb.tuple(pinned, cursor.createdAt, cursor.id),
  );
}

/**
 * Rows up to and including `cursor` in feed order: what earlier pages showed (a page never ends
 * inside a run of rows sharing (is_pinned, created_at), so the whole run was shown).
 */
function before(eb: NotificationsEb, cursor: FeedCursor): Expression<SqlBool> {
  const pinned = cursor.isPinned ? 1 : 0;
  if (cursor.id === undefined) {
    return eb(eb.refTuple('notifications.is_pinned', 'notifications.created_at'), '>=', eb.tuple(pinned, cursor.createdAt));
  }
  return eb(
    eb.refTuple('notifications.is_pinned', 'notifications.created_at', 'notifications.id'),
    '>=',
    eb.tuple(pinned, cursor.createdAt, cursor.id),
  );
}

export interface FeedPageRequest {
  store: StoreFilter;
  after: FeedCursor | null;
  /** Page-number clients: only rows created at or before this time. */
  createdUpTo: number | undefined;
  limit: number;
  offset: number;
}

/**
 * One page of the feed, as a query (tests EXPLAIN exactly this). With a cursor and no offset it is
 * an index seek plus `limit` rows, however deep the page.
 */
export function feedPageQuery(
  db: Kysely<Database>,
  engine: Engine,
  scope: FeedScope,
  page: FeedPageRequest,
  now: number,
): NotificationsQuery<NotificationRow> {
  let query = scoped(db.selectFrom('notifications').selectAll('notifications'), scope)
    .where((eb) => isVisible(eb, now))
    .where((eb) => inStore(eb, engine, page.store));
  const cursor = page.after;
  if (cursor !== null) query = query.where((eb) => after(eb, cursor));
  if (page.createdUpTo !== undefined) query = query.where('notifications.created_at', '<=', page.createdUpTo);
  query = query
    .orderBy('notifications.is_pinned', 'desc')
    .orderBy('notifications.created_at', 'desc')
    .orderBy('notifications.id', 'desc')
    .limit(page.limit);
  return page.offset > 0 ? query.offset(page.offset) : query;
}

export function listFeedPage(
  db: Kysely<Database>,
  engine: Engine,
  scope: FeedScope,
  page: FeedPageRequest,
  now: number,
): Promise<NotificationRow[]> {
  return feedPageQuery(db, engine, scope, page, now).execute();
}

/** The rest of a run of rows sharing (is_pinned, created_at) with `last`, after `last`. */
export function listTieAfter(
  db: Kysely<Database>,
  engine: Engine,
  scope: FeedScope,
  store: StoreFilter,
  last: { is_pinned: number; created_at: number; id: string },
  limit: number,
  now: number,
): Promise<NotificationRow[]> {
  return scoped(db.selectFrom('notifications').selectAll('notifications'), scope)
    .where('notifications.is_pinned', '=', last.is_pinned)
    .where('notifications.created_at', '=', last.created_at)
    .where('notifications.id', '<', last.id)
    .where((eb) => isVisible(eb, now))
    .where((eb) => inStore(eb, engine, store))
    .orderBy('notifications.id', 'desc')
    .limit(limit)
    .execute();
}

async function countUpTo<O>(db: Kysely<Database>, query: NotificationsQuery<O>, cap: number): Promise<number> {
  // Counting stops at `cap`: the cost of a count is bounded however long a user's history is.
  const row = await db
    .selectFrom(
      query
        .clearSelect()
        .select(sql<number>`1`.as('one'))
        .limit(cap)
        .as('capped'),
    )
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Notifications of a store (capped), and of those how many come before `cursor` in feed order. */
export function countInStore(
  db: Kysely<Database>,
  engine: Engine,
  scope: FeedScope,
  store: StoreFilter,
  options: { before?: FeedCursor | undefined; createdUpTo?: number | undefined; cap: number },
  now: number,
): Promise<number> {
  let query = scoped(db.selectFrom('notifications'), scope)
    .where((eb) => isVisible(eb, now))
    .where((eb) => inStore(eb, engine, store));
  const cursor = options.before;
  if (cursor !== undefined) query = query.where((eb) => before(eb, cursor));
  if (options.createdUpTo !== undefined) query = query.where('notifications.created_at', '<=', options.createdUpTo);
  return countUpTo(db, query, options.cap);
}

/** Unread notifications of a store (capped). `read_at is null` first: it selects the notifications_unread index. */
export function countUnread(
  db: Kysely<Database>,
  engine: Engine,
  scope: FeedScope,
  store: StoreFilter,
  cap: number,
  now: number,
): Promise<number> {
  const query = scoped(db.selectFrom('notifications'), scope)
    .where('notifications.read_at', 'is', null)
    .where((eb) => isVisible(eb, now))
    .where((eb) => inStore(eb, engine, store));
  return countUpTo(db, query, cap);
}

/**
 * The bell: unseen notifications created after `since`, in any of `stores` (capped). Unseen
 * implies unread (reading sets seen), and saying so lets the planner use notifications_unread.
 */
export function countUnseen(
  db: Kysely<Database>,
  engine: Engine,
  scope: FeedScope,
  stores: StoreFilter[],
  since: number | undefined,
  cap: number,
  now: number,
): Promise<number> {
  let query = scoped(db.selectFrom('notifications'), scope)
    .where('notifications.read_at', 'is', null)
    .where('notifications.seen_at', 'is', null)
    .where((eb) => isVisible(eb, now))
    .where((eb) => eb.or(stores.map((store) => inStore(eb, engine, store))));
  if (since !== undefined) query = query.where('notifications.created_at', '>', since);
  return countUpTo(db, query, cap);
}

export function findVisibleNotification(
  db: Kysely<Database>,
  scope: FeedScope,
  id: string,
  now: number,
): Promise<NotificationRow | undefined> {
  return scoped(db.selectFrom('notifications').selectAll('notifications'), scope)
    .where('notifications.id', '=', id)
    .where((eb) => isVisible(eb, now))
    .executeTakeFirst();
}

const MARK_COLUMNS = [
  'notifications.id',
  'notifications.seen_at',
  'notifications.read_at',
  'notifications.interacted_at',
  'notifications.archived_at',
] as const;

/**
 * The marks of some of the user's visible notifications, for update. PostgreSQL locks them in id
 * order, as messages.repo does, so overlapping bulk changes wait for each other instead of deadlocking.
 */
export function findMarksForUpdate(
  db: Kysely<Database>,
  engine: Engine,
  scope: FeedScope,
  ids: string[],
  now: number,
): Promise<MarkedRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  const query = scoped(db.selectFrom('notifications').select(MARK_COLUMNS), scope)
    .where('notifications.id', 'in', ids)
    .where((eb) => isVisible(eb, now))
    .orderBy('notifications.id');
  // SQLite has no FOR UPDATE; its writers are serialised by the database lock anyway.
  return (engine === 'postgres' ? query.forUpdate() : query).execute();
}

/** Every unread visible notification of the user, for update (mark all read). */
export function findUnreadMarksForUpdate(db: Kysely<Database>, engine: Engine, scope: FeedScope, now: number): Promise<MarkedRow[]> {
  const query = scoped(db.selectFrom('notifications').select(MARK_COLUMNS), scope)
    .where('notifications.read_at', 'is', null)
    .where((eb) => isVisible(eb, now))
    .orderBy('notifications.id');
  return (engine === 'postgres' ? query.forUpdate() : query).execute();
}

/** Sets the same mark values on some of the user's notifications (the caller's transaction). */
export async function saveMarks(db: Kysely<Database>, scope: FeedScope, ids: string[], marks: Partial<NotificationMarks>): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('notifications')
    .set(marks)
    .where('workspace_id', '=', scope.workspaceId)
    .where('distinct_id', '=', scope.distinctId)
    .where('tenant_id', '=', scope.tenantId)
    .where('id', 'in', ids)
    .execute();
}

/** Keeps the inbox `messages` rows of some notifications in step with their marks. */
export async function saveInboxMessageStatus(
  db: Kysely<Database>,
  workspaceId: string,
  notificationIds: string[],
  status: string,
  at: number,
): Promise<void> {
  if (notificationIds.length === 0) return;
  await db
    .updateTable('messages')
    .set({ status, updated_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('notification_id', 'in', notificationIds)
    .where('channel', '=', 'inbox')
    .where('status', '<>', status)
    .execute();
}

export async function findBadgeReset(db: Kysely<Database>, scope: FeedScope): Promise<number | undefined> {
  const row = await db
    .selectFrom('inbox_badges')
    .select('reset_at')
    .where('workspace_id', '=', scope.workspaceId)
    .where('distinct_id', '=', scope.distinctId)
    .where('tenant_id', '=', scope.tenantId)
    .executeTakeFirst();
  return row?.reset_at;
}

export async function saveBadgeReset(db: Kysely<Database>, scope: FeedScope, at: number): Promise<void> {
  await db
    .insertInto('inbox_badges')
    .values({ workspace_id: scope.workspaceId, distinct_id: scope.distinctId, tenant_id: scope.tenantId, reset_at: at })
    .onConflict((oc) => oc.columns(['workspace_id', 'distinct_id', 'tenant_id']).doUpdateSet({ reset_at: at }))
    .execute();
}

/**
 * A user's newest notifications in every tenant, expired and archived ones included (the admin
 * dashboard's view of what was delivered). Seeks the notifications_feed index by its
 * (workspace_id, distinct_id) prefix.
 */
export function listLatestNotifications(
  db: Kysely<Database>,
  workspaceId: string,
  distinctId: string,
  limit: number,
): Promise<NotificationRow[]> {
  return db
    .selectFrom('notifications')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('distinct_id', '=', distinctId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}
