import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { changesAfter, maxChangeId, pruneChanges } from '../credentials/change-log.repo.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import { logAtMostEvery } from '../lib/log-throttle.js';

/**
 * Polls the change_log table so that a credential revoked or rotated by any process (another
 * server, the CLI, the dashboard) stops working here within one poll interval.
 *
 * PostgreSQL hands out sequence ids before commit, so a transaction holding id 41 can commit after
 * one holding 42 was already seen. Ids skipped that way are remembered as holes and asked for
 * again until they show up or HOLE_PATIENCE_MS passes (a rolled-back insert leaves a hole forever).
 */

const HOLE_PATIENCE_MS = 30_000;
const RETENTION_MS = 7 * 86_400_000;
const PRUNE_EVERY_MS = 3_600_000;

export class ChangeFeed {
  #lastId = 0;
  readonly #holes = new Map<number, number>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #lastPrune = 0;
  // Polls run 4 times a second: during an outage, one line every half minute says it all.
  readonly #shouldLogFailure = logAtMostEvery(30_000);

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    private readonly pollMs: number,
    private readonly onChange: () => void,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    this.#lastId = await maxChangeId(this.db);
    this.#lastPrune = this.clock.now();
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = this.pollOnce()
        .catch((error: unknown) => {
          const { log, suppressed } = this.#shouldLogFailure();
          if (log) {
            this.log.warn(
              { err: error, alsoFailed: suppressed },
              'change feed poll failed; cached credentials are kept until it recovers or they age out',
            );
          }
        })
        .finally(() => {
          this.#running = undefined;
        });
    }, this.pollMs);
    this.#timer.unref();
  }

  /**
   * Reads the changes now, after any poll under way: a change this process just committed (an
   * admin API call) takes effect here before its answer is sent, not one poll later.
   */
  async catchUp(): Promise<void> {
    while (this.#running) await this.#running.catch(() => {});
    this.#running = this.pollOnce().finally(() => {
      this.#running = undefined;
    });
    await this.#running;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  async pollOnce(): Promise<void> {
    const now = this.clock.now();
    for (const [id, since] of this.#holes) if (now - since > HOLE_PATIENCE_MS) this.#holes.delete(id);
    const rows = await changesAfter(this.db, this.#lastId, [...this.#holes.keys()]);
    if (rows.length > 0) {
      for (const row of rows) {
        this.#holes.delete(row.id);
        if (row.id > this.#lastId) {
          for (let missing = this.#lastId + 1; missing < row.id; missing++) this.#holes.set(missing, now);
          this.#lastId = row.id;
        }
      }
      this.onChange();
    }
    if (now - this.#lastPrune > PRUNE_EVERY_MS) {
      this.#lastPrune = now;
      await pruneChanges(this.db, now - RETENTION_MS);
    }
  }
}
