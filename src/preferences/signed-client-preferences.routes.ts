import type { FastifyInstance } from 'fastify';
import { requirePrincipal } from '../auth/authenticate.js';
import { checkDistinctId, UserService, type ServiceDeps } from '../users/users.service.js';
import { ensureUser, registerSubscriberPreferenceRoutes } from './client-preferences.routes.js';
import { readPreferenceOptions } from './preferences.routes.js';
import { PreferenceService } from './preferences.service.js';

/**
 * `/v1/subscriber/{distinct_id}/…`: the preference calls of the key+secret signed client SDKs
 * (web-sdk 1.x src/preferences.js, Android 1.x UserPreferenceRemote.kt; client-sdk-protocol.md
 * §9). Reads are GET, updates are POST (not PATCH). The request is signed with the workspace
 * secret, so it may name any user; whether such calls are accepted at all is the workspace's
 * "allow key+secret signed client calls" switch (auth/hmac.ts). Android names the tenant
 * `brandId` and sends empty values for what it leaves out.
 */
export function registerSignedClientPreferenceRoutes(group: FastifyInstance, deps: ServiceDeps): void {
  const users = new UserService(deps);
  group.addHook('onRoute', (route) => {
    route.config = { ...route.config, signedClientRoute: true };
  });
  registerSubscriberPreferenceRoutes(group, new PreferenceService(deps), {
    base: '/v1/subscriber',
    update: 'post',
    subject: async (request) => {
      const query = request.query as Record<string, unknown>;
      const tenant = query['tenant_id'] === undefined || query['tenant_id'] === '' ? query['brandId'] : query['tenant_id'];
      const options = readPreferenceOptions({ ...query, tenant_id: tenant }, { showOptOutChannels: false });
      const workspaceId = requirePrincipal(request).workspaceId;
      const distinctId = checkDistinctId(request.params.id);
      await ensureUser(users, workspaceId, distinctId);
      return { workspaceId, distinctId, options };
    },
  });
}
