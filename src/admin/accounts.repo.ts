import type { Kysely, Selectable, Updateable } from 'kysely';
import type { Engine } from '../config.js';
import type { AdminAccountsTable, Database } from '../db/schema.js';

export type AccountRow = Selectable<AdminAccountsTable>;

export async function insertAccount(db: Kysely<Database>, row: AccountRow): Promise<void> {
  await db.insertInto('admin_accounts').values(row).execute();
}

export function findAccountById(db: Kysely<Database>, id: string): Promise<AccountRow | undefined> {
  return db.selectFrom('admin_accounts').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findAccountByEmail(db: Kysely<Database>, email: string): Promise<AccountRow | undefined> {
  return db.selectFrom('admin_accounts').selectAll().where('email', '=', email).executeTakeFirst();
}

export function listAccounts(db: Kysely<Database>): Promise<AccountRow[]> {
  return db.selectFrom('admin_accounts').selectAll().orderBy('created_at').orderBy('id').execute();
}

export async function countAccounts(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('admin_accounts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function updateAccount(
  db: Kysely<Database>,
  id: string,
  patch: Updateable<Omit<AdminAccountsTable, 'id' | 'email' | 'created_at' | 'created_by'>>,
): Promise<void> {
  await db.updateTable('admin_accounts').set(patch).where('id', '=', id).execute();
}

/**
 * Ids of the enabled owners. In PostgreSQL the rows stay locked until the transaction ends, so
 * two concurrent demotions cannot each see the other owner and leave none (write skew). SQLite
 * needs no lock: its writers are serialised, and a stale reader's write fails with SQLITE_BUSY.
 */
export async function lockActiveOwners(db: Kysely<Database>, engine: Engine): Promise<string[]> {
  const rows = await db
    .selectFrom('admin_accounts')
    .select('id')
    .where('role', '=', 'owner')
    .where('disabled_at', 'is', null)
    .$if(engine === 'postgres', (qb) => qb.forUpdate())
    .execute();
  return rows.map((r) => r.id);
}
