import { expressionBuilder, type Expression, type Kysely, type Selectable, type SqlBool } from 'kysely';
import type { Database, UserPreferencesTable } from '../db/schema.js';
import type { Preference } from './preferences.resolution.js';
import { prepared } from '../db/prepared.js';

export type UserPreferenceRow = Selectable<UserPreferencesTable>;

/*
 * tenant_category_preferences belongs to the tenants domain (its API writes it); these queries
 * only read it, next to the user's rows, so that the delivery path can resolve a preference in
 * one statement instead of a call through another service per message.
 */

interface UserInTenant {
  workspaceId: string;
  distinctId: string;
  tenantId: string;
}

// user_preferences and user_channel_preferences share the key prefix (workspace, user, tenant):
// every read of one user's rows in one tenant starts from the same three conditions.
function isUserInTenant({ workspaceId, distinctId, tenantId }: UserInTenant): Expression<SqlBool> {
  const eb = expressionBuilder<Database, 'user_preferences' | 'user_channel_preferences'>();
  return eb.and([eb('workspace_id', '=', workspaceId), eb('distinct_id', '=', distinctId), eb('tenant_id', '=', tenantId)]);
}

export function listUserPreferences(
  db: Kysely<Database>,
  workspaceId: string,
  distinctId: string,
  tenantId: string,
): Promise<UserPreferenceRow[]> {
  return db.selectFrom('user_preferences').selectAll().where(isUserInTenant({ workspaceId, distinctId, tenantId })).execute();
}

export function findUserPreference(
  db: Kysely<Database>,
  workspaceId: string,
  distinctId: string,
  tenantId: string,
  category: string,
): Promise<UserPreferenceRow | undefined> {
  return db
    .selectFrom('user_preferences')
    .selectAll()
    .where(isUserInTenant({ workspaceId, distinctId, tenantId }))
    .where('category', '=', category)
    .executeTakeFirst();
}

export async function upsertUserPreference(
  db: Kysely<Database>,
  row: { workspaceId: string; distinctId: string; tenantId: string; category: string; preference: Preference; optOutChannels: string[] },
  at: number,
): Promise<void> {
  const optOutChannels = JSON.stringify(row.optOutChannels);
  await db
    .insertInto('user_preferences')
    .values({
      workspace_id: row.workspaceId,
      distinct_id: row.distinctId,
      tenant_id: row.tenantId,
      category: row.category,
      preference: row.preference,
      opt_out_channels: optOutChannels,
      updated_at: at,
    })
    .onConflict((oc) =>
      oc
        .columns(['workspace_id', 'distinct_id', 'tenant_id', 'category'])
        .doUpdateSet({ preference: row.preference, opt_out_channels: optOutChannels, updated_at: at }),
    )
    .execute();
}

/** Channels the user restricted (in this tenant) to mandatory notifications, or un-restricted. */
export function listUserChannelRestrictions(
  db: Kysely<Database>,
  workspaceId: string,
  distinctId: string,
  tenantId: string,
): Promise<Array<{ channel: string; is_restricted: number }>> {
  return db
    .selectFrom('user_channel_preferences')
    .select(['channel', 'is_restricted'])
    .where(isUserInTenant({ workspaceId, distinctId, tenantId }))
    .execute();
}

export async function upsertUserChannelRestriction(
  db: Kysely<Database>,
  row: { workspaceId: string; distinctId: string; tenantId: string; channel: string; isRestricted: boolean },
  at: number,
): Promise<void> {
  const isRestricted = row.isRestricted ? 1 : 0;
  await db
    .insertInto('user_channel_preferences')
    .values({
      workspace_id: row.workspaceId,
      distinct_id: row.distinctId,
      tenant_id: row.tenantId,
      channel: row.channel,
      is_restricted: isRestricted,
      updated_at: at,
    })
    .onConflict((oc) =>
      oc.columns(['workspace_id', 'distinct_id', 'tenant_id', 'channel']).doUpdateSet({ is_restricted: isRestricted, updated_at: at }),
    )
    .execute();
}

export function listTenantCategorySettings(
  db: Kysely<Database>,
  workspaceId: string,
  tenantId: string,
): Promise<Array<{ category: string; settings: string }>> {
  return db
    .selectFrom('tenant_category_preferences')
    .select(['category', 'settings'])
    .where('workspace_id', '=', workspaceId)
    .where('tenant_id', '=', tenantId)
    .execute();
}

export async function findTenantCategorySettings(
  db: Kysely<Database>,
  workspaceId: string,
  tenantId: string,
  category: string,
): Promise<string | undefined> {
  const row = await db
    .selectFrom('tenant_category_preferences')
    .select('settings')
    .where('workspace_id', '=', workspaceId)
    .where('tenant_id', '=', tenantId)
    .where('category', '=', category)
    .executeTakeFirst();
  return row?.settings;
}

export interface DeliveryInputs {
  default_preference: string | null;
  tenant_settings: string | null;
  user_preference: string | null;
  opt_out_channels: string | null;
  is_restricted: number | null;
}

/**
 * Everything shouldDeliver needs, in one statement of primary-key lookups (one round trip per
 * message and channel on the delivery path).
 */
type DeliveryKey = { workspaceId: string; distinctId: string; tenantId: string; category: string; channel: string };

// Read for every recipient of every trigger: prepared, so Kysely builds it once.
const deliveryInputs = prepared('deliveryInputs', (db, key: DeliveryKey) => {
  const { workspaceId, tenantId, category, channel } = key;
  return db.selectNoFrom((eb) => [
    eb
      .selectFrom('categories')
      .select('default_preference')
      .where('workspace_id', '=', workspaceId)
      .where('slug', '=', category)
      .as('default_preference'),
    eb
      .selectFrom('tenant_category_preferences')
      .select('settings')
      .where('workspace_id', '=', workspaceId)
      .where('tenant_id', '=', tenantId)
      .where('category', '=', category)
      .as('tenant_settings'),
    eb
      .selectFrom('user_preferences')
      .select('preference')
      .where(isUserInTenant(key))
      .where('category', '=', category)
      .as('user_preference'),
    eb
      .selectFrom('user_preferences')
      .select('opt_out_channels')
      .where(isUserInTenant(key))
      .where('category', '=', category)
      .as('opt_out_channels'),
    eb
      .selectFrom('user_channel_preferences')
      .select('is_restricted')
      .where(isUserInTenant(key))
      .where('channel', '=', channel)
      .as('is_restricted'),
  ]);
});

export async function findDeliveryInputs(db: Kysely<Database>, key: DeliveryKey): Promise<DeliveryInputs> {
  const row = await deliveryInputs.executeTakeFirst(db, key);
  if (!row) throw new Error('the delivery inputs query returned no row');
  return row;
}
