import type { Kysely, Selectable } from 'kysely';
import type { Engine } from '../config.js';
import type { Database, MessagesTable, NotificationsTable, WebhookOutboxTable } from '../db/schema.js';

export type MessageRow = Selectable<MessagesTable>;
/** What the message log shows of a webhook delivery: never its payload, which holds the step's headers. */
export type WebhookDeliveryRow = Pick<
  Selectable<WebhookOutboxTable>,
  'message_id' | 'url' | 'status' | 'attempts' | 'next_attempt_at' | 'last_error' | 'created_at' | 'updated_at'
>;
export type NotificationMarks = Pick<Selectable<NotificationsTable>, 'seen_at' | 'read_at' | 'interacted_at' | 'archived_at'>;

/** A position in the newest-first order: (created_at, id). */
export type MessageCursor = readonly [number, string];

export interface MessageFilter {
  recipientIds?: string[] | undefined;
  statuses?: string[] | undefined;
  categories?: string[] | undefined;
  workflowSlug?: string | undefined;
  channel?: string | undefined;
  tenantId?: string | undefined;
  executionId?: string | undefined;
  messageId?: string | undefined;
  createdFrom?: number | undefined;
  createdTo?: number | undefined;
}

export interface MessagePage {
  limit: number;
  after?: MessageCursor | undefined;
  before?: MessageCursor | undefined;
}

/** Messages newest first (scanned oldest first for a `before` page); limit + 1 rows. */
export function listMessages(db: Kysely<Database>, workspaceId: string, filter: MessageFilter, page: MessagePage): Promise<MessageRow[]> {
  let query = db.selectFrom('messages').selectAll().where('workspace_id', '=', workspaceId);
  if (filter.recipientIds?.length) query = query.where('distinct_id', 'in', filter.recipientIds);
  if (filter.statuses?.length) query = query.where('status', 'in', filter.statuses);
  if (filter.categories?.length) query = query.where('category', 'in', filter.categories);
  if (filter.workflowSlug !== undefined) query = query.where('workflow_slug', '=', filter.workflowSlug);
  if (filter.channel !== undefined) query = query.where('channel', '=', filter.channel);
  if (filter.tenantId !== undefined) query = query.where('tenant_id', '=', filter.tenantId);
  if (filter.executionId !== undefined) query = query.where('execution_id', '=', filter.executionId);
  if (filter.messageId !== undefined) query = query.where('id', '=', filter.messageId);
  if (filter.createdFrom !== undefined) query = query.where('created_at', '>=', filter.createdFrom);
  if (filter.createdTo !== undefined) query = query.where('created_at', '<=', filter.createdTo);
  // `after` takes precedence over `before`, as in SuprSend's API.
  const isBackward = page.before !== undefined && page.after === undefined;
  const after = page.after;
  const before = isBackward ? page.before : undefined;
  if (after !== undefined) {
    query = query.where((eb) =>
      eb.or([eb('created_at', '<', after[0]), eb.and([eb('created_at', '=', after[0]), eb('id', '<', after[1])])]),
    );
  }
  if (before !== undefined) {
    query = query.where((eb) =>
      eb.or([eb('created_at', '>', before[0]), eb.and([eb('created_at', '=', before[0]), eb('id', '>', before[1])])]),
    );
  }
  const direction = isBackward ? 'asc' : 'desc';
  return query
    .orderBy('created_at', direction)
    .orderBy('id', direction)
    .limit(page.limit + 1)
    .execute();
}

/**
 * Reads messages for update. PostgreSQL locks them in id order so two concurrent bulk updates
 * over overlapping messages wait for each other instead of deadlocking.
 */
export function findMessagesForUpdate(db: Kysely<Database>, engine: Engine, workspaceId: string, ids: string[]): Promise<MessageRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  const query = db.selectFrom('messages').selectAll().where('workspace_id', '=', workspaceId).where('id', 'in', ids).orderBy('id');
  // SQLite has no FOR UPDATE; its writers are serialised by the database lock anyway.
  return (engine === 'postgres' ? query.forUpdate() : query).execute();
}

export function findNotificationMarksForUpdate(
  db: Kysely<Database>,
  engine: Engine,
  workspaceId: string,
  ids: string[],
): Promise<Array<NotificationMarks & { id: string }>> {
  if (ids.length === 0) return Promise.resolve([]);
  const query = db
    .selectFrom('notifications')
    .select(['id', 'seen_at', 'read_at', 'interacted_at', 'archived_at'])
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', ids)
    .orderBy('id');
  return (engine === 'postgres' ? query.forUpdate() : query).execute();
}

export async function saveMessageStatus(db: Kysely<Database>, workspaceId: string, id: string, status: string, at: number): Promise<void> {
  await db.updateTable('messages').set({ status, updated_at: at }).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
}

export async function saveNotificationMarks(
  db: Kysely<Database>,
  workspaceId: string,
  id: string,
  marks: NotificationMarks,
): Promise<void> {
  await db.updateTable('notifications').set(marks).where('workspace_id', '=', workspaceId).where('id', '=', id).execute();
}

export function findMessage(db: Kysely<Database>, workspaceId: string, id: string): Promise<MessageRow | undefined> {
  return db.selectFrom('messages').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
}

export function findNotification(
  db: Kysely<Database>,
  workspaceId: string,
  id: string,
): Promise<Selectable<NotificationsTable> | undefined> {
  return db.selectFrom('notifications').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
}

/**
 * The outbox rows of webhook messages (one per message). Sent and failed rows are pruned after
 * the retention period; the message keeps its final status.
 */
export function findWebhookDeliveries(db: Kysely<Database>, workspaceId: string, messageIds: string[]): Promise<WebhookDeliveryRow[]> {
  if (messageIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('webhook_outbox')
    .select(['message_id', 'url', 'status', 'attempts', 'next_attempt_at', 'last_error', 'created_at', 'updated_at'])
    .where('workspace_id', '=', workspaceId)
    .where('message_id', 'in', messageIds)
    .execute();
}

/** A webhook message's stored request, headers included: callers show parts of its body only. */
export async function findWebhookPayload(db: Kysely<Database>, workspaceId: string, messageId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('webhook_outbox')
    .select('payload')
    .where('workspace_id', '=', workspaceId)
    .where('message_id', '=', messageId)
    .executeTakeFirst();
  return row?.payload;
}
