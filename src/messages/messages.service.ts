import { AppError } from '../lib/errors.js';
import { isPlainObject, type JsonObject } from '../lib/json.js';
import type { ServiceDeps } from '../users/users.service.js';
import {
  findMessagesForUpdate,
  findNotificationMarksForUpdate,
  listMessages,
  saveMessageStatus,
  saveNotificationMarks,
  type MessageCursor,
  type MessageFilter,
  type MessageRow,
  type NotificationMarks,
} from './messages.repo.js';

const MAX_BULK_MESSAGES = 1000;

export type InboxAction = 'seen' | 'read' | 'unread' | 'interacted' | 'archive' | 'unarchive';
export type InboxStatus = 'delivered' | 'seen' | 'read' | 'interacted' | 'archived';

/** Action names as Herald and SuprSend's docs spell them (`clicked`, `archived`, `unarchived`). */
const ACTIONS: Readonly<Record<string, InboxAction>> = {
  seen: 'seen',
  read: 'read',
  unread: 'unread',
  interacted: 'interacted',
  clicked: 'interacted',
  archive: 'archive',
  archived: 'archive',
  unarchive: 'unarchive',
  unarchived: 'unarchive',
};

export function parseAction(raw: unknown): InboxAction | undefined {
  return typeof raw === 'string' && Object.hasOwn(ACTIONS, raw) ? ACTIONS[raw] : undefined;
}

/**
 * The status a message shows for its inbox marks. Archive wins; "interacted" needs the read mark
 * too, so marking an interacted message unread shows it as seen rather than still interacted.
 */
export function inboxStatus(marks: NotificationMarks): InboxStatus {
  if (marks.archived_at !== null) return 'archived';
  if (marks.read_at !== null) return marks.interacted_at !== null ? 'interacted' : 'read';
  if (marks.seen_at !== null || marks.interacted_at !== null) return 'seen';
  return 'delivered';
}

/** Applies one action; marks already set keep their first time. Clicking implies seen and read. */
export function applyInboxAction(marks: NotificationMarks, action: InboxAction, now: number): NotificationMarks {
  const next = { ...marks };
  switch (action) {
    case 'seen':
      next.seen_at ??= now;
      break;
    case 'read':
      next.seen_at ??= now;
      next.read_at ??= now;
      break;
    case 'unread':
      next.read_at = null;
      break;
    case 'interacted':
      next.seen_at ??= now;
      next.read_at ??= now;
      next.interacted_at ??= now;
      break;
    case 'archive':
      next.archived_at ??= now;
      break;
    case 'unarchive':
      next.archived_at = null;
      break;
  }
  return next;
}

/**
 * Marks implied by a status, for an inbox message whose notification row is gone (its user was
 * deleted): the message status is then the only record. Archiving hides what came before it.
 */
export function marksFromStatus(status: string, at: number): NotificationMarks {
  const marks: NotificationMarks = { seen_at: null, read_at: null, interacted_at: null, archived_at: null };
  if (status === 'seen' || status === 'read' || status === 'interacted') marks.seen_at = at;
  if (status === 'read' || status === 'interacted') marks.read_at = at;
  if (status === 'interacted') marks.interacted_at = at;
  if (status === 'archived') marks.archived_at = at;
  return marks;
}

function sameMarks(a: NotificationMarks, b: NotificationMarks): boolean {
  return a.seen_at === b.seen_at && a.read_at === b.read_at && a.interacted_at === b.interacted_at && a.archived_at === b.archived_at;
}

/** Opaque cursor (created_at, id); clients only echo meta.after / meta.before back. */
export function encodeMessageCursor(cursor: MessageCursor): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

export function decodeMessageCursor(cursor: string | undefined, name: string): MessageCursor | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string') {
      return [value[0] as number, value[1]];
    }
  } catch {
    // Falls through to the validation error below.
  }
  throw new AppError('VALIDATION_FAILED', `${name} must be a cursor taken from meta.${name} of a previous response`);
}

export interface MessageListQuery {
  filter: MessageFilter;
  limit: number;
  after?: string | undefined;
  before?: string | undefined;
}

