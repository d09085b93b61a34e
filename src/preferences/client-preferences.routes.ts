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

/** The user a preference call acts on, and the options of its query. */
export type PreferenceSubject = (
  request: FastifyRequest<{ Params: IdParams }>,
) => Promise<{ workspaceId: string; distinctId: string; options: PreferenceOptions }>;

/** A user known to the app but not yet to Herald (nothing sent for them yet) has default preferences. */
export async function ensureUser(users: UserService, workspaceId: string, distinctId: string): Promise<void> {
  await users.get(workspaceId, distinctId).catch(async (error: unknown) => {
    if (error instanceof AppError && error.code === 'NOT_FOUND') await users.upsert(workspaceId, distinctId, {});
    else throw error;
  });
}

/**
 * The six preference routes the client SDKs call under `base` (`/v2/subscriber`, or `/v1/subscriber`
 * for the key+secret signed ones), with updates as `update` (PATCH, or POST for the signed ones).
 */
export function registerSubscriberPreferenceRoutes(
  group: FastifyInstance,
  preferences: PreferenceService,
  { base, update, subject }: { base: string; update: 'patch' | 'post'; subject: PreferenceSubject },
): void {
  group.get<{ Params: IdParams }>(`${base}/:id/full_preference`, async (request) => {
    const s = await subject(request);
    return preferences.getPreferences(s.workspaceId, s.distinctId, s.options);
  });

  group.get<{ Params: IdParams }>(`${base}/:id/category`, async (request) => {
    const s = await subject(request);
    return preferences.listCategoryPreferences(s.workspaceId, s.distinctId, {
      ...s.options,
      ...parseLimitOffset(request.query as Query, { limit: 20, max: 1000 }),
    });
  });

  group.get<{ Params: CategoryParams }>(`${base}/:id/category/:category`, async (request) => {
    const s = await subject(request);
    return preferences.getCategoryPreference(s.workspaceId, s.distinctId, request.params.category, s.options);
  });

  group[update]<{ Params: CategoryParams }>(`${base}/:id/category/:category`, async (request) => {
    const s = await subject(request);
    return preferences.updateCategoryPreference(s.workspaceId, s.distinctId, request.params.category, request.body, s.options);
  });

  group.get<{ Params: IdParams }>(`${base}/:id/channel_preference`, async (request) => {
    const s = await subject(request);
    return preferences.getChannelPreferences(s.workspaceId, s.distinctId, { tenantId: s.options.tenantId });
  });

  group[update]<{ Params: IdParams }>(`${base}/:id/channel_preference`, async (request) => {
    const s = await subject(request);
    return preferences.updateChannelPreferences(s.workspaceId, s.distinctId, request.body, s.options);
  });
}

/**
 * `/v2/subscriber/{distinct_id}/…`: the web SDK's preference calls (reference/client-sdk-protocol.md
 * §5.2). The path's user must be the token's user and `tenant_id` inside the token's scope
 * (auth/client-scope.ts); Herald applies the scope to preferences, not only to the inbox.
 */
export function registerClientPreferenceRoutes(group: FastifyInstance, deps: ServiceDeps): void {
  const users = new UserService(deps);
  registerSubscriberPreferenceRoutes(group, new PreferenceService(deps), {
    base: '/v2/subscriber',
    update: 'patch',
    /** The web SDK omits show_opt_out_channels when false, so absent means false here. */
    subject: async (request) => {
      const query = request.query as Query;
      const { principal, distinctId, tenantId } = requireClientSubject(request, request.params.id, query['tenant_id']);
      const options = { ...readPreferenceOptions(query, { showOptOutChannels: false }), tenantId };
      await ensureUser(users, principal.workspaceId, distinctId);
      return { workspaceId: principal.workspaceId, distinctId, options };
    },
  });
}
