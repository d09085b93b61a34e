import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { AppError } from '../lib/errors.js';
import { isPlainObject, type JsonObject } from '../lib/json.js';
import { checkDistinctId, type ServiceDeps } from '../users/users.service.js';
import { cancelJobs, findUnfinishedJobs, replacePendingPayload, type CancellableJob } from './cancellation.repo.js';
import { findIdempotentResponse } from './delivery.repo.js';
import { IDEMPOTENCY_WINDOW_MS } from './delivery.service.js';
import type { BroadcastJob, TriggerJob } from './job-runner.js';

/**
 * Cancellation of runs that have not delivered yet (SuprSend `POST /v1/workflow_run/cancel/` and
 * `/v1/broadcast_run/cancel/`). In Herald those are the background jobs: delayed or scheduled
 * triggers (`delay` / `trigger_at`) and list broadcasts; an immediate trigger has delivered by the
 * time its answer is sent. The filters combine with AND and at least one is required. The filter
 * fields live in each job's payload, so the workspace's unfinished jobs of the kind are read (a
 * page at a time) and matched here; the ids a run is known by (the `message_id` its trigger answered) narrow the read
 * when given.
 */

export interface WorkflowRunFilter {
  executionId?: string | undefined;
  idempotencyKey?: string | undefined;
  cancellationKey?: string | undefined;
  workflowSlug?: string | undefined;
  tenantId?: string | undefined;
  recipients?: ReadonlySet<string> | undefined;
}

export interface BroadcastRunFilter {
  executionId?: string | undefined;
  idempotencyKey?: string | undefined;
  listId?: string | undefined;
  tenantId?: string | undefined;
}

const MAX_FILTER_CHARS = 255;
/** Jobs read (and payloads parsed) at a time while matching: memory stays bounded however many wait. */
const SCAN_PAGE = 500;
const MAX_FILTER_RECIPIENTS = 1_000;
const WORKFLOW_FILTERS = ['execution_id', 'idempotency_key', 'cancellation_key', 'workflow_slug', 'tenant_id', 'recipients'];
const BROADCAST_FILTERS = ['execution_id', 'idempotency_key', 'list_id', 'tenant_id'];

const invalid = (message: string) => new AppError('VALIDATION_FAILED', message);

function filterText(body: JsonObject, key: string): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_FILTER_CHARS) {
    throw invalid(`${key} must be a non-empty string of at most ${MAX_FILTER_CHARS} characters`);
  }
  return value.trim();
}

function filterBody(body: unknown, allowed: string[]): JsonObject {
  if (!isPlainObject(body)) throw invalid(`body must be a JSON object with at least one of ${allowed.join(', ')}`);
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw invalid(`unknown filter(s) ${unknown.join(', ')}; allowed: ${allowed.join(', ')}`);
  if (!allowed.some((key) => body[key] !== undefined && body[key] !== null)) {
    throw invalid(`give at least one filter (${allowed.join(', ')}); they combine with AND`);
  }
  return body;
}

export function parseWorkflowRunFilter(raw: unknown): WorkflowRunFilter {
  const body = filterBody(raw, WORKFLOW_FILTERS);
  let recipients: Set<string> | undefined;
  const list = body['recipients'];
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_FILTER_RECIPIENTS) {
      throw invalid(`recipients must be a list of 1 to ${MAX_FILTER_RECIPIENTS} distinct_ids`);
    }
    recipients = new Set(list.map((id, i) => checkDistinctId(id, `recipients[${i}]`)));
  }
  return {
    executionId: filterText(body, 'execution_id'),
    idempotencyKey: filterText(body, 'idempotency_key'),
    cancellationKey: filterText(body, 'cancellation_key'),
    workflowSlug: filterText(body, 'workflow_slug'),
    tenantId: filterText(body, 'tenant_id'),
    recipients,
  };
}

export function parseBroadcastRunFilter(raw: unknown): BroadcastRunFilter {
  const body = filterBody(raw, BROADCAST_FILTERS);
  return {
    executionId: filterText(body, 'execution_id'),
    idempotencyKey: filterText(body, 'idempotency_key'),
    listId: filterText(body, 'list_id')?.toLowerCase(),
    tenantId: filterText(body, 'tenant_id'),
  };
}

