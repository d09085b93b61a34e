import {
  sql,
  type Compilable,
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type Selectable,
  type SelectQueryBuilder,
  type SqlBool,
} from 'kysely';
import type { Engine } from '../config.js';
import { prepared, type PreparedQuery } from '../db/prepared.js';
import type { Database, NotificationsTable } from '../db/schema.js';
import type { FeedCursor, StoreFilter } from './store-filter.js';

/**
 * Reads and writes of the client in-app feed. Every query is bound to one user in one tenant of
 * one workspace (FeedScope), and every feed query hides expired notifications.
 *
 * Feed order is (is_pinned desc, created_at desc, id desc): the notifications_feed_covering index
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

/** A cursor as bound values: `pinned` is 0 or 1, `id` absent for the SDK's (is_pinned, created_at) cursors. */
interface CursorValues {
  pinned: number;
  createdAt: number;
  id: string | undefined;
}

/** A cursor's bound values, flat (a prepared query's placeholders are one level deep). */
function cursorValues(cursor: FeedCursor | null | undefined): Record<string, unknown> {
  if (!cursor) return {};
  return { cursorPinned: cursor.isPinned ? 1 : 0, cursorCreatedAt: cursor.createdAt, cursorId: cursor.id };
}

/** A cursor's part of a prepared query's shape: none, (is_pinned, created_at), or with the id too. */
type CursorShape = 'none' | 'time' | 'id';

function cursorShapeOf(cursor: FeedCursor | null | undefined): CursorShape {
  if (!cursor) return 'none';
  return cursor.id === undefined ? 'time' : 'id';
}

function cursorOf(v: Record<string, unknown>): CursorValues {
  return { pinned: v['cursorPinned'] as number, createdAt: v['cursorCreatedAt'] as number, id: v['cursorId'] as string | undefined };
}

/** Rows after `cursor` in feed order. */
function after(eb: NotificationsEb, cursor: CursorValues, hasId: boolean): Expression<SqlBool> {
  if (!hasId) {
    return eb(eb.refTuple('notifications.is_pinned', 'notifications.created_at'), '<', eb.tuple(cursor.pinned, cursor.createdAt));
  }
  return eb(
    eb.refTuple('notifications.is_pinned', 'notifications.created_at', 'notifications.id'),
    '<',
    eb.tuple(cursor.pinned, cursor.createdAt, cursor.id as string),
  );
}

/**
 * Rows up to and including `cursor` in feed order: what earlier pages showed (a page never ends
 * inside a run of rows sharing (is_pinned, created_at), so the whole run was shown).
 */
