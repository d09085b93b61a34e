import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { Engine } from '../config.js';
import { preparedInsert } from '../db/prepared.js';
import type { Database, ExecutionsTable, JobsTable, MessagesTable, NotificationsTable, WebhookOutboxTable } from '../db/schema.js';

export type JobRow = Selectable<JobsTable>;
export type WebhookRow = Selectable<WebhookOutboxTable>;

// Every delivery writes these three: prepared, so Kysely builds each statement once.
const executionInsert = preparedInsert('executions', [
  'id',
  'workspace_id',
  'source',
  'workflow_slug',
  'category',
  'tenant_id',
  'cancellation_key',
  'recipient_count',
  'created_at',
]);
const notificationInsert = preparedInsert('notifications', [
  'id',
  'workspace_id',
  'distinct_id',
  'tenant_id',
  'execution_id',
  'workflow_slug',
  'category',
  'content',
  'tags',
  'is_pinned',
  'created_at',
  'seen_at',
  'read_at',
  'interacted_at',
  'archived_at',
  'expires_at',
]);
const messageInsert = preparedInsert('messages', [
  'id',
  'workspace_id',
  'execution_id',
  'distinct_id',
  'tenant_id',
  'workflow_slug',
  'category',
  'channel',
  'status',
  'notification_id',
  'created_at',
  'updated_at',
]);

export function insertExecution(db: Kysely<Database>, row: Insertable<ExecutionsTable>): Promise<void> {
  return executionInsert.execute(db, row);
}

export function insertNotification(db: Kysely<Database>, row: Insertable<NotificationsTable>): Promise<void> {
  return notificationInsert.execute(db, row);
}

export function insertMessage(db: Kysely<Database>, row: Insertable<MessagesTable>): Promise<void> {
  return messageInsert.execute(db, row);
}

export async function insertWebhook(db: Kysely<Database>, row: Insertable<WebhookOutboxTable>): Promise<void> {
  await db.insertInto('webhook_outbox').values(row).execute();
}

export async function findIdempotentResponse(
  db: Kysely<Database>,
  workspaceId: string,
  scope: string,
  key: string,
  notBefore: number,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('idempotency_keys')
    .select('response')
    .where('workspace_id', '=', workspaceId)
    .where('scope', '=', scope)
    .where('key', '=', key)
    .where('created_at', '>=', notBefore)
    .executeTakeFirst();
  return row?.response;
}

/** Records a response for a key; an expired record under the same key is replaced. */
export async function saveIdempotentResponse(
  db: Kysely<Database>,
  row: { workspace_id: string; scope: string; key: string; response: string; created_at: number },
  notBefore: number,
): Promise<void> {
  await db
    .deleteFrom('idempotency_keys')
    .where('workspace_id', '=', row.workspace_id)
    .where('scope', '=', row.scope)
    .where('key', '=', row.key)
    .where('created_at', '<', notBefore)
    .execute();
  await db.insertInto('idempotency_keys').values(row).execute();
}

/**
 * Claims up to `limit` due webhooks for this process by pushing their next attempt past the lease:
 * another process polling at the same time skips them (PostgreSQL: SKIP LOCKED; SQLite has a
 * single writer, so the claiming UPDATE cannot interleave).
 */
export async function claimDueWebhooks(
  db: Kysely<Database>,
  engine: Engine,
  now: number,
  leaseMs: number,
  limit: number,
): Promise<WebhookRow[]> {
  return db.transaction().execute(async (trx) => {
    let query = trx
      .selectFrom('webhook_outbox')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .limit(limit);
    if (engine === 'postgres') query = query.forUpdate().skipLocked();
    const ids = (await query.execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    await trx
      .updateTable('webhook_outbox')
      .set({ next_attempt_at: now + leaseMs, attempts: sql<number>`attempts + 1`, updated_at: now })
      .where('id', 'in', ids)
      .execute();
    return trx.selectFrom('webhook_outbox').selectAll().where('id', 'in', ids).execute();
  });
}

export async function finishWebhook(
  db: Kysely<Database>,
  row: { id: string; messageId: string; workspaceId: string },
  outcome: { status: 'pending' | 'sent' | 'failed'; nextAttemptAt: number; error: string | null; messageStatus: string },
  now: number,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('webhook_outbox')
      .set({ status: outcome.status, next_attempt_at: outcome.nextAttemptAt, last_error: outcome.error, updated_at: now })
      .where('id', '=', row.id)
      .execute();
    await trx
      .updateTable('messages')
      .set({ status: outcome.messageStatus, updated_at: now })
      .where('workspace_id', '=', row.workspaceId)
      .where('id', '=', row.messageId)
      .execute();
  });
}

