import type { Kysely, Selectable } from 'kysely';
import type { AdminSessionsTable, Database } from '../db/schema.js';
import type { AccountRow } from './accounts.repo.js';

export type SessionRow = Selectable<AdminSessionsTable>;

export interface SessionWithAccount {
  session: SessionRow;
  account: Pick<AccountRow, 'id' | 'email' | 'role' | 'disabled_at'>;
}

export async function insertSession(db: Kysely<Database>, row: SessionRow): Promise<void> {
  await db.insertInto('admin_sessions').values(row).execute();
}

export async function findSessionByTokenHash(db: Kysely<Database>, tokenHash: string): Promise<SessionWithAccount | undefined> {
  const row = await db
    .selectFrom('admin_sessions as s')
    .innerJoin('admin_accounts as a', 'a.id', 's.account_id')
    .selectAll('s')
    .select(['a.email as account_email', 'a.role as account_role', 'a.disabled_at as account_disabled_at'])
    .where('s.token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (!row) return undefined;
  const { account_email, account_role, account_disabled_at, ...session } = row;
  return { session, account: { id: session.account_id, email: account_email, role: account_role, disabled_at: account_disabled_at } };
}

export async function deleteSessionByTokenHash(db: Kysely<Database>, tokenHash: string): Promise<SessionRow | undefined> {
  return db.deleteFrom('admin_sessions').where('token_hash', '=', tokenHash).returningAll().executeTakeFirst();
}

export async function deleteSessionsOfAccount(db: Kysely<Database>, accountId: string): Promise<void> {
  await db.deleteFrom('admin_sessions').where('account_id', '=', accountId).execute();
}

export async function deleteStaleSessions(db: Kysely<Database>, now: number, idleSince: number): Promise<void> {
  await db
    .deleteFrom('admin_sessions')
    .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', idleSince)]))
    .execute();
}

export async function touchSession(db: Kysely<Database>, id: string, at: number): Promise<void> {
  await db.updateTable('admin_sessions').set({ last_seen_at: at }).where('id', '=', id).where('last_seen_at', '<', at).execute();
}

export async function setSessionAuthenticatedAt(db: Kysely<Database>, id: string, at: number): Promise<void> {
  await db.updateTable('admin_sessions').set({ authenticated_at: at, last_seen_at: at }).where('id', '=', id).execute();
}
