import { AppError } from '../lib/errors.js';
import { isPlainObject } from '../lib/json.js';

/**
 * What the web SDK puts in the feed's query string (reference/client-sdk-protocol.md §5.3,
 * web-sdk feed.ts `storeQueryParamObj` and `fetch`), parsed into plain values. Pure: no database.
 *
 *   store        {"store_id":"tab1","query":{"read":false,"archived":true,"tags":{"or":["x"]},"categories":{"or":["c"]}}}
 *   stores       [<store>, …]
 *   search_after []  |  [<is_pinned: bool or 1/0>, <created_on ms>]  (Herald also takes a third element, the n_id)
 */

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;
const MAX_STORES = 20;
const MAX_VALUES_PER_LIST = 100;
const MAX_VALUE_CHARS = 256;

/** One store (tab) of the feed. Semantics follow the SDK's `notificationBelongToStore`. */
export interface StoreFilter {
  storeId: string;
  /** true: only read, false: only unread, undefined: either. */
  read: boolean | undefined;
  /** The SDK files a notification into a store only when `!!archived === !!query.archived`: unset means non-archived. */
  archived: boolean;
  /** Any of these tags; empty means no constraint. */
  tags: string[];
  /** Any of these categories; empty means no constraint. */
  categories: string[];
}

/** The default store (`$suprsend_default_store`, sent as no `store` at all): everything not archived. */
export const DEFAULT_STORE: StoreFilter = { storeId: '', read: undefined, archived: false, tags: [], categories: [] };

/** A position in the feed order (pinned first, then newest first, then n_id descending). */
export interface FeedCursor {
  isPinned: boolean;
  createdAt: number;
  /** Present only when a client sends the n_id; the SDKs send (is_pinned, created_on) alone. */
  id: string | undefined;
}

function invalid(message: string): AppError {
  return new AppError('VALIDATION_FAILED', message);
}

function parseJsonParam(raw: string, name: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    throw invalid(`${name} must be JSON`);
  }
}

function stringList(value: unknown, what: string): string[] {
  // The SDK always wraps lists as {"or": […]}; a bare string or list is taken as the same thing.
  let list: unknown = value;
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.some((k) => k !== 'or')) throw invalid(`${what} takes {"or": [...]}; other operators are not supported`);
    list = value['or'];
  }
  if (list === undefined || list === null) return [];
  if (typeof list === 'string') list = [list];
  if (!Array.isArray(list)) throw invalid(`${what} must be {"or": ["…"]}`);
  if (list.length > MAX_VALUES_PER_LIST) throw invalid(`${what} takes at most ${MAX_VALUES_PER_LIST} values`);
  return list.map((item) => {
    if (typeof item !== 'string' || item.length === 0 || item.length > MAX_VALUE_CHARS) {
      throw invalid(`${what} values must be strings of 1-${MAX_VALUE_CHARS} characters`);
    }
    return item;
  });
}

function optionalBoolean(value: unknown, what: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalid(`${what} must be true or false`);
  return value;
}

const QUERY_KEYS = new Set(['read', 'archived', 'tags', 'categories']);

/** One store filter object; `what` names it in error messages. */
export function readStoreFilter(value: unknown, what: string): StoreFilter {
  if (!isPlainObject(value)) throw invalid(`${what} must be an object such as {"store_id": "…", "query": {…}}`);
  const storeId = value['store_id'];
  if (storeId !== undefined && storeId !== null && (typeof storeId !== 'string' || storeId.length > MAX_VALUE_CHARS)) {
    throw invalid(`${what}.store_id must be a string`);
  }
  const query = value['query'] ?? {};
  if (!isPlainObject(query)) throw invalid(`${what}.query must be an object`);
  // An unknown condition ignored would silently widen the store; say so instead.
  const unknown = Object.keys(query).find((k) => !QUERY_KEYS.has(k));
  if (unknown !== undefined) throw invalid(`${what}.query.${unknown} is not supported; use read, archived, tags or categories`);
  return {
    storeId: typeof storeId === 'string' ? storeId : '',
    read: optionalBoolean(query['read'], `${what}.query.read`),
    archived: optionalBoolean(query['archived'], `${what}.query.archived`) ?? false,
    tags: stringList(query['tags'], `${what}.query.tags`),
    categories: stringList(query['categories'], `${what}.query.categories`),
  };
}

/** `?store=` of the list call; absent means the default store. */
export function parseStoreParam(raw: string | undefined): StoreFilter {
  if (raw === undefined || raw === '') return DEFAULT_STORE;
  return readStoreFilter(parseJsonParam(raw, 'store'), 'store');
}

