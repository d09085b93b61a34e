import type { FastifyInstance } from 'fastify';
import { requirePrincipal } from '../auth/authenticate.js';
import { parseLimitOffset } from '../http/pagination.js';
import type { JsonObject } from '../lib/json.js';
import type { ServiceDeps } from '../users/users.service.js';
import { fromBrandPayload, TenantService, toBrandView, type TenantView } from './tenants.service.js';

type IdParams = { id: string };
type CategoryParams = { id: string; category: string };

const PAGE_DEFAULTS = { limit: 20, max: 1000 };

/**
 * `/v1/tenant/…` and its older alias `/v1/brand/…` (reference/backend-sdk-protocol.md §3b, §8).
 * The brand routes read and write the same records, shown under brand_id / brand_name.
 */
export function registerTenantRoutes(group: FastifyInstance, deps: ServiceDeps): void {
  const tenants = new TenantService(deps);

  const styles = [
    { base: '/v1/tenant', view: (v: TenantView): JsonObject => v, payload: (body: unknown) => body },
    { base: '/v1/brand', view: toBrandView, payload: fromBrandPayload },
  ];
  for (const style of styles) {
    group.get(style.base, async (request) => {
      const page = parseLimitOffset(request.query as Record<string, unknown>, PAGE_DEFAULTS);
      const { meta, results } = await tenants.list(requirePrincipal(request).workspaceId, page);
      return { meta, results: results.map(style.view) };
    });

    group.get<{ Params: IdParams }>(`${style.base}/:id`, async (request) =>
      style.view(await tenants.get(requirePrincipal(request).workspaceId, request.params.id)),
    );

    group.post<{ Params: IdParams }>(`${style.base}/:id`, async (request) =>
      style.view(await tenants.upsert(requirePrincipal(request).workspaceId, request.params.id, style.payload(request.body ?? {}))),
    );

    group.delete<{ Params: IdParams }>(`${style.base}/:id`, async (request) => {
      await tenants.delete(requirePrincipal(request).workspaceId, request.params.id);
      return { success: true };
    });
  }

  const listCategories = async (request: { params: IdParams; query: unknown }, workspaceId: string) =>
    tenants.listCategories(workspaceId, request.params.id, parseLimitOffset(request.query as Record<string, unknown>, PAGE_DEFAULTS));

  group.get<{ Params: IdParams }>('/v1/tenant/:id/preference/category', async (request) =>
    listCategories(request, requirePrincipal(request).workspaceId),
  );

  // The Go SDK's GetAllCategoriesPreference calls this shorter path.
  group.get<{ Params: IdParams }>('/v1/tenant/:id/category', async (request) =>
    listCategories(request, requirePrincipal(request).workspaceId),
  );

  group.get<{ Params: CategoryParams }>('/v1/tenant/:id/preference/category/:category', async (request) =>
    tenants.getCategory(requirePrincipal(request).workspaceId, request.params.id, request.params.category),
  );

  group.patch<{ Params: CategoryParams }>('/v1/tenant/:id/preference/category/:category', async (request) =>
    tenants.updateCategory(requirePrincipal(request).workspaceId, request.params.id, request.params.category, request.body ?? {}),
  );
}
