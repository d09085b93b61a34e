import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { AppError } from '../lib/errors.js';
import { isPlainObject, parseJsonArray } from '../lib/json.js';
import { UserService, type ServiceDeps } from '../users/users.service.js';
import { findCategory, listCategories, type CategoryRow } from './categories.repo.js';
import {
  findDeliveryInputs,
  findTenantCategorySettings,
  findUserPreference,
  listTenantCategorySettings,
  listUserChannelRestrictions,
  listUserPreferences,
  upsertUserChannelRestriction,
  upsertUserPreference,
  type UserPreferenceRow,
} from './preferences.repo.js';
import {
  categoryChannels,
  CHANNELS,
  decideDelivery,
  displayedPreference,
  isCategoryDefault,
  isCategoryEditable,
  isChannel,
  parseTenantCategorySettings,
  resolveCategory,
  type Channel,
  type ChannelPreferenceView,
  type DeliveryDecision,
  type Preference,
  type ResolvedCategory,
  type TenantCategorySettings,
  type UserCategoryChoice,
} from './preferences.resolution.js';

/*
 * Response shapes are the SuprSend ones: the backend SDKs return them as-is, and the web SDK's
 * preference centre reads `PreferenceData` (reference/client-sdk-protocol.md §5.2), so a browser
 * route can hand these objects straight through.
 */

export interface PreferenceOptions {
  tenantId: string;
  /** When false, categories the user is opted out of list no channels. */
  showOptOutChannels: boolean;
}

export interface CategoryPreferenceView {
  category: string;
  name: string;
  description: string | null;
  preference: Preference;
  is_editable: boolean;
  channels: ChannelPreferenceView[];
}

export interface SectionView {
  /** null for the categories that have no section. */
  name: string | null;
  description: string | null;
  subcategories: CategoryPreferenceView[];
}

export interface OverallChannelPreference {
  channel: Channel;
  /** true: the channel only carries mandatory notifications for this user. */
  is_restricted: boolean;
}

export interface PreferenceData {
  sections: SectionView[];
  channel_preferences: OverallChannelPreference[];
}

export interface CategoryPreferencePage {
  meta: { count: number; limit: number; offset: number };
  results: CategoryPreferenceView[];
}

interface CategoryUpdate {
  preference: Preference;
  /** undefined: keep the channels the user opted out of before. */
  optOutChannels: Channel[] | undefined;
}

function userChoiceOf(row: UserPreferenceRow | undefined): UserCategoryChoice | undefined {
  if (!row) return undefined;
  const channels = parseJsonArray(row.opt_out_channels).filter((c): c is string => typeof c === 'string');
  return { preference: row.preference, optOutChannels: channels };
}

function inChannelOrder(channels: Iterable<string>): Channel[] {
  const set = new Set(channels);
  return CHANNELS.filter((channel) => set.has(channel));
}

function categoryView(row: CategoryRow, resolved: ResolvedCategory, showOptOutChannels: boolean): CategoryPreferenceView {
  const preference = displayedPreference(resolved);
  return {
    category: row.slug,
    name: row.name,
    description: row.description,
    preference,
    is_editable: isCategoryEditable(resolved),
    channels: preference === 'opt_out' && !showOptOutChannels ? [] : categoryChannels(resolved),
  };
}

function mandatoryReason(resolved: ResolvedCategory, tenantId: string): string {
  const why = resolved.source === 'tenant_mandatory' ? `tenant "${tenantId}" made it mandatory` : 'it is cant_unsubscribe';
  return `${why}; users always receive it`;
}

function compareText(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return a < b ? -1 : 1;
}

