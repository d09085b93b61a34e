import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Engine } from '../config.js';
import type { Database } from '../db/schema.js';
import { IDEMPOTENCY_WINDOW_MS } from '../delivery/delivery.service.js';
import type { Clock } from '../lib/clock.js';

/**
 * Deletes operational records once they are of no more use, so the tables the hot paths write
 * (one or more rows per trigger and event) do not grow forever:
 *
 *   idempotency_keys   past the 24 h replay window
 *   jobs               done or failed, last touched longer ago than the retention
 *   webhook_outbox     sent or failed, likewise (the message log keeps each delivery's status)
 *   events             recorded longer ago than the retention ($insert_id deduplication spans it)
 *   executions         likewise
 *   audit_log          older than its own retention (a year by default; the database refuses to
 *                      delete entries younger than 30 days, whatever the setting)
 *
 * Notifications, messages and users are not touched. Deletes go in bounded batches
 * so no statement holds locks for long; with PostgreSQL one process at a time sweeps (an advisory
 * lock), the others skip that round.
 */

const SWEEP_INTERVAL_MS = 3_600_000;
const FIRST_SWEEP_DELAY_MS = 60_000;
const BATCH_ROWS = 5_000;

export interface RetentionOptions {
  /** Age after which finished jobs and webhook attempts, events and executions go. */
  retentionMs: number;
  /** Age after which audit log entries go. */
  auditRetentionMs: number;
}

export type SweepCounts = Record<'idempotencyKeys' | 'jobs' | 'webhooks' | 'events' | 'executions' | 'auditLog', number>;

type PrunableTable = 'idempotency_keys' | 'jobs' | 'webhook_outbox' | 'events' | 'executions' | 'audit_log';

export class RetentionSweeper {
  #timers: NodeJS.Timeout[] = [];
  #running: Promise<unknown> | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
    private readonly clock: Clock,
    private readonly options: RetentionOptions,
    private readonly log: Pick<Logger, 'info' | 'warn'>,
  ) {}

  start(): void {
    const run = () => {
      if (this.#running) return;
      this.#running = this.sweep()
        .then((counts) => {
          const total = Object.values(counts).reduce((a, b) => a + b, 0);
          if (total > 0) this.log.info({ deleted: counts }, 'retention: old operational records deleted');
        })
        .catch((error: unknown) => this.log.warn({ err: error }, 'retention sweep failed; it runs again in an hour'))
        .finally(() => {
          this.#running = undefined;
        });
    };
    const first = setTimeout(run, FIRST_SWEEP_DELAY_MS);
    const every = setInterval(run, SWEEP_INTERVAL_MS);
    first.unref();
    every.unref();
    this.#timers = [first, every];
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers = [];
    await this.#running;
  }

  /** One sweep now; returns how many rows of each kind went (all zero when another process holds the sweep). */
  async sweep(): Promise<SweepCounts> {
    const counts: SweepCounts = { idempotencyKeys: 0, jobs: 0, webhooks: 0, events: 0, executions: 0, auditLog: 0 };
    if (this.engine === 'postgres') {
      // Session-level lock on one pooled connection, held for the whole sweep.
      return this.db.connection().execute(async (conn) => {
        const locked = await sql<{ ok: boolean }>`select pg_try_advisory_lock(hashtext('herald-retention')) as ok`.execute(conn);
        if (!locked.rows[0]?.ok) return counts;
        try {
          return await this.#sweep(conn, counts);
        } finally {
          await sql`select pg_advisory_unlock(hashtext('herald-retention'))`.execute(conn);
        }
      });
    }
    return this.#sweep(this.db, counts);
  }

  async #sweep(db: Kysely<Database>, counts: SweepCounts): Promise<SweepCounts> {
    const now = this.clock.now();
    const before = now - this.options.retentionMs;
    counts.idempotencyKeys = await this.#prune(db, 'idempotency_keys', 'created_at', now - IDEMPOTENCY_WINDOW_MS - 3_600_000);
    counts.jobs = await this.#prune(db, 'jobs', 'updated_at', before, ['done', 'failed']);
    counts.webhooks = await this.#prune(db, 'webhook_outbox', 'updated_at', before, ['sent', 'failed']);
    counts.events = await this.#prune(db, 'events', 'created_at', before);
    counts.executions = await this.#prune(db, 'executions', 'created_at', before);
    counts.auditLog = await this.#prune(db, 'audit_log', 'created_at', now - this.options.auditRetentionMs);
    return counts;
  }

  /** Deletes rows with `column` < `olderThan` (and a finished status), BATCH_ROWS at a time. */
  async #prune(db: Kysely<Database>, table: PrunableTable, column: string, olderThan: number, statuses?: string[]): Promise<number> {
    let deleted = 0;
    for (;;) {
      // Dynamic table and column: the same statement shape for five tables.
      const where = statuses
        ? sql`${sql.ref(column)} < ${olderThan} and status in (${sql.join(statuses)})`
        : sql`${sql.ref(column)} < ${olderThan}`;
      const isKeyed = table === 'idempotency_keys';
      const key = isKeyed ? sql`(workspace_id, scope, key)` : sql`id`;
      const keyColumns = isKeyed ? sql`workspace_id, scope, key` : sql`id`;
      const batch = sql`select ${keyColumns} from ${sql.table(table)} where ${where} limit ${BATCH_ROWS}`;
      const result = await sql`delete from ${sql.table(table)} where ${key} in (${batch})`.execute(db);
      const count = Number(result.numAffectedRows ?? 0);
      deleted += count;
      if (count < BATCH_ROWS) return deleted;
    }
  }
}
