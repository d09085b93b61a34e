import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../lib/errors.js';
import { checkObjectId, decodeKeyCursor, encodeKeyCursor, keysetPage, parseRecipient, recipientKey } from './objects.service.js';

function validationError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof AppError && error.code === 'VALIDATION_FAILED' && pattern.test(error.message);
}

describe('parseRecipient', () => {
  test('a string is a user; an object with distinct_id is a user whose other keys are upserted', () => {
    assert.deepEqual(parseRecipient(' u1 ', 'r'), { kind: 'user', distinctId: 'u1', payload: {} });
    assert.deepEqual(parseRecipient({ distinct_id: 'u2', $email: ['a@b.c'], name: 'N' }, 'r'), {
      kind: 'user',
      distinctId: 'u2',
      payload: { $email: ['a@b.c'], name: 'N' },
    });
  });

  test('object_type + id is an object recipient; recipient_type is the object type, users get ""', () => {
    const parsed = parseRecipient({ object_type: 'teams', id: 'devs', $inbox: 'x' }, 'r');
    assert.deepEqual(parsed, { kind: 'object', objectType: 'teams', objectId: 'devs', payload: { $inbox: 'x' } });
    assert.deepEqual(recipientKey(parsed), { recipient_type: 'teams', recipient_id: 'devs' });
    assert.deepEqual(recipientKey(parseRecipient('u', 'r')), { recipient_type: '', recipient_id: 'u' });
  });

  test('ambiguous, incomplete or wrongly typed recipients are rejected, naming the entry', () => {
    assert.throws(
      () => parseRecipient({ distinct_id: 'u', object_type: 't', id: 'i' }, 'recipients[3]'),
      validationError(/recipients\[3\].*either/),
    );
    assert.throws(() => parseRecipient({ name: 'nobody' }, 'recipients[0]'), validationError(/either/));
    assert.throws(() => parseRecipient({ object_type: 'teams' }, 'recipients[1]'), validationError(/recipients\[1\]\.id/));
    assert.throws(() => parseRecipient({ id: 'devs' }, 'recipients[1]'), validationError(/recipients\[1\]\.object_type/));
    assert.throws(() => parseRecipient(42, 'recipients[2]'), validationError(/recipients\[2\]/));
    assert.throws(() => parseRecipient('  ', 'recipients[2]'), validationError(/recipients\[2\]/));
  });
});

describe('object ids', () => {
  test('1 to 256 characters after trimming', () => {
    assert.equal(checkObjectId(' a '), 'a');
    assert.equal(checkObjectId('x'.repeat(256)), 'x'.repeat(256));
    assert.throws(() => checkObjectId('x'.repeat(257)), validationError(/256/));
    assert.throws(() => checkObjectId(''), validationError(/non-empty/));
    assert.throws(() => checkObjectId(7), validationError(/non-empty/));
  });
});

describe('key cursors', () => {
  test('round-trip, including separators and non-ASCII', () => {
    const key = ['', 'a,b/"é"'] as const;
    assert.deepEqual(decodeKeyCursor(encodeKeyCursor(key), 'after'), key);
    assert.equal(decodeKeyCursor(undefined, 'after'), undefined);
  });

  test('anything that is not a cursor Herald issued is a validation error', () => {
    for (const bad of ['garbage', Buffer.from('[1,2]').toString('base64url'), Buffer.from('["a"]').toString('base64url')]) {
      assert.throws(() => decodeKeyCursor(bad, 'before'), validationError(/meta\.before/));
    }
  });
});

describe('keysetPage', () => {
  const cursorOf = (n: number) => String(n);

  test('forward: the extra row means has_next; after is the last item', () => {
    const { items, meta } = keysetPage([1, 2, 3], { limit: 2 }, cursorOf);
    assert.deepEqual(items, [1, 2]);
    assert.deepEqual(meta, { limit: 2, count: 2, has_prev: false, has_next: true, before: null, after: '2' });
  });

  test('forward, last page: no after cursor', () => {
    const { meta } = keysetPage([3], { limit: 2, after: '2' }, cursorOf);
    assert.deepEqual(meta, { limit: 2, count: 1, has_prev: true, has_next: false, before: '3', after: null });
  });

  test('backward: rows scanned in reverse come back in display order', () => {
    const { items, meta } = keysetPage([4, 3, 2], { limit: 2, before: '5' }, cursorOf);
    assert.deepEqual(items, [3, 4]);
    assert.deepEqual(meta, { limit: 2, count: 2, has_prev: true, has_next: true, before: '3', after: '4' });
  });
});
