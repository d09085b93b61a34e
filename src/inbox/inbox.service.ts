import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { AppError } from '../lib/errors.js';
import { isPlainObject, parseJsonArray, parseJsonObject, type JsonObject } from '../lib/json.js';
import { applyInboxAction, inboxStatus, type InboxAction, type InboxStatus } from '../messages/messages.service.js';
import type { RealtimeNotifier } from '../realtime/realtime.js';
import type { ServiceDeps } from '../users/users.service.js';
import { FeedCache } from './feed-cache.js';
import {
  countInStore,
  countUnread,
  countUnseen,
  findBadgeReset,
  findMarksForUpdate,
  findUnreadMarksForUpdate,
  findVisibleNotification,
  listLatestNotifications,
  listFeedPage,
  listTieAfter,
  saveBadgeReset,
  saveInboxMessageStatus,
  saveMarks,
  type FeedScope,
  type MarkedRow,
  type NotificationMarks,
  type NotificationRow,
} from './inbox.repo.js';
import { cursorAfter, DEFAULT_STORE, endsInTie, pageMeta, type FeedPosition, type StoreFilter } from './store-filter.js';

/**
 * The web SDK's in-app feed (reference/client-sdk-protocol.md §5.3): pages of a user's
 * notifications in one tenant, counts, and the state changes the user makes. Every state change
 * updates the linked `messages` rows in the same transaction (status from messages.service's
 * inboxStatus, so both surfaces agree) and is announced on the realtime channel after commit.
 */

/**
 * Counts stop here, so a request costs the same for a user with 100k notifications as for one
 * with 1k. Past it `total_count` and the badge are lower bounds ("1000+"); `has_more` stays exact.
 */
export const COUNT_CAP = 1_000;
/**
 * Most rows a page is extended by to finish a run sharing (is_pinned, created_on). A longer run
 * (over a thousand notifications for one user in one millisecond) is cut here, and the next page
 * resumes after the whole run: the SDKs' cursor has no way to point inside it.
 */
export const TIE_CAP = 1_000;
export const MAX_BULK_IDS = 100;
/** Ids per UPDATE … WHERE id IN (…): well inside both engines' bound-parameter limits. */
const WRITE_CHUNK = 500;

export type FeedAction = Extract<InboxAction, 'seen' | 'read' | 'unread' | 'interacted' | 'archive'>;

export interface FeedListRequest {
  store: StoreFilter;
  position: FeedPosition;
  pageSize: number;
}

/** The Notification object of the web SDK (interface.ts IRemoteNotification); times in epoch ms, null when unset. */
export function notificationView(row: NotificationRow): JsonObject {
  const content = parseJsonObject(row.content);
  return {
    n_id: row.id,
    n_category: row.category,
    tenant_id: row.tenant_id,
    created_on: row.created_at,
    seen_on: row.seen_at,
    read_on: row.read_at,
    interacted_on: row.interacted_at,
    archived: row.archived_at !== null,
    tags: parseJsonArray(row.tags).filter((tag): tag is string => typeof tag === 'string'),
    expiry: row.expires_at,
    is_expiry_visible: content['is_expiry_visible'] === true,
    is_pinned: row.is_pinned !== 0,
    can_user_unpin: content['can_user_unpin'] === true,
    message: isPlainObject(content['message']) ? content['message'] : {},
  };
}

