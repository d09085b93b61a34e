import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';

export interface UserTenantRow {
  tenant_id: string;
  /** null when the tenant has no row (the implicit `default` tenant). */
  tenant_name: string | null;
  properties: string;
  created_at: number;
  updated_at: number;
}

export async function tenantExists(db: Kysely<Database>, workspaceId: string, tenantId: string): Promise<boolean> {
  const row = await db
    .selectFrom('tenants')
    .select('tenant_id')
    .where('workspace_id', '=', workspaceId)
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  return row !== undefined;
}

function linksOf(db: Kysely<Database>, workspaceId: string, distinctId: string) {
  return db
    .selectFrom('user_tenants as ut')
    .leftJoin('tenants as t', (join) => join.onRef('t.workspace_id', '=', 'ut.workspace_id').onRef('t.tenant_id', '=', 'ut.tenant_id'))
    .select(['ut.tenant_id', 't.name as tenant_name', 'ut.properties', 'ut.created_at', 'ut.updated_at'])
    .where('ut.workspace_id', '=', workspaceId)
    .where('ut.distinct_id', '=', distinctId);
}

export function findUserTenant(
  db: Kysely<Database>,
  workspaceId: string,
  distinctId: string,
  tenantId: string,
): Promise<UserTenantRow | undefined> {
  return linksOf(db, workspaceId, distinctId).where('ut.tenant_id', '=', tenantId).executeTakeFirst();
}

export function listUserTenants(
  db: Kysely<Database>,
  workspaceId: string,
  distinctId: string,
  page: { limit: number; offset: number },
): Promise<UserTenantRow[]> {
  return linksOf(db, workspaceId, distinctId).orderBy('ut.tenant_id').limit(page.limit).offset(page.offset).execute();
}

export async function countUserTenants(db: Kysely<Database>, workspaceId: string, distinctId: string): Promise<number> {
  const row = await db
    .selectFrom('user_tenants')
    .select((eb) => eb.fn.countAll<number | string>().as('count'))
    .where('workspace_id', '=', workspaceId)
    .where('distinct_id', '=', distinctId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Creates the link, or replaces its properties. */
export async function upsertUserTenant(
  db: Kysely<Database>,
  link: { workspaceId: string; distinctId: string; tenantId: string; properties: string },
  at: number,
): Promise<void> {
  await db
    .insertInto('user_tenants')
    .values({
      workspace_id: link.workspaceId,
      distinct_id: link.distinctId,
      tenant_id: link.tenantId,
      properties: link.properties,
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) =>
      oc.columns(['workspace_id', 'distinct_id', 'tenant_id']).doUpdateSet({ properties: link.properties, updated_at: at }),
    )
    .execute();
}

/** Creates the link with no properties unless it exists (an existing link keeps its properties). */
export async function ensureUserTenant(
  db: Kysely<Database>,
  link: { workspaceId: string; distinctId: string; tenantId: string },
  at: number,
): Promise<void> {
  await db
    .insertInto('user_tenants')
    .values({
      workspace_id: link.workspaceId,
      distinct_id: link.distinctId,
      tenant_id: link.tenantId,
      properties: '{}',
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) => oc.columns(['workspace_id', 'distinct_id', 'tenant_id']).doNothing())
    .execute();
}

export async function deleteUserTenant(db: Kysely<Database>, workspaceId: string, distinctId: string, tenantId: string): Promise<number> {
  const result = await db
    .deleteFrom('user_tenants')
    .where('workspace_id', '=', workspaceId)
    .where('distinct_id', '=', distinctId)
    .where('tenant_id', '=', tenantId)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
