import type { FastifyInstance } from 'fastify';
import { requirePrincipal } from '../auth/authenticate.js';
import { AppError } from '../lib/errors.js';
import { isPlainObject } from '../lib/json.js';
import { checkDistinctId, UserService, type ServiceDeps } from './users.service.js';

type IdParams = { id: string };

function readLimit(query: Record<string, unknown>, fallback: number, max: number): number {
  const raw = query['limit'];
  if (raw === undefined || raw === '') return fallback;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1) throw new AppError('VALIDATION_FAILED', 'limit must be a positive integer');
  return Math.min(limit, max);
}

function optionalString(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `/v1/user/…` and `/v1/bulk/user/` (reference/backend-sdk-protocol.md §3b). */
export function registerUserRoutes(group: FastifyInstance, deps: ServiceDeps): void {
  const users = new UserService(deps);

  group.get('/v1/user', async (request) => {
    const query = request.query as Record<string, unknown>;
    return users.list(requirePrincipal(request).workspaceId, {
      limit: readLimit(query, 20, 1000),
      after: optionalString(query, 'after'),
      before: optionalString(query, 'before'),
    });
  });

  group.get<{ Params: IdParams }>('/v1/user/:id', async (request) =>
    users.get(requirePrincipal(request).workspaceId, checkDistinctId(request.params.id)),
  );

  group.post<{ Params: IdParams }>('/v1/user/:id', async (request) =>
    users.upsert(requirePrincipal(request).workspaceId, checkDistinctId(request.params.id), request.body ?? {}),
  );

  group.patch<{ Params: IdParams }>('/v1/user/:id', async (request) =>
    users.edit(requirePrincipal(request).workspaceId, checkDistinctId(request.params.id), request.body ?? {}),
  );

  group.post<{ Params: IdParams }>('/v1/user/:id/merge', async (request) => {
    const body = request.body;
    const from = isPlainObject(body) ? body['from_user_id'] : undefined;
    return users.merge(requirePrincipal(request).workspaceId, checkDistinctId(request.params.id), checkDistinctId(from, 'from_user_id'));
  });

  group.delete<{ Params: IdParams }>('/v1/user/:id', async (request) => {
    await users.delete(requirePrincipal(request).workspaceId, checkDistinctId(request.params.id));
    return { success: true };
  });

  group.delete('/v1/bulk/user', async (request) => {
    const deleted = await users.bulkDelete(requirePrincipal(request).workspaceId, request.body);
    return { success: true, deleted };
  });

  group.get<{ Params: IdParams }>('/v1/user/:id/subscribed_to/list', async (request) => {
    const query = request.query as Record<string, unknown>;
    return users.subscribedLists(requirePrincipal(request).workspaceId, checkDistinctId(request.params.id), {
      limit: readLimit(query, 20, 1000),
      after: optionalString(query, 'after'),
    });
  });

  group.get<{ Params: IdParams }>('/v1/user/:id/subscribed_to/object', async (request) => {
    const query = request.query as Record<string, unknown>;
    return users.subscribedObjects(requirePrincipal(request).workspaceId, checkDistinctId(request.params.id), {
      limit: readLimit(query, 20, 1000),
    });
  });
}
