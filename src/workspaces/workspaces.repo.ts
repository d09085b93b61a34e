import type { Kysely, Selectable } from 'kysely';
import type { Database, WorkspacesTable } from '../db/schema.js';

export type WorkspaceRow = Selectable<WorkspacesTable>;

export function findWorkspaceBySlug(db: Kysely<Database>, slug: string): Promise<WorkspaceRow | undefined> {
  return db.selectFrom('workspaces').selectAll().where('slug', '=', slug).executeTakeFirst();
}

export function findWorkspaceById(db: Kysely<Database>, id: string): Promise<WorkspaceRow | undefined> {
  return db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findWorkspaceByKey(db: Kysely<Database>, workspaceKey: string): Promise<WorkspaceRow | undefined> {
  return db.selectFrom('workspaces').selectAll().where('workspace_key', '=', workspaceKey).executeTakeFirst();
}

export function listWorkspaces(db: Kysely<Database>): Promise<WorkspaceRow[]> {
  return db.selectFrom('workspaces').selectAll().orderBy('created_at').orderBy('slug').execute();
}

export async function insertWorkspace(db: Kysely<Database>, row: WorkspaceRow): Promise<void> {
  await db.insertInto('workspaces').values(row).execute();
}

/** The per-workspace on/off settings (enhanced security, signed client SDKs), stored as 0/1. */
export type WorkspaceSwitch = 'enhanced_security' | 'allow_signed_clients';

export async function setWorkspaceSwitch(db: Kysely<Database>, id: string, name: WorkspaceSwitch, isOn: boolean): Promise<void> {
  await db
    .updateTable('workspaces')
    .set({ [name]: isOn ? 1 : 0 })
    .where('id', '=', id)
    .execute();
}

export async function findOrganisation(db: Kysely<Database>): Promise<{ id: string } | undefined> {
  return db.selectFrom('organisations').select('id').orderBy('created_at').executeTakeFirst();
}

export async function insertOrganisation(db: Kysely<Database>, row: { id: string; name: string; created_at: number }): Promise<void> {
  await db.insertInto('organisations').values(row).execute();
}

export async function readMeta(db: Kysely<Database>, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('meta').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value;
}

export async function writeMeta(db: Kysely<Database>, key: string, value: string): Promise<void> {
  await db.insertInto('meta').values({ key, value }).execute();
}
