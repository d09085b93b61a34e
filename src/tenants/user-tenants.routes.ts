import type { FastifyInstance } from 'fastify';
import { requirePrincipal } from '../auth/authenticate.js';
import { parseLimitOffset } from '../http/pagination.js';
import { checkDistinctId, type ServiceDeps } from '../users/users.service.js';
import { UserTenantService } from './user-tenants.service.js';

type IdParams = { id: string };
type LinkParams = { id: string; tenantId: string };

/** `/v1/user/{id}/associated_tenant/` and `/v1/user/{id}/tenant/{tenant_id}/` (backend-sdk-protocol.md §8, Python SDK). */
export function registerUserTenantRoutes(group: FastifyInstance, deps: ServiceDeps): void {
  const links = new UserTenantService(deps);

  group.get<{ Params: IdParams }>('/v1/user/:id/associated_tenant', async (request) =>
    links.list(
      requirePrincipal(request).workspaceId,
      checkDistinctId(request.params.id),
      parseLimitOffset(request.query as Record<string, unknown>, { limit: 20, max: 1000 }),
    ),
  );

  group.get<{ Params: LinkParams }>('/v1/user/:id/tenant/:tenantId', async (request) =>
    links.get(
      requirePrincipal(request).workspaceId,
      checkDistinctId(request.params.id),
      checkDistinctId(request.params.tenantId, 'tenant_id'),
    ),
  );

  group.post<{ Params: LinkParams }>('/v1/user/:id/tenant/:tenantId', async (request) =>
    links.upsert(
      requirePrincipal(request).workspaceId,
      checkDistinctId(request.params.id),
      checkDistinctId(request.params.tenantId, 'tenant_id'),
      request.body,
    ),
  );

  group.patch<{ Params: LinkParams }>('/v1/user/:id/tenant/:tenantId', async (request) =>
    links.editUser(
      requirePrincipal(request).workspaceId,
      checkDistinctId(request.params.id),
      checkDistinctId(request.params.tenantId, 'tenant_id'),
      request.body,
    ),
  );

  group.delete<{ Params: LinkParams }>('/v1/user/:id/tenant/:tenantId', async (request) => {
    await links.remove(
      requirePrincipal(request).workspaceId,
      checkDistinctId(request.params.id),
      checkDistinctId(request.params.tenantId, 'tenant_id'),
    );
    return { success: true };
  });
}