export async function insertJob(db: Kysely<Database>, row: Insertable<JobsTable>): Promise<void> {
  await db.insertInto('jobs').values(row).execute();
}

/** Claims the oldest runnable job: pending, or running with an expired lease (its process died). */
export async function claimJob(db: Kysely<Database>, engine: Engine, now: number, leaseMs: number): Promise<JobRow | undefined> {
  return db.transaction().execute(async (trx) => {
    let query = trx
      .selectFrom('jobs')
      .select('id')
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'pending'), eb('run_at', '<=', now)]),
          eb.and([eb('status', '=', 'running'), eb('locked_until', '<', now)]),
        ]),
      )
      .orderBy('run_at')
      .limit(1);
    if (engine === 'postgres') query = query.forUpdate().skipLocked();
    const found = await query.executeTakeFirst();
    if (!found) return undefined;
    await trx
      .updateTable('jobs')
      .set({ status: 'running', locked_until: now + leaseMs, attempts: sql<number>`attempts + 1`, updated_at: now })
      .where('id', '=', found.id)
      .execute();
    return trx.selectFrom('jobs').selectAll().where('id', '=', found.id).executeTakeFirst();
  });
}

/** A job's lease passed to another process (it claimed the job after this one's lease ran out). */
export class JobLeaseLostError extends Error {
  override name = 'JobLeaseLostError';
}

/** A job was cancelled (POST /v1/workflow_run/cancel/, /v1/broadcast_run/cancel/) while this process held it. */
export class JobCancelledError extends Error {
  override name = 'JobCancelledError';
}

/**
 * How a cancelled job is stored: status `failed` with this prefix in last_error. The jobs table's
 * CHECK constraint (migration 0002) allows no other status, and failed jobs are never run again.
 */
export const JOB_CANCELLED_PREFIX = 'CANCELLED';

export function isCancelledJob(row: { status: string; last_error: string | null }): boolean {
  return row.status === 'failed' && (row.last_error ?? '').startsWith(JOB_CANCELLED_PREFIX);
}

/**
 * Updates a job this process holds. `attempt` is the job's `attempts` when this process claimed
 * it: every claim counts it up, so it fences out a process whose lease ran out and was taken over
 * (JobLeaseLostError, and inside a delivery's transaction the delivery rolls back with it). The
 * job must still be running: one cancelled meanwhile fails the update the same way
 * (JobCancelledError), so a run being cancelled either committed its deliveries first or delivers nothing.
 */
export async function updateJob(
  db: Kysely<Database>,
  id: string,
  attempt: number,
  patch: { status?: JobRow['status']; payload?: string; run_at?: number; locked_until?: number | null; last_error?: string | null },
  now: number,
): Promise<void> {
  const result = await db
    .updateTable('jobs')
    .set({ ...patch, updated_at: now })
    .where('id', '=', id)
    .where('attempts', '=', attempt)
    .where('status', '=', 'running')
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) {
    const row = await db.selectFrom('jobs').select(['status', 'last_error']).where('id', '=', id).executeTakeFirst();
    if (row !== undefined && isCancelledJob(row)) throw new JobCancelledError(`job ${id} was cancelled`);
    throw new JobLeaseLostError(`job ${id} was taken over by another process`);
  }
}

export function findJob(db: Kysely<Database>, workspaceId: string, id: string): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('workspace_id', '=', workspaceId).where('id', '=', id).executeTakeFirst();
}
