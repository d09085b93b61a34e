import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../lib/errors.js';
import {
  DEFAULT_STORE,
  endsInTie,
  pageMeta,
  parseFeedPosition,
  parsePageSize,
  parseSearchAfter,
  parseStoreParam,
  parseStoresParam,
} from './store-filter.js';

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof AppError && error.code === 'VALIDATION_FAILED' && pattern.test(error.message));
}

test('the store param the web SDK sends for a tab (feed.ts storeQueryParamObj)', () => {
  const store = parseStoreParam(
    JSON.stringify({
      store_id: 'tab1',
      query: { read: false, archived: true, tags: { or: ['billing', 'x'] }, categories: { or: ['c1'] } },
    }),
  );
  assert.deepEqual(store, { storeId: 'tab1', read: false, archived: true, tags: ['billing', 'x'], categories: ['c1'] });
});

test('read and archived left out by JSON.stringify mean: read either way, not archived', () => {
  const store = parseStoreParam(JSON.stringify({ store_id: 'all', query: { tags: { or: [] }, categories: { or: [] } } }));
  assert.deepEqual(store, { storeId: 'all', read: undefined, archived: false, tags: [], categories: [] });
  assert.deepEqual(parseStoreParam(JSON.stringify({ store_id: 'n', query: { read: null } })).read, undefined);
});

test('no store param is the default store: everything not archived', () => {
  assert.equal(parseStoreParam(undefined), DEFAULT_STORE);
  assert.equal(parseStoreParam(''), DEFAULT_STORE);
  assert.deepEqual(DEFAULT_STORE, { storeId: '', read: undefined, archived: false, tags: [], categories: [] });
});

test('tags and categories also as a bare string or list', () => {
  const store = parseStoreParam(JSON.stringify({ store_id: 's', query: { tags: 'one', categories: ['a', 'b'] } }));
  assert.deepEqual(store.tags, ['one']);
  assert.deepEqual(store.categories, ['a', 'b']);
});

test('malformed store filters are rejected, never widened', () => {
  rejects(() => parseStoreParam('{not json'), /store must be JSON/);
  rejects(() => parseStoreParam('[1]'), /must be an object/);
  rejects(() => parseStoreParam(JSON.stringify({ store_id: 's', query: { unread: true } })), /query\.unread is not supported/);
  rejects(() => parseStoreParam(JSON.stringify({ store_id: 's', query: { tags: { and: ['x'] } } })), /other operators/);
  rejects(() => parseStoreParam(JSON.stringify({ store_id: 's', query: { read: 'yes' } })), /read must be true or false/);
  rejects(() => parseStoreParam(JSON.stringify({ store_id: 's', query: { tags: { or: [1] } } })), /values must be strings/);
  rejects(() => parseStoreParam(JSON.stringify({ store_id: 's', query: { tags: { or: Array(101).fill('t') } } })), /at most 100/);
});

test('stores of the count call: a list, each with a store_id', () => {
  const stores = parseStoresParam(
    JSON.stringify([
      { store_id: 'unread', query: { read: false, tags: { or: [] }, categories: { or: [] } } },
      { store_id: 'archived', query: { archived: true, tags: { or: [] }, categories: { or: [] } } },
    ]),
  );
  assert.deepEqual(
    stores.map((s) => [s.storeId, s.read, s.archived]),
    [
      ['unread', false, false],
      ['archived', undefined, true],
    ],
  );
  assert.deepEqual(parseStoresParam(undefined), []);
  rejects(() => parseStoresParam('{}'), /JSON array/);
  rejects(() => parseStoresParam(JSON.stringify([{ query: {} }])), /stores\[0\]\.store_id is required/);
  rejects(() => parseStoresParam(JSON.stringify(Array(21).fill({ store_id: 's' }))), /at most 20/);
});

