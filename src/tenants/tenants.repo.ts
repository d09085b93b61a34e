import type { Kysely, Selectable } from 'kysely';
import type { Engine } from '../config.js';
import type { Database, TenantCategoryPreferencesTable, TenantsTable } from '../db/schema.js';

export type TenantRow = Selectable<TenantsTable>;
export type TenantCategoryRow = Selectable<TenantCategoryPreferencesTable>;

export function findTenant(db: Kysely<Database>, workspaceId: string, tenantId: string): Promise<TenantRow | undefined> {
  return db.selectFrom('tenants').selectAll().where('workspace_id', '=', workspaceId).where('tenant_id', '=', tenantId).executeTakeFirst();
}

/** Reads a tenant for update: PostgreSQL locks the row so concurrent upserts merge one after another. */
export function findTenantForUpdate(
  db: Kysely<Database>,
  engine: Engine,
  workspaceId: string,
  tenantId: string,
): Promise<TenantRow | undefined> {
  const query = db.selectFrom('tenants').selectAll().where('workspace_id', '=', workspaceId).where('tenant_id', '=', tenantId);
  // SQLite has no FOR UPDATE; its writers are serialised by the database lock anyway.
  return (engine === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
}

/** Inserts a tenant unless it exists (no error on a concurrent insert of the same id). */
export async function ensureTenant(db: Kysely<Database>, workspaceId: string, tenantId: string, name: string, at: number): Promise<void> {
  await db
    .insertInto('tenants')
    .values({ workspace_id: workspaceId, tenant_id: tenantId, name, properties: '{}', created_at: at, updated_at: at })
    .onConflict((oc) => oc.columns(['workspace_id', 'tenant_id']).doNothing())
    .execute();
}

export async function saveTenant(
  db: Kysely<Database>,
  workspaceId: string,
  tenantId: string,
  values: { name: string; properties: string },
  at: number,
): Promise<void> {
  await db
    .updateTable('tenants')
    .set({ ...values, updated_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('tenant_id', '=', tenantId)
    .execute();
}

export async function countTenants(db: Kysely<Database>, workspaceId: string, excludeId: string): Promise<number> {
  const row = await db
    .selectFrom('tenants')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('tenant_id', '!=', excludeId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export function listTenants(
  db: Kysely<Database>,
  workspaceId: string,
  page: { limit: number; offset: number; excludeId: string },
): Promise<TenantRow[]> {
  if (page.limit <= 0) return Promise.resolve([]);
  return db
    .selectFrom('tenants')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('tenant_id', '!=', page.excludeId)
    .orderBy('tenant_id')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
}

/** Removes a tenant and its category settings, in the caller's transaction. */
export async function deleteTenant(db: Kysely<Database>, workspaceId: string, tenantId: string): Promise<number> {
  await db.deleteFrom('tenant_category_preferences').where('workspace_id', '=', workspaceId).where('tenant_id', '=', tenantId).execute();
  const result = await db
    .deleteFrom('tenants')
    .where('workspace_id', '=', workspaceId)
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** When the workspace was created: the implicit "default" tenant has existed since then. */
export async function findWorkspaceCreatedAt(db: Kysely<Database>, workspaceId: string): Promise<number | undefined> {
  const row = await db.selectFrom('workspaces').select('created_at').where('id', '=', workspaceId).executeTakeFirst();
  return row?.created_at;
}

export function findTenantCategory(
  db: Kysely<Database>,
  workspaceId: string,
  tenantId: string,
  category: string,
): Promise<TenantCategoryRow | undefined> {
  return db
    .selectFrom('tenant_category_preferences')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('tenant_id', '=', tenantId)
    .where('category', '=', category)
    .executeTakeFirst();
}

export function findTenantCategoryForUpdate(
  db: Kysely<Database>,
  engine: Engine,
  workspaceId: string,
  tenantId: string,
  category: string,
): Promise<TenantCategoryRow | undefined> {
  const query = db
    .selectFrom('tenant_category_preferences')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('tenant_id', '=', tenantId)
    .where('category', '=', category);
  return (engine === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
}

export async function ensureTenantCategory(
  db: Kysely<Database>,
  workspaceId: string,
  tenantId: string,
  category: string,
  at: number,
): Promise<void> {
  await db
    .insertInto('tenant_category_preferences')
    .values({ workspace_id: workspaceId, tenant_id: tenantId, category, settings: '{}', updated_at: at })
    .onConflict((oc) => oc.columns(['workspace_id', 'tenant_id', 'category']).doNothing())
    .execute();
}

export async function saveTenantCategory(
  db: Kysely<Database>,
  workspaceId: string,
  tenantId: string,
  category: string,
  settings: string,
  at: number,
): Promise<void> {
  await db
    .updateTable('tenant_category_preferences')
    .set({ settings, updated_at: at })
    .where('workspace_id', '=', workspaceId)
    .where('tenant_id', '=', tenantId)
    .where('category', '=', category)
    .execute();
}

export async function countTenantCategories(db: Kysely<Database>, workspaceId: string, tenantId: string): Promise<number> {
  const row = await db
    .selectFrom('tenant_category_preferences')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('workspace_id', '=', workspaceId)
    .where('tenant_id', '=', tenantId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export function listTenantCategories(
  db: Kysely<Database>,
  workspaceId: string,
  tenantId: string,
  page: { limit: number; offset: number },
): Promise<TenantCategoryRow[]> {
  return db
    .selectFrom('tenant_category_preferences')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('tenant_id', '=', tenantId)
    .orderBy('category')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
}
