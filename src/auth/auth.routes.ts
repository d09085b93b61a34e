import type { FastifyInstance } from 'fastify';
import { requirePrincipal } from './authenticate.js';

/**
 * `GET /v1/auth/whoami`: tells a caller which workspace and credential a request authenticated
 * as. Accepts every scheme, so it is the first thing to try when wiring up an SDK or a key.
 */
export function registerAuthRoutes(group: FastifyInstance): void {
  // POST too, so a client can check that its signing covers request bodies.
  group.route({
    method: ['GET', 'POST'],
    url: '/v1/auth/whoami',
    handler: async (request) => {
      const principal = requirePrincipal(request);
      return {
        workspace: principal.workspaceSlug,
        credential: {
          type: principal.kind,
          id: principal.credentialId,
          // What an API key may call (src/auth/api-key-scope.ts).
          ...(principal.apiKeyScope ? { scope: principal.apiKeyScope.scope, route_groups: principal.apiKeyScope.groups } : {}),
        },
        subscriber:
          principal.subscriberId === null
            ? null
            : { distinct_id: principal.subscriberId, tenant_ids: principal.tenantScope, signing_key_id: principal.signingKeyId },
      };
    },
  });
}
