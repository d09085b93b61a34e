import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import { sha256Hex } from '../lib/crypto.js';
import { countAttempt, findThrottles, forgetKey, lockKey, uncountAttempt, type ThrottleRow } from './login-throttle.repo.js';

/**
 * Password guessing limits, per account (the email tried, whether or not it exists, so the limit
 * itself reveals nothing) and per client IP. State lives in the database so every process agrees.
 *
 * An attempt is counted *before* the password is checked. A burst of parallel requests therefore
 * cannot all slip through while the first ones are still hashing: only the first `max` get to
 * argon2, the rest are refused. Once a key has `max` failures it is locked for LOCK_BASE_MS,
 * doubling with every further lock up to LOCK_MAX_MS. After a lock ends, one more attempt is
 * checked; failing it locks again at once. A success clears the account's count (and gives back
 * the IP's count for that attempt); a key quiet for ATTEMPT_MEMORY_MS starts over.
 */

export const ACCOUNT_MAX_ATTEMPTS = 5;
export const IP_MAX_ATTEMPTS = 20;
export const LOCK_BASE_MS = 60_000;
export const LOCK_MAX_MS = 3_600_000;
export const ATTEMPT_MEMORY_MS = 24 * 3_600_000;

export interface ThrottleKey {
  key: string;
  scope: 'account' | 'ip';
  max: number;
}

/** A lock this request set (for the audit log). */
export interface NewLock {
  scope: 'account' | 'ip';
  lockedForMs: number;
  lockouts: number;
}

export type Reservation = { ok: true } | { ok: false; retryAfterMs: number; newLocks: NewLock[] };

function lockDurationMs(previousLockouts: number): number {
  return Math.min(LOCK_BASE_MS * 2 ** Math.min(previousLockouts, 30), LOCK_MAX_MS);
}

function keyNames(keys: ThrottleKey[]): string[] {
  return keys.map((k) => k.key);
}

export class LoginThrottle {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
  ) {}

  /** The email is hashed: a mistyped address (or a password typed into the email box) is not stored. */
  keysFor(email: string, ip: string | null): ThrottleKey[] {
    const keys: ThrottleKey[] = [{ key: `email:${sha256Hex(email)}`, scope: 'account', max: ACCOUNT_MAX_ATTEMPTS }];
    if (ip) keys.push({ key: `ip:${ip}`, scope: 'ip', max: IP_MAX_ATTEMPTS });
    return keys;
  }

  /** Counts an attempt against every key, or refuses it while any key is locked or over its limit. */
  async reserve(keys: ThrottleKey[]): Promise<Reservation> {
    const now = this.clock.now();
    const names = keyNames(keys);
    const lockedUntil = this.latestLock(await findThrottles(this.db, names), now);
    // Locked: refuse without counting, so waiting out the lock is enough.
    if (lockedUntil !== null) return { ok: false, retryAfterMs: lockedUntil - now, newLocks: [] };

    const newLocks: NewLock[] = [];
    let isOver = false;
    for (const k of keys) {
      const row = await countAttempt(this.db, k.key, now, now - ATTEMPT_MEMORY_MS);
      if (row.locked_until !== null && row.locked_until > now) {
        isOver = true;
      } else if (row.attempts > k.max) {
        isOver = true;
        const lock = await this.lock(k, row, now);
        if (lock) newLocks.push(lock);
      }
    }
    if (!isOver) return { ok: true };
    const until = this.latestLock(await findThrottles(this.db, names), now);
    return { ok: false, retryAfterMs: (until ?? now + LOCK_BASE_MS) - now, newLocks };
  }

  /** After a wrong password: locks every key that reached its limit. */
  async fail(keys: ThrottleKey[]): Promise<NewLock[]> {
    const now = this.clock.now();
    const rows = await findThrottles(this.db, keyNames(keys));
    const newLocks: NewLock[] = [];
    for (const k of keys) {
      const row = rows.find((r) => r.key === k.key);
      if (row && row.attempts >= k.max) {
        const lock = await this.lock(k, row, now);
        if (lock) newLocks.push(lock);
      }
    }
    return newLocks;
  }

  async succeed(keys: ThrottleKey[]): Promise<void> {
    for (const k of keys) {
      // Only the account starts over: an attacker who owns one account must not reset the IP's
      // count by logging into it between guesses at others.
      if (k.scope === 'account') await forgetKey(this.db, k.key);
      else await uncountAttempt(this.db, k.key);
    }
  }

  private async lock(k: ThrottleKey, row: ThrottleRow, now: number): Promise<NewLock | null> {
    const lockedForMs = lockDurationMs(row.lockouts);
    const isMine = await lockKey(
      this.db,
      k.key,
      { lockouts: row.lockouts, now },
      // One attempt is checked after the lock ends; failing it reaches `max` again.
      { until: now + lockedForMs, attemptsAfter: k.max - 1 },
    );
    return isMine ? { scope: k.scope, lockedForMs, lockouts: row.lockouts + 1 } : null;
  }

  private latestLock(rows: ThrottleRow[], now: number): number | null {
    let latest: number | null = null;
    for (const row of rows) {
      if (row.locked_until !== null && row.locked_until > now && (latest === null || row.locked_until > latest)) latest = row.locked_until;
    }
    return latest;
  }
}
