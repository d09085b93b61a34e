import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/schema.js';
import { sha256Hex } from '../lib/crypto.js';
import { AppError } from '../lib/errors.js';
import { logAtMostEvery } from '../lib/log-throttle.js';

/**
 * Prometheus metrics of one process at `GET /metrics` (text exposition format), from prom-client:
 * HTTP requests by route pattern and status, auth rejections by code, deliveries by channel, the
 * background queues' depth, connected sockets, the feed cache, and Node's process metrics. Labels
 * are route patterns and fixed codes, never ids or paths, so the number of series stays bounded
 * and no workspace's data shows. With HERALD_METRICS_TOKEN set, scrapes must send it as a bearer token.
 */

export interface MetricsSources {
  db: Kysely<Database>;
  connectedClients(): number;
  realtimeDroppedEvents(): number;
  feedCache(): { hits: number; misses: number; entries: number; bytes: number };
  logger: Pick<Logger, 'warn'>;
}

type QueueRow = { status: string; n: number | string | bigint };

const QUEUE_ERROR_LOG_INTERVAL_MS = 60_000;

export class Metrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'method' | 'route' | 'status'>;
  readonly #duration: Histogram<'method' | 'route'>;
  readonly #rejections: Counter<'code'>;
  readonly #deliveries: Counter<'channel'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'herald_' });
    this.#requests = new Counter({
      name: 'herald_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status code.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'herald_http_request_duration_seconds',
      help: 'Time from the request arriving to the response being sent, by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers,
    });
    this.#rejections = new Counter({
      name: 'herald_auth_rejections_total',
      help: 'Requests refused by authentication or authorization, by reason code (UNAUTHENTICATED, TOKEN_EXPIRED, …).',
      labelNames: ['code'],
      registers,
    });
    this.#deliveries = new Counter({
      name: 'herald_deliveries_total',
      help: 'Messages committed for delivery, by channel (inbox: stored in the feed; webhook: queued for sending).',
      labelNames: ['channel'],
      registers,
    });
    const shouldLog = logAtMostEvery(QUEUE_ERROR_LOG_INTERVAL_MS);
    const queueGauge = (name: string, help: string, table: 'jobs' | 'webhook_outbox', statuses: string[]) =>
      new Gauge({
        name,
        help,
        labelNames: ['status'],
        registers,
        async collect() {
          try {
            const rows = (await sources.db
              .selectFrom(table)
              .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
              .where(sql<boolean>`status in (${sql.join(statuses)})`)
              .groupBy('status')
              .execute()) as QueueRow[];
            for (const status of statuses) this.set({ status }, Number(rows.find((row) => row.status === status)?.n ?? 0));
          } catch (error) {
            // A scrape while the database is away shows the last known depth; the log says why.
            if (shouldLog().log) sources.logger.warn({ reason: (error as Error).message }, `metrics: could not count ${table}`);
          }
        },
      });
    queueGauge('herald_jobs', 'Background jobs (delayed triggers, broadcasts) waiting or running.', 'jobs', ['pending', 'running']);
    queueGauge('herald_webhook_outbox', 'Webhook deliveries waiting to be sent or retried.', 'webhook_outbox', ['pending']);
    new Gauge({
      name: 'herald_realtime_connected_clients',
      help: 'Realtime (socket.io) clients connected to this process.',
      registers,
      collect() {
        this.set(sources.connectedClients());
      },
    });
    new Gauge({
      name: 'herald_realtime_dropped_events',
      help: 'Realtime events for other processes dropped while Redis was unreachable, since start.',
      registers,
      collect() {
        this.set(sources.realtimeDroppedEvents());
      },
    });
    const cacheGauge = (name: string, help: string, pick: (stats: ReturnType<MetricsSources['feedCache']>) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(pick(sources.feedCache()));
        },
      });
    cacheGauge('herald_feed_cache_hits', 'Feed pages and counts served from the feed cache, since start.', (s) => s.hits);
    cacheGauge(
      'herald_feed_cache_misses',
      'Feed pages and counts built because the cache had no current copy, since start.',
      (s) => s.misses,
    );
    cacheGauge('herald_feed_cache_bytes', 'Memory held by the feed cache (estimate).', (s) => s.bytes);
  }

  /** One finished request. `route` is the route pattern, or null when no route matched. */
  observe(request: FastifyRequest, reply: FastifyReply): void {
    const route = request.is404 ? '(unmatched)' : (request.routeOptions.url ?? '(unmatched)');
    const method = request.method;
    this.#requests.inc({ method, route, status: String(reply.statusCode) });
    this.#duration.observe({ method, route }, reply.elapsedTime / 1000);
    const code = request.rejection?.code;
    if (code !== undefined && (reply.statusCode === 401 || reply.statusCode === 403)) this.#rejections.inc({ code });
  }

  delivered(channel: 'inbox' | 'webhook', count: number): void {
    if (count > 0) this.#deliveries.inc({ channel }, count);
  }
}

/** `GET /metrics`, and the hook that counts every request. */
export function registerMetrics(app: FastifyInstance, metrics: Metrics, token: string | undefined): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.observe(request, reply);
  });
  const expected = token === undefined ? undefined : Buffer.from(sha256Hex(token), 'hex');
  app.get('/metrics', async (request, reply) => {
    if (expected) {
      const header = request.headers.authorization ?? '';
      const presented = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
      // Hashes of equal length: the comparison takes the same time whatever was sent.
      if (!timingSafeEqual(Buffer.from(sha256Hex(presented), 'hex'), expected)) {
        reply.header('www-authenticate', 'Bearer realm="herald-metrics"');
        throw new AppError('UNAUTHENTICATED', 'metrics need HERALD_METRICS_TOKEN, sent as Authorization: Bearer <token>');
      }
    }
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });
}