function before(eb: NotificationsEb, cursor: CursorValues, hasId: boolean): Expression<SqlBool> {
  if (!hasId) {
    return eb(eb.refTuple('notifications.is_pinned', 'notifications.created_at'), '>=', eb.tuple(cursor.pinned, cursor.createdAt));
  }
  return eb(
    eb.refTuple('notifications.is_pinned', 'notifications.created_at', 'notifications.id'),
    '>=',
    eb.tuple(cursor.pinned, cursor.createdAt, cursor.id as string),
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
 * The feed's hot queries run as prepared queries (src/db/prepared.ts), one per shape: which
 * filters a query has is the shape, what they compare with are bound values. Stores filtered by
 * tags or categories put lists in the SQL, so those are built each time instead.
 */
interface FeedValues extends FeedScope {
  now: number;
  [key: string]: unknown;
}

function isPreparable(stores: StoreFilter[]): boolean {
  return stores.every((store) => store.tags.length === 0 && store.categories.length === 0);
}

function storeShape(store: StoreFilter): string {
  return `${String(store.read)}/${String(store.archived)}`;
}

// Every prepared shape is a product of a few booleans and store flags: a few dozen at most.
const preparedByShape = new Map<string, PreparedQuery<FeedValues, unknown>>();

async function runShaped<Row>(
  db: Kysely<Database>,
  shape: string,
  preparable: boolean,
  build: (db: Kysely<Database>, v: FeedValues) => Compilable<Row>,
  values: FeedValues,
): Promise<Row[]> {
  if (!preparable) return (await db.executeQuery(build(db, values))).rows;
  let query = preparedByShape.get(shape) as PreparedQuery<FeedValues, Row> | undefined;
  if (!query) {
    query = prepared(shape, build);
    preparedByShape.set(shape, query as PreparedQuery<FeedValues, unknown>);
  }
  return query.execute(db, values);
}

interface PageShape {
  engine: Engine;
  store: StoreFilter;
  cursor: CursorShape;
  hasCreatedUpTo: boolean;
  hasOffset: boolean;
}

function pageQuery(db: Kysely<Database>, shape: PageShape, v: FeedValues): NotificationsQuery<NotificationRow> {
  let query = scoped(db.selectFrom('notifications').selectAll('notifications'), v)
    .where((eb) => isVisible(eb, v.now))
    .where((eb) => inStore(eb, shape.engine, shape.store));
  if (shape.cursor !== 'none') query = query.where((eb) => after(eb, cursorOf(v), shape.cursor === 'id'));
  if (shape.hasCreatedUpTo) query = query.where('notifications.created_at', '<=', v['createdUpTo'] as number);
  query = query
    .orderBy('notifications.is_pinned', 'desc')
    .orderBy('notifications.created_at', 'desc')
    .orderBy('notifications.id', 'desc')
    .limit(v['limit'] as number);
  return shape.hasOffset ? query.offset(v['offset'] as number) : query;
}

function pageOf(engine: Engine, scope: FeedScope, page: FeedPageRequest, now: number): { shape: PageShape; values: FeedValues } {
  const cursor = page.after;
  return {
    shape: {
      engine,
      store: page.store,
      cursor: cursorShapeOf(cursor),
      hasCreatedUpTo: page.createdUpTo !== undefined,
      hasOffset: page.offset > 0,
    },
    values: {
      ...scope,
      now,
      ...cursorValues(cursor),
      createdUpTo: page.createdUpTo,
      limit: page.limit,
      offset: page.offset,
    },
  };
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
  const { shape, values } = pageOf(engine, scope, page, now);
  return pageQuery(db, shape, values);
}

export function listFeedPage(
  db: Kysely<Database>,
  engine: Engine,
  scope: FeedScope,
  page: FeedPageRequest,
  now: number,
): Promise<NotificationRow[]> {
  const { shape, values } = pageOf(engine, scope, page, now);
  const key = `page:${engine}:${storeShape(page.store)}:${shape.cursor}:${shape.hasCreatedUpTo}:${shape.hasOffset}`;
  return runShaped(db, key, isPreparable([page.store]), (qdb, v) => pageQuery(qdb, shape, v), values);
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

/** Counting stops at `v.cap`: the cost of a count is bounded however long a user's history is. */
function cappedCount<O>(db: Kysely<Database>, query: NotificationsQuery<O>, v: FeedValues) {
  return db
    .selectFrom(
      query
        .clearSelect()
        .select(sql<number>`1`.as('one'))
        .limit(v['cap'] as number)
        .as('capped'),
    )
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'));
}

async function runCount(
  db: Kysely<Database>,
  shape: string,
  stores: StoreFilter[],
  build: (db: Kysely<Database>, v: FeedValues) => Compilable<{ n: number | string | bigint }>,
  values: FeedValues,
): Promise<number> {
  const [row] = await runShaped(db, shape, isPreparable(stores), build, values);
  return Number(row?.n ?? 0);
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
  const cursor = options.before;
  const cursorShape = cursorShapeOf(cursor);
  const hasCreatedUpTo = options.createdUpTo !== undefined;
  const values: FeedValues = {
    ...scope,
    now,
    cap: options.cap,
    ...cursorValues(cursor),
    createdUpTo: options.createdUpTo,
  };
  const build = (qdb: Kysely<Database>, v: FeedValues) => {
    let query = scoped(qdb.selectFrom('notifications'), v)
      .where((eb) => isVisible(eb, v.now))
      .where((eb) => inStore(eb, engine, store));
    if (cursorShape !== 'none') query = query.where((eb) => before(eb, cursorOf(v), cursorShape === 'id'));
    if (hasCreatedUpTo) query = query.where('notifications.created_at', '<=', v['createdUpTo'] as number);
    return cappedCount(qdb, query, v);
  };
  return runCount(db, `inStore:${engine}:${storeShape(store)}:${cursorShape}:${hasCreatedUpTo}`, [store], build, values);
}

/** Unread notifications of a store (capped). `read_at is null` first: it selects the notifications_unread_covering index. */
export function countUnread(
  db: Kysely<Database>,
  engine: Engine,
  scope: FeedScope,
  store: StoreFilter,
  cap: number,
  now: number,
): Promise<number> {
  const build = (qdb: Kysely<Database>, v: FeedValues) =>
    cappedCount(
      qdb,
      scoped(qdb.selectFrom('notifications'), v)
        .where('notifications.read_at', 'is', null)
        .where((eb) => isVisible(eb, v.now))
        .where((eb) => inStore(eb, engine, store)),
      v,
    );
  return runCount(db, `unread:${engine}:${storeShape(store)}`, [store], build, { ...scope, now, cap });
}

/**
 * The bell: unseen notifications created after `since`, in any of `stores` (capped). Unseen
 * implies unread (reading sets seen), and saying so lets the planner use notifications_unread_covering.
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
  const hasSince = since !== undefined;
  const build = (qdb: Kysely<Database>, v: FeedValues) => {
    let query = scoped(qdb.selectFrom('notifications'), v)
      .where('notifications.read_at', 'is', null)
      .where('notifications.seen_at', 'is', null)
      .where((eb) => isVisible(eb, v.now))
      .where((eb) => eb.or(stores.map((store) => inStore(eb, engine, store))));
    if (hasSince) query = query.where('notifications.created_at', '>', v['since'] as number);
    return cappedCount(qdb, query, v);
  };
  return runCount(db, `unseen:${engine}:${stores.map(storeShape).join(',')}:${hasSince}`, stores, build, {
    ...scope,
    now,
    cap,
    since,
  });
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

const badgeReset = prepared('badgeReset', (db, scope: FeedScope) =>
  db
    .selectFrom('inbox_badges')
    .select('reset_at')
    .where('workspace_id', '=', scope.workspaceId)
    .where('distinct_id', '=', scope.distinctId)
    .where('tenant_id', '=', scope.tenantId),
);

export async function findBadgeReset(db: Kysely<Database>, scope: FeedScope): Promise<number | undefined> {
  return (await badgeReset.executeTakeFirst(db, scope))?.reset_at;
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
 * dashboard's view of what was delivered). Seeks the notifications_feed_covering index by its
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
