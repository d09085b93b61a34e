import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type RouteOptions } from 'fastify';
import type { Logger } from 'pino';
import { registerAdminApiRoutes } from './admin/admin-api.routes.js';
import { adminGroup, createAdminGroupDeps, registerAdminLifecycle } from './admin/admin-group.js';
import { registerAdminIdentityRoutes } from './admin/identity.routes.js';
import { registerAuthRoutes } from './auth/auth.routes.js';
import { apiRouteGroup } from './auth/api-key-scope.js';
import { routeGroup, type AuthDeps } from './auth/authenticate.js';
import { ChangeFeed } from './auth/change-feed.js';
import { CredentialCache } from './auth/credential-cache.js';
import { UserTokenVerifier } from './auth/user-token.js';
import { registerDashboardRoutes } from './dashboard/dashboard.routes.js';
import { registerDemoRoutes } from './demo/demo.routes.js';
import { registerHealthRoutes } from './health/health.routes.js';
import { registerOpenApiRoute } from './openapi/openapi.js';
import { RateLimits } from './http/rate-limits.js';
import { FeedCache } from './inbox/feed-cache.js';
import { forgetCachedWorkflows } from './workflows/workflows.service.js';
import { Metrics, registerMetrics } from './metrics/metrics.js';
import { registerInboxRoutes } from './inbox/inbox.routes.js';
import { registerCors } from './http/cors.js';
import { registerErrorHandling, sendFrameworkError } from './http/error-handler.js';
import { registerInputTextCheck, registerRawJsonParser } from './http/raw-body.js';
import { registerRequestLog } from './request-log/request-log.hook.js';
import { newSequentialId } from './lib/ids.js';
import { registerMessageRoutes } from './messages/messages.routes.js';
import { registerObjectRoutes } from './objects/objects.routes.js';
import { registerUserRoutes } from './users/users.routes.js';
import { registerTenantRoutes } from './tenants/tenants.routes.js';
import { registerListRoutes } from './lists/lists.routes.js';
import { RetentionSweeper } from './maintenance/retention.js';
import { createPipeline } from './delivery/pipeline.js';
import { createSocketServer } from './realtime/socket-server.js';
import { registerIngestRoutes, registerSharedEventRoute } from './ingest/ingest.routes.js';
import { registerCancelRoutes } from './ingest/cancel.routes.js';
import { CancellationService } from './delivery/cancellation.service.js';
import { PreferenceService } from './preferences/preferences.service.js';
import { registerClientPreferenceRoutes } from './preferences/client-preferences.routes.js';
import { ListService } from './lists/lists.service.js';
import { registerPreferenceRoutes } from './preferences/preferences.routes.js';
import { registerSignedClientPreferenceRoutes } from './preferences/signed-client-preferences.routes.js';
import { registerUserTenantRoutes } from './tenants/user-tenants.routes.js';
import type { Herald } from './runtime.js';

const API_KEY_USE_FLUSH_MS = 10_000;
const MAX_PATH_PARAM_BYTES = 512 * 12;

export interface AppDeps {
  herald: Herald;
  logger: Logger;
  /**
   * Sees every route as it registers, before any other onRoute hook (tests build their route
   * tables from it). Route groups fill in `config` afterwards: read it once the app is ready.
   */
  onRoute?: (route: RouteOptions) => void;
}

