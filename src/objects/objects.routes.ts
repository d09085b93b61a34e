import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requirePrincipal } from '../auth/authenticate.js';
import { AppError } from '../lib/errors.js';
import type { ServiceDeps } from '../users/users.service.js';
import { checkObjectId, checkObjectType, ObjectService, type PageQuery } from './objects.service.js';

type TypeParams = { type: string };
type ObjectParams = { type: string; id: string };

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;

function queryString(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new AppError('VALIDATION_FAILED', `${name} must be given once`);
  return value;
}

function readPage(request: FastifyRequest): PageQuery {
  const query = request.query as Record<string, unknown>;
  const rawLimit = queryString(query, 'limit');
  let limit = DEFAULT_LIMIT;
  if (rawLimit !== undefined) {
    limit = Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1) throw new AppError('VALIDATION_FAILED', 'limit must be a positive integer');
  }
  return { limit: Math.min(limit, MAX_LIMIT), after: queryString(query, 'after'), before: queryString(query, 'before') };
}

function target(request: FastifyRequest<{ Params: ObjectParams }>): [string, string, string] {
  return [requirePrincipal(request).workspaceId, checkObjectType(request.params.type), checkObjectId(request.params.id)];
}

/** `/v1/object/…` and `/v1/bulk/object/…` (reference/backend-sdk-protocol.md §3b). */
export function registerObjectRoutes(group: FastifyInstance, deps: ServiceDeps): void {
  const objects = new ObjectService(deps);

  group.get<{ Params: TypeParams }>('/v1/object/:type', async (request) =>
    objects.list(requirePrincipal(request).workspaceId, checkObjectType(request.params.type), readPage(request)),
  );

  group.get<{ Params: ObjectParams }>('/v1/object/:type/:id', async (request) => objects.get(...target(request)));

  group.post<{ Params: ObjectParams }>('/v1/object/:type/:id', async (request) => objects.upsert(...target(request), request.body ?? {}));

  group.patch<{ Params: ObjectParams }>('/v1/object/:type/:id', async (request) => objects.edit(...target(request), request.body ?? {}));

  group.delete<{ Params: ObjectParams }>('/v1/object/:type/:id', async (request) => {
    await objects.delete(...target(request));
    return { success: true };
  });

  group.delete<{ Params: TypeParams }>('/v1/bulk/object/:type', async (request) => {
    const deleted = await objects.bulkDelete(requirePrincipal(request).workspaceId, checkObjectType(request.params.type), request.body);
    return { success: true, deleted };
  });

  group.get<{ Params: ObjectParams }>('/v1/object/:type/:id/subscription', async (request) =>
    objects.listSubscriptions(...target(request), readPage(request)),
  );

  group.post<{ Params: ObjectParams }>('/v1/object/:type/:id/subscription', async (request) =>
    objects.addSubscriptions(...target(request), request.body),
  );

  group.delete<{ Params: ObjectParams }>('/v1/object/:type/:id/subscription', async (request) => {
    const deleted = await objects.removeSubscriptions(...target(request), request.body);
    return { success: true, deleted };
  });

  group.get<{ Params: ObjectParams }>('/v1/object/:type/:id/subscribed_to/object', async (request) =>
    objects.subscribedTo(...target(request), readPage(request)),
  );
}
