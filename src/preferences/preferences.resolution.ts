import { isPlainObject } from '../lib/json.js';

/**
 * How one user's preference for one notification category (and for one channel of it) is
 * decided. Pure: the service loads the handful of rows involved, these functions decide, so the
 * rules can be tested as a table and the delivery path and the preference API cannot disagree.
 *
 * Resolution order for the category: a category that can't be unsubscribed (by its own default,
 * or by the tenant's default for it) is always on; otherwise the user's explicit choice for
 * (tenant, category), then the tenant's default for the category, then the category's default,
 * then opt_in for a category Herald does not know.
 */

/** Channel names as the SuprSend preference APIs spell them (no `$`, unlike profile keys). */
export const CHANNELS = ['email', 'sms', 'whatsapp', 'androidpush', 'iospush', 'webpush', 'slack', 'ms_teams', 'inbox'] as const;
export type Channel = (typeof CHANNELS)[number];

const CHANNEL_SET = new Set<string>(CHANNELS);

export function isChannel(value: unknown): value is Channel {
  return typeof value === 'string' && CHANNEL_SET.has(value);
}

export const CATEGORY_DEFAULTS = ['opt_in', 'opt_out', 'cant_unsubscribe'] as const;
export type CategoryDefault = (typeof CATEGORY_DEFAULTS)[number];
export type Preference = 'opt_in' | 'opt_out';

export function isCategoryDefault(value: unknown): value is CategoryDefault {
  return value === 'opt_in' || value === 'opt_out' || value === 'cant_unsubscribe';
}

/** A tenant's settings for one category (`tenant_category_preferences.settings`). */
export interface TenantCategorySettings {
  preference: CategoryDefault | undefined;
  isEnabledForTenant: boolean;
  isVisibleToSubscriber: boolean;
  mandatoryChannels: ReadonlySet<string>;
  blockedChannels: ReadonlySet<string>;
}

function stringSet(value: unknown): Set<string> {
  return new Set(Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : []);
}

/**
 * Reads the settings JSON the tenant preference API stores. Tolerant on purpose: the delivery path
 * reads it for every message, and a malformed row must not stop delivery of everything else; an
 * unreadable field falls back to "no tenant override".
 */
export function parseTenantCategorySettings(text: string | null | undefined): TenantCategorySettings | undefined {
  if (text === null || text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = {};
  }
  const settings = isPlainObject(raw) ? raw : {};
  return {
    preference: isCategoryDefault(settings['preference']) ? settings['preference'] : undefined,
    isEnabledForTenant: settings['enabled_for_tenant'] !== false,
    isVisibleToSubscriber: settings['visible_to_subscriber'] !== false,
    mandatoryChannels: stringSet(settings['mandatory_channels']),
    blockedChannels: stringSet(settings['blocked_channels']),
  };
}

/** What the user chose for one (tenant, category). */
export interface UserCategoryChoice {
  preference: Preference;
  optOutChannels: readonly string[];
}

export interface ResolutionInput {
  /** The category's default_preference; undefined when the workspace has no such category. */
  categoryDefault: CategoryDefault | undefined;
  tenant: TenantCategorySettings | undefined;
  user: UserCategoryChoice | undefined;
}

export type PreferenceSource = 'category_mandatory' | 'tenant_mandatory' | 'user' | 'tenant' | 'category' | 'unknown_category';

export interface ResolvedCategory {
  preference: Preference;
  source: PreferenceSource;
  /** cant_unsubscribe: delivered whatever the user chose. */
  isMandatory: boolean;
  isEnabledForTenant: boolean;
  isVisible: boolean;
  optOutChannels: ReadonlySet<string>;
  mandatoryChannels: ReadonlySet<string>;
  blockedChannels: ReadonlySet<string>;
}

const NONE: ReadonlySet<string> = new Set();