test('search_after: [] is the first page; [is_pinned, created_on] from the web SDK, 1/0 from Swift', () => {
  assert.equal(parseSearchAfter(undefined), null);
  assert.equal(parseSearchAfter('[]'), null);
  assert.deepEqual(parseSearchAfter('[false,1717000000000]'), { isPinned: false, createdAt: 1717000000000, id: undefined });
  assert.deepEqual(parseSearchAfter('[true,1717000000000]'), { isPinned: true, createdAt: 1717000000000, id: undefined });
  assert.deepEqual(parseSearchAfter('[1,5]'), { isPinned: true, createdAt: 5, id: undefined });
  assert.deepEqual(parseSearchAfter('[0,5]'), { isPinned: false, createdAt: 5, id: undefined });
  assert.deepEqual(parseSearchAfter('[0,5,"ntf_a"]'), { isPinned: false, createdAt: 5, id: 'ntf_a' });
});

test('search_after that is not a position is rejected', () => {
  for (const raw of ['x', '{}', '[true]', '[2,5]', '[true,"5"]', '[true,1.5]', '[true,5,7]', '[true,5,"a",1]', 'null']) {
    rejects(() => parseSearchAfter(raw), /search_after/);
  }
});

test('page_size: default 20, clamped to 100 like the SDK, positive integers only', () => {
  assert.equal(parsePageSize(undefined), 20);
  assert.equal(parsePageSize('7'), 7);
  assert.equal(parsePageSize('500'), 100);
  for (const raw of ['0', '-1', '2.5', 'ten']) rejects(() => parsePageSize(raw), /page_size/);
});

test('web 3.x / Android page_no + before; search_after wins when both are sent', () => {
  assert.deepEqual(parseFeedPosition({}), { kind: 'cursor', after: null });
  assert.deepEqual(parseFeedPosition({ search_after: '[]' }), { kind: 'cursor', after: null });
  assert.deepEqual(parseFeedPosition({ page_no: '3', before: '1717000000000' }), { kind: 'page', pageNo: 3, before: 1717000000000 });
  assert.deepEqual(parseFeedPosition({ page_no: '2' }), { kind: 'page', pageNo: 2, before: undefined });
  assert.deepEqual(parseFeedPosition({ search_after: '[false,9]', page_no: '2' }), {
    kind: 'cursor',
    after: { isPinned: false, createdAt: 9, id: undefined },
  });
  rejects(() => parseFeedPosition({ page_no: '0' }), /page_no/);
  rejects(() => parseFeedPosition({ page_no: '1', before: 'yesterday' }), /before/);
});

test('a page that would end inside a run of equal (is_pinned, created_at) is detected', () => {
  const row = (is_pinned: number, created_at: number) => ({ is_pinned, created_at });
  assert.equal(endsInTie([row(1, 5), row(0, 9), row(0, 9)], 2), true);
  assert.equal(endsInTie([row(1, 5), row(0, 9), row(0, 8)], 2), false);
  // Same time, different pin state: the cursor tells them apart.
  assert.equal(endsInTie([row(0, 5), row(1, 9), row(0, 9)], 2), false);
  // A short page (no row after it) never ends in a tie.
  assert.equal(endsInTie([row(0, 9), row(0, 9)], 2), false);
  assert.equal(endsInTie([], 2), false);
});

test('page meta keeps current_page < total_pages exactly when has_more, even past the count cap', () => {
  assert.deepEqual(pageMeta({ totalCount: 45, hasMore: true, pageSize: 20, rowsBefore: 0, rowsOnPage: 20 }), {
    total_count: 45,
    has_more: true,
    current_page: 1,
    total_pages: 3,
  });
  assert.deepEqual(pageMeta({ totalCount: 45, hasMore: false, pageSize: 20, rowsBefore: 40, rowsOnPage: 5 }), {
    total_count: 45,
    has_more: false,
    current_page: 3,
    total_pages: 3,
  });
  assert.deepEqual(pageMeta({ totalCount: 0, hasMore: false, pageSize: 20, rowsBefore: 0, rowsOnPage: 0 }), {
    total_count: 0,
    has_more: false,
    current_page: 1,
    total_pages: 1,
  });
  // Counts capped at 1000 while the user is on page 60 of 5000 notifications.
  const capped = pageMeta({ totalCount: 1000, hasMore: true, pageSize: 20, rowsBefore: 1000, rowsOnPage: 20 });
  assert.equal(capped.has_more, true);
  assert.ok(capped.current_page < capped.total_pages);
  assert.ok(capped.total_count >= 1020);
});
