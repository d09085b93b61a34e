import type { Kysely, Selectable } from 'kysely';
import type { AdminLoginThrottleTable, Database } from '../db/schema.js';

export type ThrottleRow = Selectable<AdminLoginThrottleTable>;

export function findThrottles(db: Kysely<Database>, keys: string[]): Promise<ThrottleRow[]> {
  return db.selectFrom('admin_login_throttle').selectAll().where('key', 'in', keys).execute();
}

/**
 * Counts one attempt, atomically (an upsert, so concurrent attempts from any process each get
 * their own count). A key quiet since `forgetBefore` starts over. While the key is locked nothing
 * is counted, and the returned row shows the lock: a request that checked before a concurrent
 * one set the lock still sees it here.
 */
export function countAttempt(db: Kysely<Database>, key: string, now: number, forgetBefore: number): Promise<ThrottleRow> {
  return db
    .insertInto('admin_login_throttle')
    .values({ key, attempts: 1, last_attempt_at: now, locked_until: null, lockouts: 0 })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => {
        const isForgotten = eb('admin_login_throttle.last_attempt_at', '<', forgetBefore);
        return {
          attempts: eb
            .case()
            .when(isForgotten)
            .then(1)
            .when('admin_login_throttle.locked_until', '>', now)
            .then(eb.ref('admin_login_throttle.attempts'))
            .else(eb('admin_login_throttle.attempts', '+', 1))
            .end(),
          lockouts: eb.case().when(isForgotten).then(0).else(eb.ref('admin_login_throttle.lockouts')).end(),
          last_attempt_at: now,
        };
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

/**
 * Locks a key unless another request (any process) already did: the update is conditional on
 * the lock count it read, so a burst sets one lock, not one per request.
 */
export async function lockKey(
  db: Kysely<Database>,
  key: string,
  expected: { lockouts: number; now: number },
  lock: { until: number; attemptsAfter: number },
): Promise<boolean> {
  const result = await db
    .updateTable('admin_login_throttle')
    .set({ locked_until: lock.until, lockouts: expected.lockouts + 1, attempts: lock.attemptsAfter })
    .where('key', '=', key)
    .where('lockouts', '=', expected.lockouts)
    .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', expected.now)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function forgetKey(db: Kysely<Database>, key: string): Promise<void> {
  await db.deleteFrom('admin_login_throttle').where('key', '=', key).execute();
}

/** Gives back the attempt a successful login had counted. */
export async function uncountAttempt(db: Kysely<Database>, key: string): Promise<void> {
  await db
    .updateTable('admin_login_throttle')
    .set((eb) => ({ attempts: eb('attempts', '-', 1) }))
    .where('key', '=', key)
    .where('attempts', '>', 0)
    .execute();
}