function parseCategoryUpdate(body: unknown): CategoryUpdate {
  if (!isPlainObject(body)) {
    throw new AppError('VALIDATION_FAILED', 'body must be {"preference": "opt_in" | "opt_out", "opt_out_channels": ["email", ...]}');
  }
  // digest_schedule and properties (Python SDK) are accepted and ignored: Herald has no digests yet.
  const preference = body['preference'];
  if (preference === 'cant_unsubscribe') {
    throw new AppError('VALIDATION_FAILED', 'preference cant_unsubscribe is a category default, not a user choice; send opt_in or opt_out');
  }
  if (preference !== 'opt_in' && preference !== 'opt_out') {
    throw new AppError('VALIDATION_FAILED', `preference must be "opt_in" or "opt_out" (got ${JSON.stringify(preference ?? null)})`);
  }
  const channels = body['opt_out_channels'];
  // The web SDK sends null when it opts a category back in; keep the user's earlier channel choices.
  if (channels === undefined || channels === null) return { preference, optOutChannels: undefined };
  if (!Array.isArray(channels)) throw new AppError('VALIDATION_FAILED', 'opt_out_channels must be a list of channel names');
  const unknown = channels.filter((channel) => !isChannel(channel));
  if (unknown.length > 0) {
    throw new AppError(
      'VALIDATION_FAILED',
      `unknown channel ${unknown.map((c) => JSON.stringify(c)).join(', ')} in opt_out_channels; channels are ${CHANNELS.join(', ')}`,
    );
  }
  return { preference, optOutChannels: inChannelOrder(channels as Channel[]) };
}

function parseChannelUpdates(body: unknown): Array<{ channel: Channel; isRestricted: boolean }> {
  const list = isPlainObject(body) ? body['channel_preferences'] : undefined;
  if (!Array.isArray(list) || list.length === 0) {
    throw new AppError('VALIDATION_FAILED', 'body must be {"channel_preferences": [{"channel": "email", "is_restricted": true}, ...]}');
  }
  const seen = new Set<string>();
  return list.map((item, index) => {
    const channel = isPlainObject(item) ? item['channel'] : undefined;
    const isRestricted = isPlainObject(item) ? item['is_restricted'] : undefined;
    if (!isChannel(channel)) {
      throw new AppError(
        'VALIDATION_FAILED',
        `channel_preferences[${index}].channel must be one of ${CHANNELS.join(', ')} (got ${JSON.stringify(channel ?? null)})`,
      );
    }
    if (typeof isRestricted !== 'boolean') {
      throw new AppError('VALIDATION_FAILED', `channel_preferences[${index}].is_restricted must be true or false`);
    }
    if (seen.has(channel)) throw new AppError('VALIDATION_FAILED', `channel_preferences lists ${channel} twice`);
    seen.add(channel);
    return { channel, isRestricted };
  });
}

export class PreferenceService {
  private readonly users: UserService;

  constructor(private readonly deps: ServiceDeps) {
    this.users = new UserService(deps);
  }

  /** The user's preferences must exist in this workspace: another workspace's user is a 404 like a missing one. */
  private async requireUser(workspaceId: string, distinctId: string): Promise<void> {
    await this.users.get(workspaceId, distinctId);
  }

  private async requireCategory(workspaceId: string, slug: string): Promise<CategoryRow> {
    const row = await findCategory(this.deps.db, workspaceId, slug);
    if (!row) throw new AppError('NOT_FOUND', `category "${slug}" not found (herald category list shows the categories)`);
    return row;
  }

  /** Every visible category with its resolved preference, grouped in sections (PreferenceData). */
  async getPreferences(workspaceId: string, distinctId: string, options: PreferenceOptions): Promise<PreferenceData> {
    await this.requireUser(workspaceId, distinctId);
    const [subcategories, channelPreferences] = await Promise.all([
      this.visibleCategories(workspaceId, distinctId, options),
      this.channelPreferences(workspaceId, distinctId, options.tenantId),
    ]);
    const sections: SectionView[] = [];
    for (const { section, view } of subcategories) {
      const last = sections[sections.length - 1];
      if (last && last.name === section) last.subcategories.push(view);
      else sections.push({ name: section, description: null, subcategories: [view] });
    }
    return { sections, channel_preferences: channelPreferences };
  }

