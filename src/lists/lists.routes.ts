import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requirePrincipal } from '../auth/authenticate.js';
import { parseLimitOffset } from '../http/pagination.js';
import { AppError } from '../lib/errors.js';
import type { ServiceDeps } from '../users/users.service.js';
import { ListService } from './lists.service.js';

type ListParams = { listId: string };
type VersionParams = { listId: string; versionId: string };

const BASE = '/v1/subscriber_list';
const MEMBER_SORTS = ['id', '-id'];

/** `?limit=&after=&before=&sort=` of the member list (SuprSend: default limit 20, sort `-id`). */
function readMemberPage(request: FastifyRequest) {
  const query = request.query as Record<string, unknown>;
  const text = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined || value === '') return undefined;
    if (typeof value !== 'string') throw new AppError('VALIDATION_FAILED', `${name} must be given once`);
    return value;
  };
  const sort = text('sort') ?? '-id';
  if (!MEMBER_SORTS.includes(sort)) throw new AppError('VALIDATION_FAILED', 'sort must be id (ascending) or -id (descending)');
  const { limit } = parseLimitOffset({ limit: query['limit'] }, { limit: 20, max: 1000 });
  return { limit, after: text('after'), before: text('before'), descending: sort === '-id' };
}

/**
 * `/v1/subscriber_list/…` (reference/backend-sdk-protocol.md §3b, §8). Node deletes with
 * `PATCH …/delete/` and body `{}`, Python with `DELETE …/`: both are served.
 */
export function registerListRoutes(group: FastifyInstance, deps: ServiceDeps): void {
  const lists = new ListService(deps);

  group.post(BASE, async (request) => lists.create(requirePrincipal(request).workspaceId, request.body));

  group.get(BASE, async (request) =>
    lists.list(requirePrincipal(request).workspaceId, parseLimitOffset(request.query as Record<string, unknown>, { limit: 20, max: 1000 })),
  );

  group.get<{ Params: ListParams }>(`${BASE}/:listId`, async (request) =>
    lists.get(requirePrincipal(request).workspaceId, request.params.listId),
  );

  group.get<{ Params: ListParams }>(`${BASE}/:listId/subscriber`, async (request) =>
    lists.members(requirePrincipal(request).workspaceId, request.params.listId, readMemberPage(request)),
  );

  group.post<{ Params: ListParams }>(`${BASE}/:listId/subscriber/add`, async (request) =>
    lists.addMembers(requirePrincipal(request).workspaceId, request.params.listId, request.body),
  );

  group.post<{ Params: ListParams }>(`${BASE}/:listId/subscriber/remove`, async (request) =>
    lists.removeMembers(requirePrincipal(request).workspaceId, request.params.listId, request.body),
  );

  const deleteList = async (request: { params: ListParams }, workspaceId: string) => {
    await lists.delete(workspaceId, request.params.listId);
    return { success: true };
  };
  group.patch<{ Params: ListParams }>(`${BASE}/:listId/delete`, async (request) =>
    deleteList(request, requirePrincipal(request).workspaceId),
  );
  group.delete<{ Params: ListParams }>(`${BASE}/:listId`, async (request) => deleteList(request, requirePrincipal(request).workspaceId));

  group.post<{ Params: ListParams }>(`${BASE}/:listId/start_sync`, async (request) =>
    lists.startSync(requirePrincipal(request).workspaceId, request.params.listId),
  );

  group.get<{ Params: VersionParams }>(`${BASE}/:listId/version/:versionId`, async (request) =>
    lists.getVersion(requirePrincipal(request).workspaceId, request.params.listId, request.params.versionId),
  );

  group.post<{ Params: VersionParams }>(`${BASE}/:listId/version/:versionId/subscriber/add`, async (request) =>
    lists.addToVersion(requirePrincipal(request).workspaceId, request.params.listId, request.params.versionId, request.body),
  );

  group.post<{ Params: VersionParams }>(`${BASE}/:listId/version/:versionId/subscriber/remove`, async (request) =>
    lists.removeFromVersion(requirePrincipal(request).workspaceId, request.params.listId, request.params.versionId, request.body),
  );

  group.patch<{ Params: VersionParams }>(`${BASE}/:listId/version/:versionId/finish_sync`, async (request) =>
    lists.finishSync(requirePrincipal(request).workspaceId, request.params.listId, request.params.versionId),
  );

  const deleteVersion = async (request: { params: VersionParams }, workspaceId: string) => {
    await lists.deleteVersion(workspaceId, request.params.listId, request.params.versionId);
    return { success: true };
  };
  group.patch<{ Params: VersionParams }>(`${BASE}/:listId/version/:versionId/delete`, async (request) =>
    deleteVersion(request, requirePrincipal(request).workspaceId),
  );
  group.delete<{ Params: VersionParams }>(`${BASE}/:listId/version/:versionId`, async (request) =>
    deleteVersion(request, requirePrincipal(request).workspaceId),
  );
}
