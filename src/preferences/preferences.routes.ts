import type { FastifyInstance } from 'fastify';
import { requirePrincipal } from '../auth/authenticate.js';
import { DEFAULT_TENANT } from '../auth/user-token.js';
import { parseLimitOffset } from '../http/pagination.js';
import { AppError } from '../lib/errors.js';
import { checkDistinctId, type ServiceDeps } from '../users/users.service.js';
import { PreferenceService, type PreferenceOptions } from './preferences.service.js';

type IdParams = { id: string };
type CategoryParams = { id: string; category: string };
type Query = Record<string, unknown>;

function firstValue(value: unknown): unknown {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * `?tenant_id=&show_opt_out_channels=` as the Python SDK sends them (booleans as "true"/"false").
 * `tags` and `locale` are accepted and ignored: categories have no tags or translations yet.
 * Without show_opt_out_channels, channels of opted-out categories are shown (SuprSend's default);
 * the web SDK drops the parameter when false, so its route must pass false explicitly.
 */
export function readPreferenceOptions(
  query: Query,
  defaults: { showOptOutChannels: boolean } = { showOptOutChannels: true },
): PreferenceOptions {
  const tenant = firstValue(query['tenant_id']);
  const tenantId = tenant === undefined || tenant === '' ? DEFAULT_TENANT : checkDistinctId(tenant, 'tenant_id');
  const show = firstValue(query['show_opt_out_channels']);
  let showOptOutChannels = defaults.showOptOutChannels;
  if (show !== undefined && show !== '') {
    const text = String(show).toLowerCase();
    if (text !== 'true' && text !== 'false' && text !== '1' && text !== '0') {
      throw new AppError('VALIDATION_FAILED', 'show_opt_out_channels must be true or false');
    }
    showOptOutChannels = text === 'true' || text === '1';
  }
  return { tenantId, showOptOutChannels };
}

function checkCategorySlug(value: string): string {
  const slug = value.trim();
  if (slug === '') throw new AppError('VALIDATION_FAILED', 'category must be a non-empty slug');
  return slug;
}

/** `/v1/user/{id}/preference/…` (reference/backend-sdk-protocol.md §8, Python and Go SDKs). */
export function registerPreferenceRoutes(group: FastifyInstance, deps: ServiceDeps): void {
  const preferences = new PreferenceService(deps);

  group.get<{ Params: IdParams }>('/v1/user/:id/preference', async (request) =>
    preferences.getPreferences(
      requirePrincipal(request).workspaceId,
      checkDistinctId(request.params.id),
      readPreferenceOptions(request.query as Query),
    ),
  );

  group.get<{ Params: IdParams }>('/v1/user/:id/preference/channel_preference', async (request) =>
    preferences.getChannelPreferences(
      requirePrincipal(request).workspaceId,
      checkDistinctId(request.params.id),
      readPreferenceOptions(request.query as Query),
    ),
  );

  group.patch<{ Params: IdParams }>('/v1/user/:id/preference/channel_preference', async (request) =>
    preferences.updateChannelPreferences(
      requirePrincipal(request).workspaceId,
      checkDistinctId(request.params.id),
      request.body,
      readPreferenceOptions(request.query as Query),
    ),
  );

  group.get<{ Params: IdParams }>('/v1/user/:id/preference/category', async (request) => {
    const query = request.query as Query;
    return preferences.listCategoryPreferences(requirePrincipal(request).workspaceId, checkDistinctId(request.params.id), {
      ...readPreferenceOptions(query),
      ...parseLimitOffset(query, { limit: 20, max: 1000 }),
    });
  });

  group.get<{ Params: CategoryParams }>('/v1/user/:id/preference/category/:category', async (request) =>
    preferences.getCategoryPreference(
      requirePrincipal(request).workspaceId,
      checkDistinctId(request.params.id),
      checkCategorySlug(request.params.category),
      readPreferenceOptions(request.query as Query),
    ),
  );

  group.patch<{ Params: CategoryParams }>('/v1/user/:id/preference/category/:category', async (request) =>
    preferences.updateCategoryPreference(
      requirePrincipal(request).workspaceId,
      checkDistinctId(request.params.id),
      checkCategorySlug(request.params.category),
      request.body,
      readPreferenceOptions(request.query as Query),
    ),
  );
}
