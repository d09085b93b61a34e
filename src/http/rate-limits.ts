import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';
import { AppError } from '../lib/errors.js';
import { logAtMostEvery } from '../lib/log-throttle.js';

/**
 * API rate limits, per minute (0 turns one off), counted by @fastify/rate-limit: in memory on one
 * process, in Redis when HERALD_REDIS_URL is set so that every process shares the counts.
 *
 *   backend   requests per backend credential (an API key, or a workspace key signing with HMAC)
 *   client    requests per public key and user (per public key and IP without a user)
 *   failures  failed authentications per client IP; past it the IP gets 429 for the rest of the
 *             minute, before any credential is looked at
 *
 * A limit answers 429 with Retry-After. If Redis does not answer, requests are let through (a
 * limiter outage must not become an API outage) and the log says so once a minute.
 */

export interface RateLimitSettings {
  backendPerMinute: number;
  clientPerMinute: number;
  authFailuresPerMinute: number;
  redisUrl: string | undefined;
}

type Checker = (
  request: FastifyRequest,
) => Promise<{ isAllowed: true; key: string } | { isAllowed: false; isExceeded: boolean; ttlInSeconds: number }>;

const WINDOW_MS = 60_000;

function limited(what: string, retryAfterS: number, reply: { header(name: string, value: string): unknown }): AppError {
  reply.header('retry-after', String(Math.max(1, retryAfterS)));
  return new AppError('RATE_LIMITED', `rate limit reached: ${what}; retry in ${Math.max(1, retryAfterS)} s`);
}

export class RateLimits {
  #backend: Checker | undefined;
  #client: Checker | undefined;
  #failures: Checker | undefined;
  /** IPs over the failure limit, until when (ms): refused before authentication. */
  readonly #blocked = new LRUCache<string, number>({ max: 100_000 });
  #redis: Redis | undefined;

  constructor(private readonly settings: RateLimitSettings) {}

  /** Registers the plugin (no route is limited by it directly) and builds the checkers once it loaded. */
  register(app: FastifyInstance, logger: Pick<Logger, 'warn'>): void {
    const { backendPerMinute, clientPerMinute, authFailuresPerMinute, redisUrl } = this.settings;
    if (backendPerMinute === 0 && clientPerMinute === 0 && authFailuresPerMinute === 0) return;
    if (redisUrl) {
      // Commands fail at once while Redis is away (no offline queue): the limiter lets requests through.
      this.#redis = new Redis(redisUrl, { maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: false });
      const shouldLog = logAtMostEvery(WINDOW_MS);
      this.#redis.on('error', (error: Error) => {
        if (shouldLog().log) logger.warn({ reason: error.message }, 'rate limits: Redis unreachable; requests are not limited meanwhile');
      });
    }
    void app.register(rateLimit, {
      global: false,
      skipOnError: true,
      ...(this.#redis ? { redis: this.#redis, nameSpace: 'herald-rate-limit:' } : {}),
    });
    app.after(() => {
      const checker = (max: number, key: (request: FastifyRequest) => string): Checker | undefined =>
        max === 0 ? undefined : (app.createRateLimit({ max, timeWindow: WINDOW_MS, keyGenerator: key }) as Checker);
      this.#backend = checker(backendPerMinute, (request) => `backend:${request.principal?.credentialId ?? request.ip}`);
      this.#client = checker(
        clientPerMinute,
        (request) => `client:${request.principal?.credentialId ?? ''}:${request.principal?.subscriberId ?? `ip:${request.ip}`}`,
      );
      this.#failures = checker(authFailuresPerMinute, (request) => `auth-failures:${request.ip}`);
    });
    app.addHook('onClose', async () => {
      this.#redis?.disconnect();
    });
  }

  /** Before authentication: an IP over the failure limit is refused without looking at its credential. */
  checkAddress(request: FastifyRequest, reply: { header(name: string, value: string): unknown }): void {
    const until = this.#blocked.get(request.ip);
    if (until === undefined) return;
    const left = until - Date.now();
    if (left <= 0) {
      this.#blocked.delete(request.ip);
      return;
    }
    throw limited('too many failed authentications from this address', Math.ceil(left / 1000), reply);
  }

  /** After authentication: the credential's (backend) or the user's (client) budget. */
  async checkPrincipal(
    request: FastifyRequest,
    principal: Principal,
    reply: { header(name: string, value: string): unknown },
  ): Promise<void> {
    const isClient = principal.kind === 'public_key';
    const check = isClient ? this.#client : this.#backend;
    if (!check) return;
    const result = await check(request);
    if (!result.isAllowed && result.isExceeded) {
      throw limited(isClient ? 'requests for this user' : 'requests with this credential', result.ttlInSeconds, reply);
    }
  }

  /** A failed authentication from the request's IP. */
  async noteFailure(request: FastifyRequest): Promise<void> {
    if (!this.#failures) return;
    const result = await this.#failures(request);
    if (!result.isAllowed && result.isExceeded) this.#blocked.set(request.ip, Date.now() + result.ttlInSeconds * 1000);
  }
}
