import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { AppError } from '../lib/errors.js';
import { isPlainObject, type JsonObject } from '../lib/json.js';
import type { ServiceDeps } from '../users/users.service.js';
import type { WorkflowService } from '../workflows/workflows.service.js';
import { claimJob, JobCancelledError, JobLeaseLostError, updateJob, type JobRow } from './delivery.repo.js';
import type { DeliveryService, Execution, TriggerRequest } from './delivery.service.js';

/**
 * Background work that must survive a restart: delayed triggers and list broadcasts. Jobs live in
 * the database; a process claims one with a lease, and a broadcast records its progress (the last
 * member delivered) in the same transaction as each page of deliveries, so a crash resumes where it stopped.
 */

const POLL_MS = 250;
const PAGE_SIZE = 200;
const MAX_ATTEMPTS = 5;

export interface ListMembers {
  memberPage(workspaceId: string, listId: string, after: string | undefined, limit: number): Promise<string[]>;
}

export interface TriggerJob {
  workspace: { id: string; slug: string };
  request: TriggerRequest;
}

export interface BroadcastJob {
  workspace: { id: string; slug: string };
  executionId: string;
  listId: string;
  workflow: string;
  category: string;
  data: JsonObject;
  channels: string[] | null;
  tenantId: string;
  /** distinct_id of the last member delivered. */
  after?: string;
}

export class JobRunner {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(
    private readonly deps: ServiceDeps,
    private readonly delivery: DeliveryService,
    private readonly workflows: WorkflowService,
    private readonly lists: ListMembers,
    private readonly log: Logger,
    /** How long a claimed job is this process's; a crashed process's job is resumed after it. */
    private readonly leaseMs: number,
  ) {}

  start(): void {
    this.#timer = setInterval(() => this.kick(), POLL_MS);
    this.#timer.unref();
  }

  kick(): void {
    if (this.#running) return;
    this.#running = this.drain()
      .catch((error: unknown) => this.log.warn({ err: error }, 'job round failed'))
      .finally(() => {
        this.#running = undefined;
      });
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** Runs jobs until none is due. */
  async drain(): Promise<void> {
    for (;;) {
      const job = await claimJob(this.deps.db, this.deps.engine, this.deps.clock.now(), this.leaseMs);
      if (!job) return;
      this.log.debug({ jobId: job.id, kind: job.kind, attempt: job.attempts }, 'job claimed');
      await this.run(job);
    }
  }

  private async run(job: JobRow): Promise<void> {
    // The job is marked done in the transaction of its last deliveries: if that commit fails,
    // nothing of it was delivered, and a retry starts clean instead of delivering again.
    const markDone = (db: Kysely<Database>) =>
      updateJob(db, job.id, job.attempts, { status: 'done', locked_until: null, last_error: null }, this.deps.clock.now());
    try {
      const payload: unknown = JSON.parse(job.payload);
      if (!isPlainObject(payload)) throw new Error('job payload is not an object');
      if (job.kind === 'trigger') {
        const { workspace, request } = payload as unknown as TriggerJob;
        await this.delivery.trigger(workspace, request, markDone);
      } else if (job.kind === 'broadcast') {
        await this.broadcast(job, payload as unknown as BroadcastJob);
        await markDone(this.deps.db);
      } else {
        throw new Error(`unknown job kind ${job.kind}`);
      }
    } catch (error) {
      if (error instanceof JobCancelledError) {
        // Cancelled while claimed: the transaction that would have marked it done rolled back with its deliveries.
        this.log.info({ jobId: job.id, kind: job.kind }, 'job was cancelled; nothing more of it is delivered');
        return;
      }
      if (error instanceof JobLeaseLostError) {
        // Another process resumed the job after this one's lease ran out: the job is theirs now.
        this.log.warn({ jobId: job.id, kind: job.kind }, 'job lease ran out and another process took the job over; stopped here');
        return;
      }
      const message = error instanceof AppError ? `${error.code}: ${error.message}` : (error as Error).message;
      const isFinal = job.attempts >= MAX_ATTEMPTS || (error instanceof AppError && error.status < 500);
      this.log.warn(
        { jobId: job.id, kind: job.kind, attempt: job.attempts, error: message },
        isFinal ? 'job failed for good' : 'job failed; will retry',
      );
      const now = this.deps.clock.now();
      await updateJob(
        this.deps.db,
        job.id,
        job.attempts,
        isFinal
          ? { status: 'failed', locked_until: null, last_error: message }
          : { status: 'pending', run_at: now + 5_000 * 2 ** job.attempts, locked_until: null, last_error: message },
        now,
      ).catch((updateError: unknown) => {
        // Cancelled or taken over since it failed: it is no longer this process's to reschedule.
        if (updateError instanceof JobCancelledError || updateError instanceof JobLeaseLostError) return;
        throw updateError;
      });
    }
  }

  private async broadcast(job: JobRow, state: BroadcastJob): Promise<void> {
    const workflow = await this.workflows.get(state.workspace.id, state.workflow);
    const execution: Execution = {
      id: state.executionId,
      source: 'broadcast',
      workflow,
      category: state.category,
      tenantId: state.tenantId,
      data: state.data,
      actor: null,
      cancellationKey: null,
    };
    let after = state.after;
    for (;;) {
      const page = await this.lists.memberPage(state.workspace.id, state.listId, after, PAGE_SIZE);
      if (page.length === 0) return;
      const recipients = page.map((distinctId) => ({ distinctId, profile: null, channels: state.channels, isTransient: false }));
      const next = page[page.length - 1] as string;
      await this.delivery.deliver(state.workspace, execution, recipients, async (trx) => {
        const now = this.deps.clock.now();
        await updateJob(
          trx,
          job.id,
          job.attempts,
          { payload: JSON.stringify({ ...state, after: next }), locked_until: now + this.leaseMs },
          now,
        );
      });
      after = next;
    }
  }
}
