import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../lib/errors.js';
import { checkListId, checkVersionId, normaliseListId, parseDistinctIds, parseListPayload } from './lists.service.js';

function rejects(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => error instanceof AppError && error.code === 'VALIDATION_FAILED' && pattern.test(error.message));
}

test('list ids are trimmed and folded to lower case, as SuprSend compares them', () => {
  assert.equal(normaliseListId(' Beta-Users_2 '), 'beta-users_2');
  assert.equal(normaliseListId('x'.repeat(64)), 'x'.repeat(64));
  assert.equal(normaliseListId('x'.repeat(65)), undefined);
  assert.equal(normaliseListId('has space'), undefined);
  assert.equal(normaliseListId('a/b'), undefined);
  assert.equal(normaliseListId(''), undefined);
  assert.equal(normaliseListId(5), undefined);
  assert.equal(checkListId('ABC'), 'abc');
  rejects(() => checkListId('a.b'), /1-64 characters of a-z/);
});

test('version ids must be non-empty', () => {
  assert.equal(checkVersionId(' lv_1 '), 'lv_1');
  rejects(() => checkVersionId('  '), /start_sync/);
  rejects(() => checkVersionId('x'.repeat(129)), /start_sync/);
});

test('list payloads: list_id required, name and description typed, other keys ignored', () => {
  assert.deepEqual(parseListPayload({ list_id: 'L1', list_name: ' One ', list_type: 'static' }), {
    listId: 'l1',
    name: 'One',
    description: undefined,
  });
  assert.deepEqual(parseListPayload({ list_id: 'l1', list_description: null }), { listId: 'l1', name: undefined, description: null });
  rejects(() => parseListPayload({ list_name: 'x' }), /list_id/);
  rejects(() => parseListPayload({ list_id: 'l1', list_name: 3 }), /list_name/);
  rejects(() => parseListPayload(null), /list_id/);
});

test('distinct_ids: checked, deduplicated in order, at most 1000', () => {
  assert.deepEqual(parseDistinctIds({ distinct_ids: ['b', ' a ', 'b'] }), ['b', 'a']);
  assert.deepEqual(parseDistinctIds({ distinct_ids: [] }), []);
  assert.equal(parseDistinctIds({ distinct_ids: Array.from({ length: 1000 }, (_, i) => `u${i}`) }).length, 1000);
  rejects(() => parseDistinctIds({ distinct_ids: Array.from({ length: 1001 }, (_, i) => `u${i}`) }), /at most 1000/);
  rejects(() => parseDistinctIds({ distinct_ids: ['ok', ''] }), /distinct_ids\[1\]/);
  rejects(() => parseDistinctIds({ distinct_ids: 'u1' }), /distinct_ids/);
  rejects(() => parseDistinctIds(undefined), /distinct_ids/);
});
