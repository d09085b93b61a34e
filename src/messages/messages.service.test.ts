import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../lib/errors.js';
import type { NotificationMarks } from './messages.repo.js';
import {
  applyInboxAction,
  decodeMessageCursor,
  encodeMessageCursor,
  inboxStatus,
  marksFromStatus,
  parseAction,
  readBulkItems,
  type InboxAction,
} from './messages.service.js';

const NONE: NotificationMarks = { seen_at: null, read_at: null, interacted_at: null, archived_at: null };
const T1 = 1_700_000_000_000;
const T2 = T1 + 1000;

function validationError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof AppError && error.code === 'VALIDATION_FAILED' && pattern.test(error.message);
}

describe('inbox actions', () => {
  test('each action sets or clears its mark; read and interacted imply the earlier marks', () => {
    assert.deepEqual(applyInboxAction(NONE, 'seen', T1), { ...NONE, seen_at: T1 });
    assert.deepEqual(applyInboxAction(NONE, 'read', T1), { ...NONE, seen_at: T1, read_at: T1 });
    assert.deepEqual(applyInboxAction(NONE, 'interacted', T1), { ...NONE, seen_at: T1, read_at: T1, interacted_at: T1 });
    assert.deepEqual(applyInboxAction(NONE, 'archive', T1), { ...NONE, archived_at: T1 });
    assert.deepEqual(applyInboxAction({ ...NONE, seen_at: T1, read_at: T1 }, 'unread', T2), { ...NONE, seen_at: T1 });
    assert.deepEqual(applyInboxAction({ ...NONE, archived_at: T1 }, 'unarchive', T2), NONE);
  });

  test('a mark already set keeps its first time', () => {
    const read = applyInboxAction(NONE, 'read', T1);
    assert.deepEqual(applyInboxAction(read, 'read', T2), read);
    assert.deepEqual(applyInboxAction(read, 'seen', T2), read);
  });

  test('the input marks are not modified', () => {
    const marks = { ...NONE };
    applyInboxAction(marks, 'archive', T1);
    assert.deepEqual(marks, NONE);
  });

  test('action names include the spellings in SuprSend docs', () => {
    const expected: Record<string, InboxAction | undefined> = {
      seen: 'seen',
      clicked: 'interacted',
      archived: 'archive',
      unarchived: 'unarchive',
      explode: undefined,
      toString: undefined,
      SEEN: undefined,
    };
    for (const [raw, action] of Object.entries(expected)) assert.equal(parseAction(raw), action, raw);
    assert.equal(parseAction(7), undefined);
  });
});

describe('inboxStatus', () => {
  test('archive wins, then interacted (needs read), read, seen, delivered', () => {
    assert.equal(inboxStatus(NONE), 'delivered');
    assert.equal(inboxStatus({ ...NONE, seen_at: T1 }), 'seen');
    assert.equal(inboxStatus({ ...NONE, seen_at: T1, read_at: T1 }), 'read');
    assert.equal(inboxStatus({ seen_at: T1, read_at: T1, interacted_at: T1, archived_at: null }), 'interacted');
    assert.equal(inboxStatus({ seen_at: T1, read_at: null, interacted_at: T1, archived_at: null }), 'seen');
    assert.equal(inboxStatus({ seen_at: T1, read_at: T1, interacted_at: T1, archived_at: T1 }), 'archived');
  });

  test('marksFromStatus is the inverse for every inbox status', () => {
    for (const status of ['delivered', 'seen', 'read', 'interacted', 'archived']) {
      assert.equal(inboxStatus(marksFromStatus(status, T1)), status);
    }
  });
});

describe('message cursors', () => {
  test('round-trip (created_at, id)', () => {
    assert.deepEqual(decodeMessageCursor(encodeMessageCursor([T1, 'msg_1']), 'after'), [T1, 'msg_1']);
  });

  test('reject anything else', () => {
    for (const bad of ['x', Buffer.from('["1","msg"]').toString('base64url'), Buffer.from('[1.5,"m"]').toString('base64url')]) {
      assert.throws(() => decodeMessageCursor(bad, 'after'), validationError(/meta\.after/));
    }
  });
});

describe('readBulkItems', () => {
  test('keeps order and duplicates; the action is checked per item later', () => {
    assert.deepEqual(
      readBulkItems({
        messages: [
          { message_id: 'a', action: 'seen' },
          { message_id: 'a', action: 'nope' },
        ],
      }),
      [
        { messageId: 'a', action: 'seen' },
        { messageId: 'a', action: 'nope' },
      ],
    );
  });

  test('a malformed body is rejected as a whole', () => {
    assert.throws(() => readBulkItems(null), validationError(/"messages"/));
    assert.throws(() => readBulkItems({ messages: [] }), validationError(/"messages"/));
    assert.throws(() => readBulkItems({ messages: [{ message_id: 'a' }, { action: 'read' }] }), validationError(/messages\[1\]/));
    assert.throws(() => readBulkItems({ messages: Array(1001).fill({ message_id: 'a', action: 'read' }) }), validationError(/1000/));
  });
});