/** A user's newest notifications across tenants, in the Notification shape (the admin dashboard). */
export async function latestNotifications(
  deps: ServiceDeps,
  workspaceId: string,
  distinctId: string,
  limit: number,
): Promise<JsonObject[]> {
  return (await listLatestNotifications(deps.db, workspaceId, distinctId, limit)).map(notificationView);
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function marksOf(row: MarkedRow): NotificationMarks {
  return { seen_at: row.seen_at, read_at: row.read_at, interacted_at: row.interacted_at, archived_at: row.archived_at };
}

const MARK_KEYS = ['seen_at', 'read_at', 'interacted_at', 'archived_at'] as const;

/** `{"notification_ids": ["…"]}` of the bulk-seen call. */
export function readNotificationIds(body: unknown): string[] {
  const raw = isPlainObject(body) ? body['notification_ids'] : undefined;
  if (!Array.isArray(raw)) throw new AppError('VALIDATION_FAILED', 'body must be {"notification_ids": ["…", …]}');
  if (raw.length > MAX_BULK_IDS)
    throw new AppError('VALIDATION_FAILED', `at most ${MAX_BULK_IDS} notification_ids per request; split the list`);
  const ids = raw.map((id, index) => {
    if (typeof id !== 'string' || id.length === 0)
      throw new AppError('VALIDATION_FAILED', `notification_ids[${index}] must be a non-empty string`);
    return id;
  });
  return [...new Set(ids)];
}

export class InboxService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly realtime: RealtimeNotifier,
    private readonly cache: FeedCache = new FeedCache(0),
  ) {}

  /** list() as the JSON sent, from the feed cache while the feed is unchanged. */
  listJson(scope: FeedScope, request: FeedListRequest): Promise<string> {
    const key = `list:${JSON.stringify([request.store, request.position, request.pageSize])}`;
    return this.cache.serve(this.deps.db, scope, key, this.deps.clock.now(), () => this.list(scope, request));
  }

  /** counts() as the JSON sent, from the feed cache while the feed is unchanged. */
  countsJson(scope: FeedScope, stores: StoreFilter[]): Promise<string> {
    const key = `counts:${JSON.stringify(stores)}`;
    return this.cache.serve(this.deps.db, scope, key, this.deps.clock.now(), () => this.counts(scope, stores));
  }

  async list(scope: FeedScope, request: FeedListRequest): Promise<JsonObject> {
    const { db, engine } = this.deps;
    const now = this.deps.clock.now();
    const { store, position, pageSize } = request;
    let rows: NotificationRow[];
    let hasMore: boolean;
    let rowsBefore: number;
    let createdUpTo: number | undefined;

    if (position.kind === 'page') {
      // Page-number clients (web 3.x, Android 2.x): OFFSET paging, frozen at their first fetch by `before`.
      createdUpTo = position.before;
      rowsBefore = (position.pageNo - 1) * pageSize;
      const fetched = await listFeedPage(
        db,
        engine,
        scope,
        { store, after: null, createdUpTo, limit: pageSize + 1, offset: rowsBefore },
        now,
      );
      hasMore = fetched.length > pageSize;
      rows = fetched.slice(0, pageSize);
    } else {
      const fetched = await listFeedPage(
        db,
        engine,
        scope,
        { store, after: position.after, createdUpTo, limit: pageSize + 1, offset: 0 },
        now,
      );
      const last = fetched[pageSize - 1];
      if (last && endsInTie(fetched, pageSize)) {
        // The SDK will continue from (is_pinned, created_on) alone: finish the run of equal keys here.
        const rest = await listTieAfter(db, engine, scope, store, last, TIE_CAP, now);
        rows = [...fetched.slice(0, pageSize), ...rest];
        const next = await listFeedPage(
          db,
          engine,
          scope,
          { store, after: { ...cursorAfter(last), id: undefined }, createdUpTo, limit: 1, offset: 0 },
          now,
        );
        hasMore = next.length > 0 || rest.length === TIE_CAP;
      } else {
        hasMore = fetched.length > pageSize;
        rows = fetched.slice(0, pageSize);
      }
      rowsBefore =
        position.after === null ? 0 : await countInStore(db, engine, scope, store, { before: position.after, cap: COUNT_CAP }, now);
    }
    const totalCount = await countInStore(db, engine, scope, store, { createdUpTo, cap: COUNT_CAP }, now);
    return {
      results: rows.map(notificationView),
      meta: pageMeta({ totalCount, hasMore, pageSize, rowsBefore, rowsOnPage: rows.length }),
    };
  }

  /**
   * `badge`: unseen notifications since the bell was last opened, among those the client's stores
   * (or the default store) would show; `<store_id>`: unread notifications in that store.
   */
  async counts(scope: FeedScope, stores: StoreFilter[]): Promise<JsonObject> {
    const { db, engine } = this.deps;
    const now = this.deps.clock.now();
    const since = await findBadgeReset(db, scope);
    // A store of read notifications holds no unread (or unseen) ones: nothing to count there.
    const badgeStores = (stores.length > 0 ? stores : [DEFAULT_STORE]).filter((store) => store.read !== true);
    const badge = badgeStores.length === 0 ? 0 : await countUnseen(db, engine, scope, badgeStores, since, COUNT_CAP, now);
    const entries: Array<[string, number]> = [];
    for (const store of stores) {
      entries.push([store.storeId, store.read === true ? 0 : await countUnread(db, engine, scope, store, COUNT_CAP, now)]);
    }
    // fromEntries defines own properties: a store called "__proto__" is a key like any other.
    // `badge` is written last so a store of that name cannot hide the bell count.
    return Object.fromEntries([...entries, ['badge', badge]]);
  }

  async get(scope: FeedScope, id: string): Promise<JsonObject> {
    const row = await findVisibleNotification(this.deps.db, scope, id, this.deps.clock.now());
    if (!row) throw notFound(id);
    return notificationView(row);
  }

  /** One notification's state change; a change that changes nothing is a success without an event. */
  async act(scope: FeedScope, id: string, action: FeedAction): Promise<JsonObject> {
    const changed = await this.deps.db.transaction().execute(async (trx) => {
      const now = this.deps.clock.now();
      const rows = await findMarksForUpdate(trx, this.deps.engine, scope, [id], now);
      if (rows.length === 0) throw notFound(id);
      return this.apply(trx, scope, rows, action, now);
    });
    if (changed.length > 0) this.realtime.emit(scope, 'notification_update', { n_id: id, action });
    return { success: true };
  }

  /** Marks the user's notifications among `ids` seen; other ids (another user's, unknown) are ignored. */
  async markBulkSeen(scope: FeedScope, ids: string[]): Promise<JsonObject> {
    const changed = await this.deps.db.transaction().execute(async (trx) => {
      const now = this.deps.clock.now();
      const rows = await findMarksForUpdate(trx, this.deps.engine, scope, ids, now);
      return this.apply(trx, scope, rows, 'seen', now);
    });
    if (changed.length > 0) this.realtime.emit(scope, 'bulk_notification_update', { notification_ids: changed, action: 'seen' });
    return { success: true };
  }

  async resetBadge(scope: FeedScope): Promise<JsonObject> {
    await saveBadgeReset(this.deps.db, scope, this.deps.clock.now());
    this.realtime.emit(scope, 'reset_badge', {});
    return { success: true };
  }

  async markAllRead(scope: FeedScope): Promise<JsonObject> {
    const changed = await this.deps.db.transaction().execute(async (trx) => {
      const now = this.deps.clock.now();
      const rows = await findUnreadMarksForUpdate(trx, this.deps.engine, scope, now);
      return this.apply(trx, scope, rows, 'read', now);
    });
    if (changed.length > 0) this.realtime.emit(scope, 'bulk_notification_update', { notification_ids: 'all', action: 'read' });
    return { success: true };
  }

  /**
   * Applies an action to rows read for update, inside `trx`; returns the ids that changed. The
   * new marks come from applyInboxAction row by row; rows that change the same columns to the same
   * values are written with one statement, so marking 10k notifications read is a few UPDATEs.
   */
  private async apply(trx: Kysely<Database>, scope: FeedScope, rows: MarkedRow[], action: InboxAction, now: number): Promise<string[]> {
    const writes = new Map<string, { marks: Partial<NotificationMarks>; ids: string[] }>();
    const statuses = new Map<InboxStatus, string[]>();
    const changed: string[] = [];
    for (const row of rows) {
      const current = marksOf(row);
      const next = applyInboxAction(current, action, now);
      const diff: Partial<NotificationMarks> = {};
      for (const key of MARK_KEYS) if (next[key] !== current[key]) diff[key] = next[key];
      if (Object.keys(diff).length === 0) continue;
      changed.push(row.id);
      const key = JSON.stringify(diff);
      const write = writes.get(key) ?? { marks: diff, ids: [] };
      write.ids.push(row.id);
      writes.set(key, write);
      const status = inboxStatus(next);
      const withStatus = statuses.get(status) ?? [];
      withStatus.push(row.id);
      statuses.set(status, withStatus);
    }
    for (const { marks, ids } of writes.values()) {
      for (const chunk of chunks(ids, WRITE_CHUNK)) await saveMarks(trx, scope, chunk, marks);
    }
    for (const [status, ids] of statuses) {
      for (const chunk of chunks(ids, WRITE_CHUNK)) await saveInboxMessageStatus(trx, scope.workspaceId, chunk, status, now);
    }
    return changed;
  }
}

/** The same answer for another user's (tenant's, workspace's) notification as for a missing one. */
function notFound(id: string): AppError {
  return new AppError('NOT_FOUND', `notification "${id}" not found`);
}
