import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireClientSubject } from '../auth/client-scope.js';
import { parseLimitOffset } from '../http/pagination.js';
import { AppError } from '../lib/errors.js';
import { UserService, type ServiceDeps } from '../users/users.service.js';
import { readPreferenceOptions } from './preferences.routes.js';
import { PreferenceService, type PreferenceOptions } from './preferences.service.js';

type IdParams = { id: string };
type CategoryParams = { id: string; category: string };
type Query = Record<string, unknown>;

/**
 * `/v2/subscriber/{distinct_id}/…`: the web SDK's preference calls (reference/client-sdk-protocol.md
 * §5.2). The path's user must be the token's user and `tenant_id` inside the token's scope
 * (auth/client-scope.ts); Herald applies the scope to preferences, not only to the inbox.
 */
export function registerClientPreferenceRoutes(group: FastifyInstance, deps: ServiceDeps): void {
  const preferences = new PreferenceService(deps);
  const users = new UserService(deps);

  /** The web SDK omits show_opt_out_channels when false, so absent means false here. */
  const subject = async (
    request: FastifyRequest<{ Params: IdParams }>,
  ): Promise<{ workspaceId: string; distinctId: string; options: PreferenceOptions }> => {
    const query = request.query as Query;
    const { principal, distinctId, tenantId } = requireClientSubject(request, request.params.id, query['tenant_id']);
    const options = { ...readPreferenceOptions(query, { showOptOutChannels: false }), tenantId };
    // A user known to the token but not yet to Herald (no $identify sent from this browser) has default preferences.
    await users.get(principal.workspaceId, distinctId).catch(async (error: unknown) => {
      if (error instanceof AppError && error.code === 'NOT_FOUND') await users.upsert(principal.workspaceId, distinctId, {});
      else throw error;
    });
    return { workspaceId: principal.workspaceId, distinctId, options };
  };

  group.get<{ Params: IdParams }>('/v2/subscriber/:id/full_preference', async (request) => {
    const s = await subject(request);
    return preferences.getPreferences(s.workspaceId, s.distinctId, s.options);
  });

  group.get<{ Params: IdParams }>('/v2/subscriber/:id/category', async (request) => {
    const s = await subject(request);
    return preferences.listCategoryPreferences(s.workspaceId, s.distinctId, {
      ...s.options,
      ...parseLimitOffset(request.query as Query, { limit: 20, max: 1000 }),
    });
  });

  group.get<{ Params: CategoryParams }>('/v2/subscriber/:id/category/:category', async (request) => {
    const s = await subject(request);
    return preferences.getCategoryPreference(s.workspaceId, s.distinctId, request.params.category, s.options);
  });

  group.patch<{ Params: CategoryParams }>('/v2/subscriber/:id/category/:category', async (request) => {
    const s = await subject(request);
    return preferences.updateCategoryPreference(s.workspaceId, s.distinctId, request.params.category, request.body, s.options);
  });

  group.get<{ Params: IdParams }>('/v2/subscriber/:id/channel_preference', async (request) => {
    const s = await subject(request);
    return preferences.getChannelPreferences(s.workspaceId, s.distinctId, { tenantId: s.options.tenantId });
  });

  group.patch<{ Params: IdParams }>('/v2/subscriber/:id/channel_preference', async (request) => {
    const s = await subject(request);
    return preferences.updateChannelPreferences(s.workspaceId, s.distinctId, request.body, s.options);
  });
}