/** `?stores=` of the count call: every store needs a store_id, the key its count is returned under. */
export function parseStoresParam(raw: string | undefined): StoreFilter[] {
  if (raw === undefined || raw === '') return [];
  const value = parseJsonParam(raw, 'stores');
  if (!Array.isArray(value)) throw invalid('stores must be a JSON array of store filters');
  if (value.length > MAX_STORES) throw invalid(`stores takes at most ${MAX_STORES} stores`);
  return value.map((item, index) => {
    const store = readStoreFilter(item, `stores[${index}]`);
    if (store.storeId === '') throw invalid(`stores[${index}].store_id is required`);
    return store;
  });
}

function readPinned(value: unknown): boolean | undefined {
  // The web SDK echoes is_pinned as a boolean; the Swift SDK sends 1/0.
  if (value === true || value === 1 || value === 'true' || value === '1') return true;
  if (value === false || value === 0 || value === 'false' || value === '0') return false;
  return undefined;
}

/** `?search_after=`: null for the first page (absent or `[]`). */
export function parseSearchAfter(raw: string | undefined): FeedCursor | null {
  if (raw === undefined || raw === '') return null;
  const value = parseJsonParam(raw, 'search_after');
  const shape = 'search_after must be [] or [is_pinned, created_on] taken from the last notification of the previous page';
  if (!Array.isArray(value)) throw invalid(shape);
  if (value.length === 0) return null;
  if (value.length !== 2 && value.length !== 3) throw invalid(shape);
  const isPinned = readPinned(value[0]);
  const createdAt = value[1];
  const id = value[2];
  if (isPinned === undefined || typeof createdAt !== 'number' || !Number.isSafeInteger(createdAt)) throw invalid(shape);
  if (id !== undefined && (typeof id !== 'string' || id.length === 0 || id.length > MAX_VALUE_CHARS)) throw invalid(shape);
  return { isPinned, createdAt, id };
}

function readPositiveInt(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw invalid(`${name} must be a positive integer`);
  return value;
}

/** `?page_size=`: default 20, at most 100 (the SDK clamps to 100 too). */
export function parsePageSize(raw: string | undefined): number {
  return Math.min(readPositiveInt(raw, 'page_size') ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
}

/** Where a page starts: after a keyset cursor (web 4.x, Swift), or a page number (web 3.x, Android 2.x). */
export type FeedPosition =
  | { kind: 'cursor'; after: FeedCursor | null }
  | {
      kind: 'page';
      pageNo: number;
      /** Only notifications created at or before this time (ms): the time of the client's first fetch. */
      before: number | undefined;
    };

export function parseFeedPosition(query: { search_after?: string; page_no?: string; before?: string }): FeedPosition {
  const after = parseSearchAfter(query.search_after);
  const pageNo = readPositiveInt(query.page_no, 'page_no');
  const before = query.before === undefined || query.before === '' ? undefined : Number(query.before);
  if (before !== undefined && !Number.isSafeInteger(before)) throw invalid('before must be a time in epoch milliseconds');
  // search_after wins when a client sends both; `[]` with a page number is a page-number client.
  if (after === null && (pageNo !== undefined || before !== undefined)) return { kind: 'page', pageNo: pageNo ?? 1, before };
  return { kind: 'cursor', after };
}

/** The cursor that continues after a row. */
export function cursorAfter(row: { is_pinned: number; created_at: number; id: string }): FeedCursor {
  return { isPinned: row.is_pinned !== 0, createdAt: row.created_at, id: row.id };
}

/**
 * Whether a page of `limit` rows would end in the middle of rows sharing (is_pinned, created_at).
 * The SDKs continue from (is_pinned, created_on) alone, so such a page is extended to the end of
 * the tie: a cut there would repeat or skip the rest of it on the next page.
 */
export function endsInTie(rows: ReadonlyArray<{ is_pinned: number; created_at: number }>, limit: number): boolean {
  const last = rows[limit - 1];
  const next = rows[limit];
  return last !== undefined && next !== undefined && last.is_pinned === next.is_pinned && last.created_at === next.created_at;
}

export interface PageMeta {
  total_count: number;
  has_more: boolean;
  current_page: number;
  total_pages: number;
}

/**
 * `meta` of a list response. web 4.x reads total_count / has_more; web 3.x, Android 2.x and Swift
 * decide "more" from current_page < total_pages, so the page numbers are kept consistent with
 * has_more even when the counts are capped (see COUNT_CAP in inbox.service.ts).
 */
export function pageMeta(input: {
  totalCount: number;
  hasMore: boolean;
  pageSize: number;
  rowsBefore: number;
  rowsOnPage: number;
}): PageMeta {
  const currentPage = Math.floor(input.rowsBefore / input.pageSize) + 1;
  const counted = Math.max(Math.ceil(input.totalCount / input.pageSize), 1);
  const totalPages = input.hasMore ? Math.max(counted, currentPage + 1) : currentPage;
  const totalCount = Math.max(input.totalCount, input.rowsBefore + input.rowsOnPage);
  return { total_count: totalCount, has_more: input.hasMore, current_page: currentPage, total_pages: totalPages };
}