/** Every unfinished job of the kind (see findUnfinishedJobs), read a page at a time. */
async function* unfinishedJobs(
  db: Kysely<Database>,
  workspaceId: string,
  kind: 'trigger' | 'broadcast',
  ids: readonly string[] | undefined,
): AsyncGenerator<CancellableJob> {
  let afterId: string | undefined;
  for (;;) {
    const page = await findUnfinishedJobs(db, workspaceId, kind, { ids, afterId, limit: SCAN_PAGE });
    yield* page;
    if (page.length < SCAN_PAGE) return;
    afterId = page[page.length - 1]?.id;
  }
}

function payloadOf<T>(job: CancellableJob): T {
  return JSON.parse(job.payload) as T;
}

export class CancellationService {
  constructor(private readonly deps: ServiceDeps) {}

  /**
   * Cancels the delayed and scheduled triggers the filter matches; answers SuprSend's
   * `{"execution_ids": [...]}` with the `message_id`s their triggers answered. With `recipients`,
   * a run that also has other recipients loses only the matching ones (SuprSend runs a workflow per
   * recipient), which a run already being delivered can no longer do: it is left to finish.
   */
  async cancelWorkflowRuns(workspaceId: string, filter: WorkflowRunFilter): Promise<{ execution_ids: string[] }> {
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (trx) => {
      const ids = await this.narrowIds(trx, workspaceId, filter.executionId, filter.idempotencyKey, now);
      const whole: string[] = [];
      const partial: string[] = [];
      for await (const job of unfinishedJobs(trx, workspaceId, 'trigger', ids)) {
        const { request, ...rest } = payloadOf<TriggerJob>(job);
        if (filter.cancellationKey !== undefined && request.cancellationKey !== filter.cancellationKey) continue;
        if (filter.workflowSlug !== undefined && request.workflow !== filter.workflowSlug) continue;
        if (filter.tenantId !== undefined && request.tenantId !== filter.tenantId) continue;
        const matching = filter.recipients;
        if (matching === undefined) {
          whole.push(job.id);
          continue;
        }
        const remaining = request.recipients.filter((r) => !matching.has(r.distinctId));
        if (remaining.length === request.recipients.length) continue;
        if (remaining.length === 0 && (request.objects ?? []).length === 0) whole.push(job.id);
        else if (job.status === 'pending') {
          const next = JSON.stringify({ ...rest, request: { ...request, recipients: remaining } });
          if (await replacePendingPayload(trx, job.id, job.payload, next, now)) partial.push(job.id);
        }
      }
      const cancelled = await cancelJobs(trx, whole, 'POST /v1/workflow_run/cancel/', now);
      return { execution_ids: [...cancelled, ...partial] };
    });
  }

  /**
   * Cancels the list broadcasts the filter matches that have not finished. One already delivering
   * stops before its next page; the pages it committed stay delivered.
   */
  async cancelBroadcastRuns(workspaceId: string, filter: BroadcastRunFilter): Promise<{ execution_ids: string[] }> {
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (trx) => {
      // execution_id may be the job's id (the broadcast's message_id) or its execution's: matched below.
      const ids = await this.narrowIds(trx, workspaceId, undefined, filter.idempotencyKey, now);
      const matched: string[] = [];
      for await (const job of unfinishedJobs(trx, workspaceId, 'broadcast', ids)) {
        const state = payloadOf<BroadcastJob>(job);
        if (filter.executionId !== undefined && job.id !== filter.executionId && state.executionId !== filter.executionId) continue;
        if (filter.listId !== undefined && state.listId.trim().toLowerCase() !== filter.listId) continue;
        if (filter.tenantId !== undefined && state.tenantId !== filter.tenantId) continue;
        matched.push(job.id);
      }
      return { execution_ids: await cancelJobs(trx, matched, 'POST /v1/broadcast_run/cancel/', now) };
    });
  }

  /** The job ids an execution_id and an idempotency key allow (AND); undefined when neither is given. */
  private async narrowIds(
    db: Kysely<Database>,
    workspaceId: string,
    executionId: string | undefined,
    idempotencyKey: string | undefined,
    now: number,
  ): Promise<string[] | undefined> {
    let ids: string[] | undefined = executionId === undefined ? undefined : [executionId];
    if (idempotencyKey !== undefined) {
      const stored = await findIdempotentResponse(db, workspaceId, 'trigger', idempotencyKey, now - IDEMPOTENCY_WINDOW_MS);
      const id = stored === undefined ? undefined : (JSON.parse(stored) as { message_id?: unknown }).message_id;
      const byKey = typeof id === 'string' ? [id] : [];
      ids = ids === undefined ? byKey : ids.filter((x) => byKey.includes(x));
    }
    return ids;
  }
}
