import { sql, type Kysely } from 'kysely';
import type { Engine } from '../config.js';
import type { Database } from './schema.js';

/**
 * Group commit for SQLite: units of work that arrive while a transaction is running are run
 * together in the next one, each inside a savepoint, and committed once. A SQLite commit writes
 * every page the transaction changed to the WAL (about 200 µs for a delivery on the reference
 * machine, more than all its statements together); shared pages — the ends of the time-ordered
 * indexes, the tables' last pages — are then written once per batch instead of once per unit.
 *
 * Each unit still commits or fails on its own terms: a unit that throws is rolled back to its
 * savepoint and gets its error, the others are unaffected; a failed commit fails every unit of the
 * batch. No unit's promise settles before its batch has committed, so an answer given after `run`
 * resolves stays given after a crash. Nothing waits for a batch to fill: a batch starts at the end
 * of the event-loop turn its first unit arrived in, and holds whatever queued up by then.
 *
 * PostgreSQL runs each unit in a transaction of its own: it has many connections, and its own
 * commits already share WAL flushes.
 */

type Work<T> = (trx: Kysely<Database>) => Promise<T>;

interface Unit {
  work: Work<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Units per transaction at most: bounds how long a batch holds SQLite's one connection. */
const MAX_BATCH = 64;

export class GroupCommit {
  readonly #queue: Unit[] = [];
  #draining = false;
  #batches = 0;
  #units = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly engine: Engine,
  ) {}

  /** Runs `work` in a transaction (shared with other units on SQLite); resolves after the commit. */
  run<T>(work: Work<T>): Promise<T> {
    if (this.engine === 'postgres') return this.db.transaction().execute(work);
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#draining) {
        this.#draining = true;
        // better-sqlite3 never yields: a transaction runs start to end in one turn of the event
        // loop, so nothing could join it. Starting after this turn's I/O lets every request read
        // in the same turn queue its unit first.
        setImmediate(() => void this.#drain());
      }
    });
  }

  /** Transactions committed and units they held, since start (SQLite). */
  stats(): { batches: number; units: number } {
    return { batches: this.#batches, units: this.#units };
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        let outcomes: Outcome[];
        try {
          outcomes = await this.db.transaction().execute((trx) => runUnits(trx, batch));
        } catch (error) {
          for (const unit of batch) unit.reject(error);
          continue;
        }
        this.#batches += 1;
        this.#units += batch.length;
        batch.forEach((unit, index) => {
          const outcome = outcomes[index] as Outcome;
          if (outcome.ok) unit.resolve(outcome.value);
          else unit.reject(outcome.error);
        });
      }
    } finally {
      this.#draining = false;
    }
  }
}

async function runUnits(trx: Kysely<Database>, batch: Unit[]): Promise<Outcome[]> {
  if (batch.length === 1) {
    // Alone in its transaction: its error rolls the transaction back, and no savepoint is needed.
    return [{ ok: true, value: await (batch[0] as Unit).work(trx) }];
  }
  const outcomes: Outcome[] = [];
  for (const unit of batch) {
    await sql`savepoint herald_unit`.execute(trx);
    try {
      const value = await unit.work(trx);
      await sql`release herald_unit`.execute(trx);
      outcomes.push({ ok: true, value });
    } catch (error) {
      await sql`rollback to herald_unit`.execute(trx);
      await sql`release herald_unit`.execute(trx);
      outcomes.push({ ok: false, error });
    }
  }
  return outcomes;
}
