import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { JOB_CANCELLED_PREFIX, type JobRow } from './delivery.repo.js';

export type CancellableJob = Pick<JobRow, 'id' | 'payload' | 'status'>;

/**
 * A page of the jobs of a kind that have not finished (pending, or running now), in id order after
 * `afterId`, optionally only these ids.
 */
export async function findUnfinishedJobs(
  db: Kysely<Database>,
  workspaceId: string,
  kind: 'trigger' | 'broadcast',
  page: { ids: readonly string[] | undefined; afterId: string | undefined; limit: number },
): Promise<CancellableJob[]> {
  if (page.ids !== undefined && page.ids.length === 0) return [];
  let query = db
    .selectFrom('jobs')
    .select(['id', 'payload', 'status'])
    .where('workspace_id', '=', workspaceId)
    .where('kind', '=', kind)
    .where('status', 'in', ['pending', 'running']);
  if (page.ids !== undefined) query = query.where('id', 'in', page.ids);
  if (page.afterId !== undefined) query = query.where('id', '>', page.afterId);
  return query.orderBy('id').limit(page.limit).execute();
}

/**
 * Marks jobs cancelled unless they finished meanwhile; returns the ids it cancelled. A running job
 * can be cancelled too: its runner's last update (in the transaction of its deliveries) then finds
 * it no longer running and rolls back (updateJob).
 */
export async function cancelJobs(db: Kysely<Database>, ids: readonly string[], reason: string, now: number): Promise<string[]> {
  if (ids.length === 0) return [];
  const rows = await db
    .updateTable('jobs')
    .set({ status: 'failed', locked_until: null, last_error: `${JOB_CANCELLED_PREFIX}: ${reason}`, updated_at: now })
    .where('id', 'in', ids)
    .where('status', 'in', ['pending', 'running'])
    .returning('id')
    .execute();
  return rows.map((row) => row.id);
}

/**
 * Replaces a pending job's payload if nobody changed or claimed it since it was read (compared by
 * the payload text itself). Returns whether it did.
 */
export async function replacePendingPayload(db: Kysely<Database>, id: string, from: string, to: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set({ payload: to, updated_at: now })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('payload', '=', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
