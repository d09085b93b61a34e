import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requirePrincipal } from '../auth/authenticate.js';
import { parseLimitOffset } from '../http/pagination.js';
import { AppError } from '../lib/errors.js';
import { checkDistinctId, UserService, type ServiceDeps } from '../users/users.service.js';
import { readPreferenceOptions } from './preferences.routes.js';
import { PreferenceService, type PreferenceOptions } from './preferences.service.js';

type IdParams = { id: string };
type CategoryParams = { id: string; category: string };
type Query = Record<string, unknown>;

/**
 * `/v1/subscriber/{distinct_id}/…`: the preference calls of the key+secret signed client SDKs
 * (web-sdk 1.x src/preferences.js, Android 1.x UserPreferenceRemote.kt; client-sdk-protocol.md
 * §9). Reads are GET, updates are POST (not PATCH). The request is signed with the workspace
 * secret, so it may name any user; whether such calls are accepted at all is the workspace's
 * "allow key+secret signed client calls" switch (auth/hmac.ts). Android names the tenant
 * `brandId` and sends empty values for what it leaves out.
 */
export function registerSignedClientPreferenceRoutes(group: FastifyInstance, deps: ServiceDeps): void {
  const preferences = new PreferenceService(deps);
  const users = new UserService(deps);

  group.addHook('onRoute', (route) => {
    route.config = { ...route.config, signedClientRoute: true };
  });

  const subject = async (
    request: FastifyRequest<{ Params: IdParams }>,
  ): Promise<{ workspaceId: string; distinctId: string; options: PreferenceOptions }> => {
    const query = request.query as Query;
    const tenant = query['tenant_id'] === undefined || query['tenant_id'] === '' ? query['brandId'] : query['tenant_id'];
    const options = readPreferenceOptions({ ...query, tenant_id: tenant }, { showOptOutChannels: false });
    const workspaceId = requirePrincipal(request).workspaceId;
    const distinctId = checkDistinctId(request.params.id);
    // As on /v2/subscriber: a user the app knows but Herald does not yet has default preferences.
    await users.get(workspaceId, distinctId).catch(async (error: unknown) => {
      if (error instanceof AppError && error.code === 'NOT_FOUND') await users.upsert(workspaceId, distinctId, {});
      else throw error;
    });
    return { workspaceId, distinctId, options };
  };

  group.get<{ Params: IdParams }>('/v1/subscriber/:id/full_preference', async (request) => {
    const s = await subject(request);
    return preferences.getPreferences(s.workspaceId, s.distinctId, s.options);
  });

  group.get<{ Params: IdParams }>('/v1/subscriber/:id/category', async (request) => {
    const s = await subject(request);
    return preferences.listCategoryPreferences(s.workspaceId, s.distinctId, {
      ...s.options,
      ...parseLimitOffset(request.query as Query, { limit: 20, max: 1000 }),
    });
  });

  group.get<{ Params: CategoryParams }>('/v1/subscriber/:id/category/:category', async (request) => {
    const s = await subject(request);
    return preferences.getCategoryPreference(s.workspaceId, s.distinctId, request.params.category, s.options);
  });

  group.post<{ Params: CategoryParams }>('/v1/subscriber/:id/category/:category', async (request) => {
    const s = await subject(request);
    return preferences.updateCategoryPreference(s.workspaceId, s.distinctId, request.params.category, request.body, s.options);
  });

  group.get<{ Params: IdParams }>('/v1/subscriber/:id/channel_preference', async (request) => {
    const s = await subject(request);
    return preferences.getChannelPreferences(s.workspaceId, s.distinctId, { tenantId: s.options.tenantId });
  });

  group.post<{ Params: IdParams }>('/v1/subscriber/:id/channel_preference', async (request) => {
    const s = await subject(request);
    return preferences.updateChannelPreferences(s.workspaceId, s.distinctId, request.body, s.options);
  });
}
