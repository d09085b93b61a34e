import { AppError } from '../lib/errors.js';
import { isPlainObject, parseJsonArray, parseJsonObject, type JsonObject } from '../lib/json.js';
import type { ServiceDeps } from '../users/users.service.js';
import {
  findMessage,
  findMessagesForUpdate,
  findNotification,
  findNotificationMarksForUpdate,
  findWebhookDeliveries,
  findWebhookPayload,
  listMessages,
  saveMessageStatus,
  saveNotificationMarks,
  type MessageCursor,
  type MessageFilter,
  type MessageRow,
  type NotificationMarks,
  type WebhookDeliveryRow,
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

export function decodeMessageCursor(cursor: string | undefined, name: string, source = `meta.${name}`): MessageCursor | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string') {
      return [value[0] as number, value[1]];
    }
  } catch {
    // Falls through to the validation error below.
  }
  throw new AppError('VALIDATION_FAILED', `${name} must be a cursor taken from ${source} of a previous response`);
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

/** The dashboard's message log: newest first, `before` is the previous page's `next`. */
export interface MessageLogQuery {
  filter: Pick<MessageFilter, 'statuses' | 'workflowSlug' | 'channel' | 'recipientIds'>;
  limit: number;
  before?: string | undefined;
}

// webhook-sender.ts records a non-2xx answer as `HTTP <status>`; anything else is a transport error.
const HTTP_ERROR = /^HTTP (\d{3})$/;

/** Host only: a webhook URL's user info, path and query may be the receiver's credential. */
function hostOf(url: string): string | null {
  try {
    return new URL(url).host;
  } catch {
    return null;
  }
}

function webhookView(row: WebhookDeliveryRow): JsonObject {
  const httpStatus = row.last_error === null ? undefined : HTTP_ERROR.exec(row.last_error)?.[1];
  return {
    target_host: hostOf(row.url),
    status: row.status,
    attempts: row.attempts,
    last_attempt_at: row.attempts > 0 ? row.updated_at : null,
    last_error: row.last_error,
    last_http_status: httpStatus === undefined ? null : Number(httpStatus),
    next_attempt_at: row.status === 'pending' ? row.next_attempt_at : null,
  };
}

/** The hub API's view of the message, with the time in epoch ms (as the other logs) and its webhook state. */
function logEntryView(row: MessageRow, webhook: WebhookDeliveryRow | undefined): JsonObject {
  return { ...messageView(row), time: row.created_at, webhook: webhook ? webhookView(webhook) : null };
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** The rendered inbox message as text fields (src/workflows/render.ts writes `content.message`). */
function notificationView(row: { content: string; tags: string } & NotificationMarks & { expires_at: number | null }): JsonObject {
  const message = parseJsonObject(row.content)['message'];
  const content = isPlainObject(message) ? message : {};
  const subtext = content['subtext'];
  const actions = Array.isArray(content['actions']) ? content['actions'] : [];
  return {
    title: text(content['header']),
    body: text(content['text']),
    url: text(content['url']),
    subtext: isPlainObject(subtext) ? text(subtext['text']) : null,
    actions: actions.flatMap((action) => (isPlainObject(action) ? [{ name: text(action['name']), url: text(action['url']) }] : [])),
    tags: parseJsonArray(row.tags).filter((tag): tag is string => typeof tag === 'string'),
    seen_at: row.seen_at,
    read_at: row.read_at,
    interacted_at: row.interacted_at,
    archived_at: row.archived_at,
    expires_at: row.expires_at,
  };
}

/** The trigger's `data` as the webhook carried it; the step's headers stay out (they hold credentials). */
function webhookData(payload: string | undefined): JsonObject | null {
  if (payload === undefined) return null;
  const body = parseJsonObject(payload)['body'];
  const data = isPlainObject(body) ? body['data'] : undefined;
  return isPlainObject(data) ? data : null;
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

  /** A page of the message log, with each webhook message's delivery state. */
  async log(workspaceId: string, query: MessageLogQuery): Promise<{ entries: JsonObject[]; next: string | null }> {
    const after = decodeMessageCursor(query.before, 'before', 'next');
    const rows = await listMessages(this.deps.db, workspaceId, query.filter, { limit: query.limit, after });
    const page = rows.slice(0, query.limit);
    const webhookIds = page.filter((row) => row.channel === 'webhook').map((row) => row.id);
    const webhooks = new Map((await findWebhookDeliveries(this.deps.db, workspaceId, webhookIds)).map((w) => [w.message_id, w]));
    const last = page.at(-1);
    return {
      entries: page.map((row) => logEntryView(row, webhooks.get(row.id))),
      next: rows.length > query.limit && last ? encodeMessageCursor([last.created_at, last.id]) : null,
    };
  }

  /** One message with its inbox content or webhook delivery; another workspace's is not found. */
  async logEntry(workspaceId: string, id: string): Promise<JsonObject> {
    const row = await findMessage(this.deps.db, workspaceId, id);
    if (!row) throw new AppError('NOT_FOUND', `message "${id}" not found`);
    const [webhook] = row.channel === 'webhook' ? await findWebhookDeliveries(this.deps.db, workspaceId, [row.id]) : [];
    const notification = row.notification_id ? await findNotification(this.deps.db, workspaceId, row.notification_id) : undefined;
    const entry = logEntryView(row, webhook);
    return {
      ...entry,
      webhook: webhook
        ? { ...(entry['webhook'] as JsonObject), data: webhookData(await findWebhookPayload(this.deps.db, workspaceId, row.id)) }
        : null,
      notification: notification ? notificationView(notification) : null,
    };
  }
}