/** Builds the HTTP app without listening (tests drive it with inject() or listen on port 0). */
export function buildApp({ herald, logger, onRoute }: AppDeps): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: herald.config.bodyLimitBytes,
    // Behind a load balancer: request.ip (login throttle, audit log) is the client it forwarded for.
    trustProxy:
      typeof herald.config.trustProxy === 'number'
        ? (
            (hops: number) => (_address: string, hop: number) =>
              hop < hops
          )(herald.config.trustProxy)
        : herald.config.trustProxy,
    genReqId: () => newSequentialId('request'),
    // Two info lines per request cost more than the rest of a cached read; LOG_LEVEL=debug brings them back.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    // The SDKs call both `/v1/user/` and `/v1/user`. Path ids (distinct_id up to 512 characters,
    // object ids up to 256) arrive percent-encoded, up to 12 bytes per character; the router's
    // default 100-byte cap would answer 414 for ids the services accept.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: MAX_PATH_PARAM_BYTES },
    // Bad percent-encoding and over-long path parameters: the SuprSend error envelope like every other error.
    frameworkErrors: sendFrameworkError,
  });
  if (onRoute) app.addHook('onRoute', onRoute);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  if (logger.isLevelEnabled('debug')) {
    app.addHook('onRequest', async (request) => request.log.debug({ req: request }, 'incoming request'));
    app.addHook('onResponse', async (request, reply) =>
      request.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed'),
    );
  }

  registerRawJsonParser(app);
  registerInputTextCheck(app);
  registerErrorHandling(app);
  registerCors(app);

  const now = () => herald.clock.now();
  registerRequestLog(app, herald.requestLog, now, logger);
  const cache = new CredentialCache(herald);
  const tokens = new UserTokenVerifier(now);
  cache.onInvalidate(() => tokens.clear());
  // The in-app feed socket shares the HTTP server, which exists before listen().
  const realtime = createSocketServer(app.server, {
    auth: { cache, tokens },
    onCredentialsChanged: (listener) => cache.onInvalidate(listener),
    redisUrl: herald.config.redisUrl,
    installationId: () => herald.workspaces.organisationId(),
    logger,
  });
  // Redis first: deliveries that start in the next onReady hook must already reach other processes.
  app.addHook('onReady', async () => {
    await realtime.start();
  });
  // Before the HTTP server closes: it would otherwise wait for every open socket.
  app.addHook('preClose', async () => realtime.disconnectAll());
  app.addHook('onClose', async () => {
    await realtime.close();
  });
  const feed = new ChangeFeed(
    herald.db,
    herald.clock,
    herald.config.invalidationPollMs,
    () => {
      cache.invalidateAll();
      forgetCachedWorkflows();
    },
    logger,
  );
  let flushTimer: NodeJS.Timeout | undefined;
  const preferences = new PreferenceService(herald);
  const lists = new ListService(herald);
  const pipeline = createPipeline(herald, logger, {
    gate: (db, workspaceId, distinctId, tenantId, category, channel) =>
      preferences.shouldDeliver(workspaceId, distinctId, tenantId, category, channel, db),
    lists,
  });
  pipeline.onNotifications.push((items) => {
    for (const item of items) {
      realtime.emit({ workspaceId: item.workspaceId, distinctId: item.distinctId, tenantId: item.tenantId }, 'new_notification', {
        n_id: item.notificationId,
      });
    }
  });

  const feedCache = new FeedCache(herald.config.feedCacheBytes);
  const metrics = new Metrics({
    db: herald.db,
    connectedClients: () => realtime.connectedClients(),
    realtimeDroppedEvents: () => realtime.health().droppedEvents,
    feedCache: () => feedCache.stats(),
    logger,
  });
  pipeline.onNotifications.push((items) => metrics.delivered('inbox', items.length));
  pipeline.onWebhooksQueued.push((count) => metrics.delivered('webhook', count));
  const retention = new RetentionSweeper(
    herald.db,
    herald.engine,
    herald.clock,
    { retentionMs: herald.config.retentionMs, auditRetentionMs: herald.config.auditRetentionMs },
    logger,
  );
  app.addHook('onReady', async () => {
    await feed.start();
    pipeline.start();
    retention.start();
    flushTimer = setInterval(() => {
      herald.apiKeys.flushUses().catch((error: unknown) => logger.warn({ err: error }, 'could not record API key last use'));
    }, API_KEY_USE_FLUSH_MS);
    flushTimer.unref();
  });
  app.addHook('onClose', async () => {
    if (flushTimer) clearInterval(flushTimer);
    await feed.stop();
    await retention.stop();
    await pipeline.stop();
    await herald.apiKeys.flushUses();
  });

  const limits = new RateLimits({ ...herald.config.rateLimits, redisUrl: herald.config.redisUrl });
  limits.register(app, logger);
  const auth: AuthDeps = {
    limits,
    cache,
    tokens,
    now,
    hmacMaxSkewMs: herald.config.hmacMaxSkewMs,
    hmacMaxFutureSkewMs: herald.config.hmacMaxFutureSkewMs,
    noteApiKeyUse: (id, at) => herald.apiKeys.noteUse(id, at),
  };

  registerHealthRoutes(app, herald.db, herald.engine, realtime);
  registerMetrics(app, metrics, herald.config.metricsToken);
  registerDemoRoutes(app);
  registerDashboardRoutes(app);
  registerOpenApiRoute(app);
  // Routes both surfaces share; each handler looks at the principal's kind.
  routeGroup(app, ['hmac', 'api_key', 'public_key'], auth, (group) => {
    apiRouteGroup(group, 'auth', (routes) => registerAuthRoutes(routes));
    apiRouteGroup(group, 'ingest', (routes) => registerSharedEventRoute(routes, { events: pipeline.events }));
  });
  // The client surface: browser and mobile SDKs (public key + user token).
  routeGroup(app, ['public_key'], auth, (group) => {
    registerClientPreferenceRoutes(group, herald);
    registerInboxRoutes(group, herald, realtime, feedCache);
  });
  // Legacy client SDKs signed with the workspace key + secret (web-sdk 1.x, Android 1.x): their
  // preference routes. Their events go to the backend /event/ route with the same signature.
  routeGroup(app, ['hmac'], auth, (group) => registerSignedClientPreferenceRoutes(group, herald));
  // The backend surface: what the SuprSend server SDKs and plain REST callers use.
  // Each in the route group an API key's scope names (src/auth/api-key-scope.ts).
  routeGroup(app, ['hmac', 'api_key'], auth, (group) => {
    apiRouteGroup(group, 'users', (routes) => {
      registerUserRoutes(routes, herald);
      registerUserTenantRoutes(routes, herald);
    });
    apiRouteGroup(group, 'tenants', (routes) => registerTenantRoutes(routes, herald));
    apiRouteGroup(group, 'lists', (routes) => registerListRoutes(routes, herald));
    apiRouteGroup(group, 'preferences', (routes) => registerPreferenceRoutes(routes, herald));
    apiRouteGroup(group, 'ingest', (routes) =>
      registerIngestRoutes(routes, {
        delivery: pipeline.delivery,
        events: pipeline.events,
        listExists: (workspaceId, listId) => lists.exists(workspaceId, listId),
        now: () => herald.clock.now(),
      }),
    );
    apiRouteGroup(group, 'ingest', (routes) => registerCancelRoutes(routes, new CancellationService(herald)));
    apiRouteGroup(group, 'objects', (routes) => registerObjectRoutes(routes, herald));
    apiRouteGroup(group, 'messages', (routes) => registerMessageRoutes(routes, herald));
  });
  // The admin API (dashboard sessions, service tokens): every /admin/api/ route goes through adminGroup.
  const admin = createAdminGroupDeps(herald);
  registerAdminLifecycle(app, admin);
  adminGroup(app, admin, (group) => {
    // A credential or setting changed through this process applies here before the answer goes
    // out; other processes pick it up from the change feed within a poll interval.
    group.addHook('onSend', async (request, reply) => {
      if (request.method === 'GET' || request.method === 'HEAD' || reply.statusCode >= 400) return;
      await feed.catchUp().catch((error: unknown) => request.log.warn({ err: error }, 'could not read the change feed after a change'));
    });
    registerAdminIdentityRoutes(group, admin);
    registerAdminApiRoutes(group, { herald, delivery: pipeline.delivery });
  });
  return app;
}