  /** The same categories as getPreferences, flat and paginated (the web SDK's getCategories). */
  async listCategoryPreferences(
    workspaceId: string,
    distinctId: string,
    options: PreferenceOptions & { limit: number; offset: number },
  ): Promise<CategoryPreferencePage> {
    await this.requireUser(workspaceId, distinctId);
    const all = await this.visibleCategories(workspaceId, distinctId, options);
    return {
      meta: { count: all.length, limit: options.limit, offset: options.offset },
      results: all.slice(options.offset, options.offset + options.limit).map((entry) => entry.view),
    };
  }

  /** Visible categories in display order: sectionless first, then by section, name and slug. */
  private async visibleCategories(
    workspaceId: string,
    distinctId: string,
    options: PreferenceOptions,
  ): Promise<Array<{ section: string | null; view: CategoryPreferenceView }>> {
    const { db } = this.deps;
    const [categories, tenantRows, userRows] = await Promise.all([
      listCategories(db, workspaceId),
      listTenantCategorySettings(db, workspaceId, options.tenantId),
      listUserPreferences(db, workspaceId, distinctId, options.tenantId),
    ]);
    const tenantSettings = new Map(tenantRows.map((row) => [row.category, row.settings]));
    const userChoices = new Map(userRows.map((row) => [row.category, row]));
    const ordered = [...categories].sort(
      (a, b) => compareText(a.section, b.section) || compareText(a.name, b.name) || compareText(a.slug, b.slug),
    );
    const visible: Array<{ section: string | null; view: CategoryPreferenceView }> = [];
    for (const row of ordered) {
      const resolved = resolveCategory({
        categoryDefault: row.default_preference,
        tenant: parseTenantCategorySettings(tenantSettings.get(row.slug)),
        user: userChoiceOf(userChoices.get(row.slug)),
      });
      // Tenants hide categories from their users, or switch them off entirely.
      if (!resolved.isVisible || !resolved.isEnabledForTenant) continue;
      visible.push({ section: row.section, view: categoryView(row, resolved, options.showOptOutChannels) });
    }
    return visible;
  }

  private async resolveOne(
    workspaceId: string,
    distinctId: string,
    row: CategoryRow,
    tenantId: string,
  ): Promise<{ resolved: ResolvedCategory; tenant: TenantCategorySettings | undefined; user: UserCategoryChoice | undefined }> {
    const [settings, userRow] = await Promise.all([
      findTenantCategorySettings(this.deps.db, workspaceId, tenantId, row.slug),
      findUserPreference(this.deps.db, workspaceId, distinctId, tenantId, row.slug),
    ]);
    const user = userChoiceOf(userRow);
    const tenant = parseTenantCategorySettings(settings);
    return { resolved: resolveCategory({ categoryDefault: row.default_preference, tenant, user }), tenant, user };
  }

  async getCategoryPreference(
    workspaceId: string,
    distinctId: string,
    category: string,
    options: PreferenceOptions,
  ): Promise<CategoryPreferenceView> {
    await this.requireUser(workspaceId, distinctId);
    const row = await this.requireCategory(workspaceId, category);
    const { resolved } = await this.resolveOne(workspaceId, distinctId, row, options.tenantId);
    return categoryView(row, resolved, options.showOptOutChannels);
  }

