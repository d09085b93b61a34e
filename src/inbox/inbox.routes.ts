import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireClientSubject } from '../auth/client-scope.js';
import { AppError } from '../lib/errors.js';
import type { RealtimeNotifier } from '../realtime/realtime.js';
import type { ServiceDeps } from '../users/users.service.js';
import type { FeedCache } from './feed-cache.js';
import type { FeedScope } from './inbox.repo.js';
import { InboxService, readNotificationIds, type FeedAction } from './inbox.service.js';
import { parseFeedPosition, parsePageSize, parseStoreParam, parseStoresParam } from './store-filter.js';

type Query = Record<string, unknown>;

// Pages and counts are sent as the JSON text the feed cache holds.
const JSON_TYPE = 'application/json; charset=utf-8';
type IdParams = { id: string };

/** The path verb of each single-notification action (web-sdk feed.ts markAs…). */
const ACTIONS: ReadonlyArray<readonly [string, FeedAction]> = [
  ['seen', 'seen'],
  ['read', 'read'],
  ['unread', 'unread'],
  ['interacted', 'interacted'],
  ['archive', 'archive'],
];

function stringParam(query: Query, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new AppError('VALIDATION_FAILED', `${name} must be given once`);
  return value;
}

/**
 * The user and tenant a feed call acts on: query `distinct_id` / `tenant_id` (default `default`),
 * held to the user token's user and tenant scope (403 otherwise) by requireClientSubject.
 */
function feedScope(request: FastifyRequest): FeedScope {
  const query = request.query as Query;
  const { principal, distinctId, tenantId } = requireClientSubject(request, query['distinct_id'], query['tenant_id']);
  return { workspaceId: principal.workspaceId, distinctId, tenantId };
}

/**
 * `/v1/feed/…`, the in-app feed of web-sdk 4.x (reference/client-sdk-protocol.md §5.3). Every
 * response is a JSON body without a top-level `status`: the SDK takes `body.status`, when present,
 * as the outcome of the call (§4).
 */
export function registerInboxRoutes(group: FastifyInstance, deps: ServiceDeps, realtime: RealtimeNotifier, cache: FeedCache): void {
  const inbox = new InboxService(deps, realtime, cache);

  group.get('/v1/feed/notifications', async (request, reply) => {
    const scope = feedScope(request);
    const query = request.query as Query;
    reply.type(JSON_TYPE);
    return inbox.listJson(scope, {
      store: parseStoreParam(stringParam(query, 'store')),
      pageSize: parsePageSize(stringParam(query, 'page_size')),
      position: parseFeedPosition({
        search_after: stringParam(query, 'search_after'),
        page_no: stringParam(query, 'page_no'),
        before: stringParam(query, 'before'),
      }),
    });
  });

  group.get('/v1/feed/notifications_count', async (request, reply) => {
    const scope = feedScope(request);
    reply.type(JSON_TYPE);
    return inbox.countsJson(scope, parseStoresParam(stringParam(request.query as Query, 'stores')));
  });

  group.get<{ Params: IdParams }>('/v1/feed/notifications/:id', async (request) => inbox.get(feedScope(request), request.params.id));

  for (const [verb, action] of ACTIONS) {
    group.patch<{ Params: IdParams }>(`/v1/feed/notifications/:id/${verb}`, async (request) =>
      inbox.act(feedScope(request), request.params.id, action),
    );
  }

  group.post('/v1/feed/bulk/notifications/seen', async (request) => {
    const scope = feedScope(request);
    return inbox.markBulkSeen(scope, readNotificationIds(request.body));
  });

  group.patch('/v1/feed/reset_bell_count', async (request) => inbox.resetBadge(feedScope(request)));

  group.patch('/v1/feed/mark_all_read', async (request) => inbox.markAllRead(feedScope(request)));
}