export function resolveCategory({ categoryDefault, tenant, user }: ResolutionInput): ResolvedCategory {
  const common = {
    isEnabledForTenant: tenant?.isEnabledForTenant ?? true,
    isVisible: tenant?.isVisibleToSubscriber ?? true,
    optOutChannels: user ? new Set(user.optOutChannels) : NONE,
    mandatoryChannels: tenant?.mandatoryChannels ?? NONE,
    blockedChannels: tenant?.blockedChannels ?? NONE,
  };
  // A category defined as cant_unsubscribe stays mandatory even where a tenant set another
  // default: the workspace owner decided users may never opt out of it.
  if (categoryDefault === 'cant_unsubscribe') return { ...common, preference: 'opt_in', source: 'category_mandatory', isMandatory: true };
  if (tenant?.preference === 'cant_unsubscribe') return { ...common, preference: 'opt_in', source: 'tenant_mandatory', isMandatory: true };
  if (user) return { ...common, preference: user.preference, source: 'user', isMandatory: false };
  if (tenant?.preference) return { ...common, preference: tenant.preference, source: 'tenant', isMandatory: false };
  if (categoryDefault) return { ...common, preference: categoryDefault, source: 'category', isMandatory: false };
  return { ...common, preference: 'opt_in', source: 'unknown_category', isMandatory: false };
}

/** Whether the user may change the category's preference in a preference centre. */
export function isCategoryEditable(resolved: ResolvedCategory): boolean {
  return !resolved.isMandatory && resolved.isEnabledForTenant;
}

/** The category as the user sees it: off (and not editable) when the tenant disabled it. */
export function displayedPreference(resolved: ResolvedCategory): Preference {
  return !resolved.isMandatory && !resolved.isEnabledForTenant ? 'opt_out' : resolved.preference;
}

export interface ChannelPreferenceView {
  channel: Channel;
  preference: Preference;
  is_editable: boolean;
}

/**
 * The channels of a category as a preference centre shows them. Channels the tenant blocked are
 * left out (nothing will be sent on them); mandatory ones are on and locked. In a category the
 * tenant disabled, only its mandatory channels remain, matching what decideDelivery lets through.
 */
export function categoryChannels(resolved: ResolvedCategory): ChannelPreferenceView[] {
  const views: ChannelPreferenceView[] = [];
  for (const channel of CHANNELS) {
    const isMandatoryChannel = resolved.mandatoryChannels.has(channel);
    if (isMandatoryChannel || resolved.isMandatory) {
      views.push({ channel, preference: 'opt_in', is_editable: false });
      continue;
    }
    if (resolved.blockedChannels.has(channel) || !resolved.isEnabledForTenant) continue;
    const isOff = resolved.preference === 'opt_out' || resolved.optOutChannels.has(channel);
    views.push({ channel, preference: isOff ? 'opt_out' : 'opt_in', is_editable: true });
  }
  return views;
}

export interface DeliveryDecision {
  deliver: boolean;
  reason: string;
}

export interface DeliveryContext {
  category: string;
  channel: string;
  tenantId: string;
  /** The user restricted this channel (in this tenant) to mandatory notifications. */
  isChannelRestricted: boolean;
}

const SOURCE_LABEL: Record<PreferenceSource, string> = {
  category_mandatory: 'the category cannot be unsubscribed',
  tenant_mandatory: 'the tenant made the category mandatory',
  user: "the user's choice",
  tenant: "the tenant's default",
  category: "the category's default",
  unknown_category: 'unknown category',
};

/** Whether one message of `category` may go out on `channel`, with a short reason for the logs. */
export function decideDelivery(resolved: ResolvedCategory, context: DeliveryContext): DeliveryDecision {
  const { category, channel, tenantId } = context;
  const what = `"${category}" on ${channel}`;
  // Mandatory always wins: these are the notifications users agreed they cannot turn off.
  if (resolved.mandatoryChannels.has(channel))
    return { deliver: true, reason: `${channel} is mandatory for "${category}" in tenant "${tenantId}"` };
  if (resolved.isMandatory) return { deliver: true, reason: `${what}: opt_in (${SOURCE_LABEL[resolved.source]})` };
  if (!resolved.isEnabledForTenant) return { deliver: false, reason: `tenant "${tenantId}" disabled "${category}"` };
  if (resolved.blockedChannels.has(channel)) return { deliver: false, reason: `tenant "${tenantId}" blocked ${channel} for "${category}"` };
  if (context.isChannelRestricted) return { deliver: false, reason: `the user restricted ${channel} to mandatory notifications` };
  if (resolved.preference === 'opt_out') return { deliver: false, reason: `${what}: opt_out (${SOURCE_LABEL[resolved.source]})` };
  if (resolved.optOutChannels.has(channel)) return { deliver: false, reason: `the user opted out of ${channel} for "${category}"` };
  return { deliver: true, reason: `${what}: opt_in (${SOURCE_LABEL[resolved.source]})` };
}
