import type { Kysely, Selectable } from 'kysely';
import type { Database, WorkspaceSecretsTable } from '../db/schema.js';

/**
 * The two kinds of rotating workspace secret share one shape (a current secret, rotated-out ones
 * valid until their grace ends): `workspace_secrets` (HMAC of backend requests) and
 * `webhook_secrets` (signatures of outbound webhooks).
 */
export type SecretTable = 'workspace_secrets' | 'webhook_secrets';
export type SecretRow = Selectable<WorkspaceSecretsTable>;

export async function insertSecret(db: Kysely<Database>, table: SecretTable, row: SecretRow): Promise<void> {
  await db.insertInto(table).values(row).execute();
}

/** Current secret first, then those still inside their grace period (newest first). */
export function findValidSecrets(db: Kysely<Database>, table: SecretTable, workspaceId: string, now: number): Promise<SecretRow[]> {
  return db
    .selectFrom(table)
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
    .orderBy('created_at', 'desc')
    .execute();
}

export function findCurrentSecret(db: Kysely<Database>, table: SecretTable, workspaceId: string): Promise<SecretRow | undefined> {
  return db.selectFrom(table).selectAll().where('workspace_id', '=', workspaceId).where('expires_at', 'is', null).executeTakeFirst();
}

/** Whether the workspace ever had a secret of this kind. */
export async function hasAnySecret(db: Kysely<Database>, table: SecretTable, workspaceId: string): Promise<boolean> {
  return (await db.selectFrom(table).select('id').where('workspace_id', '=', workspaceId).limit(1).executeTakeFirst()) !== undefined;
}

/** Ends the given secrets of the workspace at `at` (used in a rotation). */
export async function expireSecrets(
  db: Kysely<Database>,
  table: SecretTable,
  workspaceId: string,
  ids: string[],
  at: number,
): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable(table).set({ expires_at: at }).where('workspace_id', '=', workspaceId).where('id', 'in', ids).execute();
}

/**
 * Before a new current secret is inserted: the current one stays valid for `graceMs` more (0 ends
 * it now), and anything older still in grace ends now, so at most two secrets are ever valid.
 * Returns when the previous secret stops being valid (null if there was none).
 */
export async function retireForRotation(
  trx: Kysely<Database>,
  table: SecretTable,
  workspaceId: string,
  graceMs: number,
  now: number,
): Promise<number | null> {
  const valid = await findValidSecrets(trx, table, workspaceId, now);
  const current = valid.find((row) => row.expires_at === null);
  await expireSecrets(
    trx,
    table,
    workspaceId,
    valid.filter((row) => row !== current).map((row) => row.id),
    now,
  );
  if (!current) return null;
  await expireSecrets(trx, table, workspaceId, [current.id], now + graceMs);
  return now + graceMs;
}