  /** Records the user's choice for one category in one tenant; returns the category as it now resolves. */
  async updateCategoryPreference(
    workspaceId: string,
    distinctId: string,
    category: string,
    body: unknown,
    options: PreferenceOptions,
  ): Promise<CategoryPreferenceView> {
    const update = parseCategoryUpdate(body);
    await this.requireUser(workspaceId, distinctId);
    const row = await this.requireCategory(workspaceId, category);
    const { resolved: before, tenant, user: previous } = await this.resolveOne(workspaceId, distinctId, row, options.tenantId);
    if (before.isMandatory && update.preference === 'opt_out') {
      throw new AppError('VALIDATION_FAILED', `cannot opt out of category "${category}": ${mandatoryReason(before, options.tenantId)}`);
    }
    let optOutChannels: Channel[];
    if (update.optOutChannels === undefined) {
      // Kept channel opt-outs are not the caller's doing: drop those that became mandatory since.
      optOutChannels = before.isMandatory
        ? []
        : inChannelOrder(previous?.optOutChannels ?? []).filter((c) => !before.mandatoryChannels.has(c));
    } else {
      optOutChannels = update.optOutChannels;
      if (before.isMandatory && optOutChannels.length > 0) {
        throw new AppError(
          'VALIDATION_FAILED',
          `cannot opt out of channels of category "${category}": ${mandatoryReason(before, options.tenantId)}`,
        );
      }
      const locked = optOutChannels.filter((channel) => before.mandatoryChannels.has(channel));
      if (locked.length > 0) {
        throw new AppError(
          'VALIDATION_FAILED',
          `cannot opt out of ${locked.join(', ')} in category "${category}": mandatory in tenant "${options.tenantId}"`,
        );
      }
    }
    const choice: UserCategoryChoice = { preference: update.preference, optOutChannels };
    await upsertUserPreference(
      this.deps.db,
      { workspaceId, distinctId, tenantId: options.tenantId, category, preference: choice.preference, optOutChannels },
      this.deps.clock.now(),
    );
    const resolved = resolveCategory({ categoryDefault: row.default_preference, tenant, user: choice });
    return categoryView(row, resolved, options.showOptOutChannels);
  }

  private async channelPreferences(workspaceId: string, distinctId: string, tenantId: string): Promise<OverallChannelPreference[]> {
    const rows = await listUserChannelRestrictions(this.deps.db, workspaceId, distinctId, tenantId);
    const restricted = new Set(rows.filter((row) => row.is_restricted === 1).map((row) => row.channel));
    return CHANNELS.map((channel) => ({ channel, is_restricted: restricted.has(channel) }));
  }

  async getChannelPreferences(
    workspaceId: string,
    distinctId: string,
    options: { tenantId: string },
  ): Promise<{ channel_preferences: OverallChannelPreference[] }> {
    await this.requireUser(workspaceId, distinctId);
    return { channel_preferences: await this.channelPreferences(workspaceId, distinctId, options.tenantId) };
  }

  /** Restricts channels to mandatory notifications (or lifts that), all listed channels at once; returns the full preferences. */
  async updateChannelPreferences(
    workspaceId: string,
    distinctId: string,
    body: unknown,
    options: PreferenceOptions,
  ): Promise<PreferenceData> {
    const updates = parseChannelUpdates(body);
    await this.requireUser(workspaceId, distinctId);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (trx) => {
      for (const update of updates) {
        await upsertUserChannelRestriction(trx, { workspaceId, distinctId, tenantId: options.tenantId, ...update }, now);
      }
    });
    return this.getPreferences(workspaceId, distinctId, options);
  }

  /**
   * Whether a message of `category` may go to `distinctId` on `channel` in `tenantId` (for the
   * delivery code). One statement of primary-key lookups; never throws for unknown users or
   * categories (unknown categories are opt_in).
   */
  async shouldDeliver(
    workspaceId: string,
    distinctId: string,
    tenantId: string,
    category: string,
    channel: string,
    db: Kysely<Database> = this.deps.db,
  ): Promise<DeliveryDecision> {
    const inputs = await findDeliveryInputs(db, { workspaceId, distinctId, tenantId, category, channel });
    const userPreference = inputs.user_preference;
    const user: UserCategoryChoice | undefined =
      userPreference === 'opt_in' || userPreference === 'opt_out'
        ? {
            preference: userPreference,
            optOutChannels: parseJsonArray(inputs.opt_out_channels).filter((c): c is string => typeof c === 'string'),
          }
        : undefined;
    const resolved = resolveCategory({
      categoryDefault: isCategoryDefault(inputs.default_preference) ? inputs.default_preference : undefined,
      tenant: parseTenantCategorySettings(inputs.tenant_settings),
      user,
    });
    return decideDelivery(resolved, { category, channel, tenantId, isChannelRestricted: Number(inputs.is_restricted) === 1 });
  }
}