function messageView(row: MessageRow): JsonObject {
  return {
    message_id: row.id,
    recipient_id: row.distinct_id,
    tenant_id: row.tenant_id,
    workflow: row.workflow_slug,
    category: row.category,
    channel: row.channel,
    status: row.status,
    execution_id: row.execution_id,
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

export interface BulkItem {
  messageId: string;
  action: unknown;
}

/** `{"messages":[{"message_id","action"}, …]}`; a malformed body is rejected as a whole. */
export function readBulkItems(body: unknown): BulkItem[] {
  const raw = isPlainObject(body) ? body['messages'] : undefined;
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new AppError('VALIDATION_FAILED', 'body must be {"messages": [{"message_id": "…", "action": "seen"}, …]}');
  }
  if (raw.length > MAX_BULK_MESSAGES)
    throw new AppError('VALIDATION_FAILED', `at most ${MAX_BULK_MESSAGES} messages per request; split the list`);
  return raw.map((item, index) => {
    const messageId = isPlainObject(item) ? item['message_id'] : undefined;
    if (typeof messageId !== 'string' || messageId.trim() === '') {
      throw new AppError('VALIDATION_FAILED', `messages[${index}] must be {"message_id": "…", "action": "…"} with a non-empty message_id`);
    }
    return { messageId: messageId.trim(), action: (item as JsonObject)['action'] };
  });
}

function failure(messageId: string, code: 'NOT_FOUND' | 'VALIDATION_FAILED', message: string): JsonObject {
  return { message_id: messageId, status: 'error', status_code: code === 'NOT_FOUND' ? 404 : 400, error: { type: code, message } };
}

export class MessageService {
  constructor(private readonly deps: ServiceDeps) {}

  async list(workspaceId: string, query: MessageListQuery): Promise<JsonObject> {
    const page = {
      limit: query.limit,
      after: decodeMessageCursor(query.after, 'after'),
      before: decodeMessageCursor(query.before, 'before'),
    };
    const rows = await listMessages(this.deps.db, workspaceId, query.filter, page);
    const isBackward = page.before !== undefined && page.after === undefined;
    const hasMore = rows.length > query.limit;
    const items = rows.slice(0, query.limit);
    if (isBackward) items.reverse();
    const hasPrev = isBackward ? hasMore : page.after !== undefined;
    const hasNext = isBackward ? true : hasMore;
    const first = items[0];
    const last = items[items.length - 1];
    return {
      meta: {
        limit: query.limit,
        count: items.length,
        has_prev: hasPrev,
        has_next: hasNext,
        before: hasPrev && first ? encodeMessageCursor([first.created_at, first.id]) : null,
        after: hasNext && last ? encodeMessageCursor([last.created_at, last.id]) : null,
      },
      results: items.map(messageView),
    };
  }

  /**
   * Applies each item's action in request order, all in one transaction: the message status and
   * the linked inbox notification change together. Unknown messages (including another
   * workspace's) and unusable actions are reported per item and change nothing.
   */
  async bulkUpdate(workspaceId: string, body: unknown): Promise<JsonObject> {
    const items = readBulkItems(body);
    const ids = [...new Set(items.map((item) => item.messageId))];
    const records = await this.deps.db.transaction().execute(async (trx) => {
      const now = this.deps.clock.now();
      const messages = new Map((await findMessagesForUpdate(trx, this.deps.engine, workspaceId, ids)).map((m) => [m.id, m]));
      const notificationIds = [...messages.values()].flatMap((m) =>
        m.channel === 'inbox' && m.notification_id ? [m.notification_id] : [],
      );
      const notifications = new Map(
        (await findNotificationMarksForUpdate(trx, this.deps.engine, workspaceId, notificationIds)).map(({ id, ...marks }) => [id, marks]),
      );
      const original = new Map<string, NotificationMarks>();
      const current = new Map<string, NotificationMarks>();
      const results = items.map((item): JsonObject => {
        const action = parseAction(item.action);
        if (!action) {
          return failure(
            item.messageId,
            'VALIDATION_FAILED',
            `unknown action ${JSON.stringify(item.action ?? null)}; use seen, read, unread, interacted, archive or unarchive`,
          );
        }
        const message = messages.get(item.messageId);
        if (!message) return failure(item.messageId, 'NOT_FOUND', `message "${item.messageId}" not found`);
        if (message.channel !== 'inbox') {
          return failure(
            item.messageId,
            'VALIDATION_FAILED',
            `action "${action}" applies to inbox messages only; this message went to ${message.channel}`,
          );
        }
        if (!original.has(message.id)) {
          const marks =
            (message.notification_id ? notifications.get(message.notification_id) : undefined) ??
            marksFromStatus(message.status, message.updated_at);
          original.set(message.id, marks);
          current.set(message.id, marks);
        }
        current.set(message.id, applyInboxAction(current.get(message.id) as NotificationMarks, action, now));
        return { message_id: item.messageId, status: 'success', status_code: 200, error: null };
      });
      for (const [id, marks] of current) {
        const message = messages.get(id) as MessageRow;
        const status = inboxStatus(marks);
        if (status !== message.status) await saveMessageStatus(trx, workspaceId, id, status, now);
        const notificationId = message.notification_id;
        if (notificationId && notifications.has(notificationId) && !sameMarks(marks, original.get(id) as NotificationMarks)) {
          await saveNotificationMarks(trx, workspaceId, notificationId, marks);
        }
      }
      return results;
    });
    return { records };
  }
}
