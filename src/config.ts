import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { parseDuration } from './lib/duration.js';

/**
 * Every environment variable Herald reads, parsed once at boot. A bad value stops the process
 * with a message naming the variable; nothing reads `process.env` elsewhere.
 */

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const duration = (name: string) =>
  z.string().transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `${name} must be a duration like 90s, 15m, 24h, 30d or 0 (got "${text}")` });
      return z.NEVER;
    }
    return ms;
  });

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().min(1).default('0.0.0.0'),
  HERALD_DATA_DIR: z.string().min(1).default('./data'),
  DATABASE_URL: z
    .string()
    .refine((url) => /^postgres(ql)?:\/\//.test(url), 'DATABASE_URL must start with postgres:// or postgresql://')
    .optional(),
  HERALD_DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'HERALD_DATABASE_SCHEMA must be a lower-case SQL identifier')
    .default('public'),
  HERALD_MASTER_KEY: z.string().min(1).optional(),
  HERALD_SECRET_GRACE_PERIOD: duration('HERALD_SECRET_GRACE_PERIOD').default(24 * 3_600_000),
  HERALD_HMAC_MAX_SKEW: duration('HERALD_HMAC_MAX_SKEW').default(15 * 60_000),
  HERALD_HMAC_MAX_FUTURE_SKEW: duration('HERALD_HMAC_MAX_FUTURE_SKEW').optional(),
  HERALD_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1_048_576)
    .default(5 * 1_048_576),
  HERALD_INVALIDATION_POLL_MS: z.coerce.number().int().min(20).max(1_000).default(250),
  HERALD_DB_POOL_SIZE: z.coerce.number().int().min(1).max(1_000).default(10),
  HERALD_DB_CONNECT_TIMEOUT: duration('HERALD_DB_CONNECT_TIMEOUT')
    .refine((ms) => ms >= 1_000, 'HERALD_DB_CONNECT_TIMEOUT must be at least 1s')
    .default(5_000),
  HERALD_DB_STATEMENT_TIMEOUT: duration('HERALD_DB_STATEMENT_TIMEOUT').default(30_000),
  HERALD_RETENTION: duration('HERALD_RETENTION')
    .refine((ms) => ms >= 86_400_000, 'HERALD_RETENTION must be at least 1d')
    .default(30 * 86_400_000),
  HERALD_RATE_LIMIT_BACKEND: z.coerce.number().int().min(0).default(6_000),
  HERALD_RATE_LIMIT_CLIENT: z.coerce.number().int().min(0).default(1_200),
  HERALD_RATE_LIMIT_AUTH_FAILURES: z.coerce.number().int().min(0).default(300),
  HERALD_TRUST_PROXY: z
    .string()
    .transform((text): boolean | number | string => {
      const value = text.trim();
      if (value === 'true') return true;
      if (value === 'false') return false;
      if (/^\d+$/.test(value)) return Number(value);
      return value;
    })
    .refine(
      (value) =>
        typeof value !== 'string' ||
        value
          .split(',')
          .every(
            (entry) => isIP(entry.trim().split('/')[0] ?? '') !== 0 || ['loopback', 'linklocal', 'uniquelocal'].includes(entry.trim()),
          ),
      'HERALD_TRUST_PROXY must be true, a number of proxy hops, or a comma-separated list of proxy addresses or CIDR ranges (or loopback, linklocal, uniquelocal)',
    )
    .default(false),
  HERALD_WEBHOOK_ALLOWED_HOSTS: z
    .string()
    .transform((text) =>
      text
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry.length > 0),
    )
    .refine(
      (entries) => entries.every((entry) => !entry.includes('/') || isIP(entry.split('/')[0] ?? '') !== 0),
      'HERALD_WEBHOOK_ALLOWED_HOSTS: a range must be an IP address with a prefix, e.g. 10.0.0.0/8',
    )
    .default([]),
  HERALD_AUDIT_RETENTION: duration('HERALD_AUDIT_RETENTION')
    .refine((ms) => ms >= 30 * 86_400_000, 'HERALD_AUDIT_RETENTION must be at least 30d')
    .default(365 * 86_400_000),
  HERALD_JOB_LEASE: duration('HERALD_JOB_LEASE')
    .refine((ms) => ms >= 5_000, 'HERALD_JOB_LEASE must be at least 5s')
    .default(60_000),
  HERALD_SAMPLE_DATA: z.enum(['on', 'off'], { message: 'HERALD_SAMPLE_DATA must be on or off' }).default('on'),
  HERALD_METRICS_TOKEN: z.string().min(16, 'HERALD_METRICS_TOKEN must be at least 16 characters').optional(),
  HERALD_FEED_CACHE_MB: z.coerce.number().int().min(0).max(65_536).default(32),
  HERALD_REDIS_URL: z
    .string()
    .refine((url) => /^rediss?:\/\//.test(url), 'HERALD_REDIS_URL must start with redis:// or rediss://')
    .optional(),
  HERALD_REQUEST_LOG_MAX_ROWS: z.coerce.number().int().min(0).max(10_000_000).default(10_000),
  HERALD_REQUEST_LOG_MAX_AGE: duration('HERALD_REQUEST_LOG_MAX_AGE')
    .refine((ms) => ms >= 60_000, 'HERALD_REQUEST_LOG_MAX_AGE must be at least 1m')
    .default(7 * 86_400_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  HERALD_PUBLIC_URL: z
    .string()
    .refine((url) => /^https?:\/\/[^/?#]+/i.test(url) && URL.canParse(url), 'HERALD_PUBLIC_URL must be an http:// or https:// URL')
    .transform((url) => new URL(url).origin)
    .optional(),
  HERALD_SESSION_TTL: duration('HERALD_SESSION_TTL')
    .refine((ms) => ms >= 60_000, 'HERALD_SESSION_TTL must be at least 1m')
    .default(12 * 3_600_000),
  HERALD_SESSION_IDLE_TIMEOUT: duration('HERALD_SESSION_IDLE_TIMEOUT')
    .refine((ms) => ms >= 60_000, 'HERALD_SESSION_IDLE_TIMEOUT must be at least 1m')
    .default(3_600_000),
});

export type Engine = 'sqlite' | 'postgres';

export interface Config {
  port: number;
  host: string;
  /** First start of an embedded installation sets up a sample in staging (src/workspaces/first-try.ts). */
  isSampleDataOn: boolean;
  engine: Engine;
  dataDir: string;
  sqlitePath: string;
  databaseUrl: string | undefined;
  databaseSchema: string;
  masterKeyText: string | undefined;
  masterKeyFile: string;
  secretGracePeriodMs: number;
  hmacMaxSkewMs: number;
  /** How far ahead of server time a signed request's Date may be (at most hmacMaxSkewMs). */
  hmacMaxFutureSkewMs: number;
  bodyLimitBytes: number;
  invalidationPollMs: number;
  /** PostgreSQL: connections per process. */
  dbPoolSize: number;
  /** PostgreSQL: how long opening a connection may take before the request fails. */
  dbConnectTimeoutMs: number;
  /** PostgreSQL: the server cancels a statement running longer than this (0: never). */
  dbStatementTimeoutMs: number;
  /** Finished jobs and webhook attempts, events and executions are deleted after this long. */
  retentionMs: number;
  /** Requests per minute: per backend credential, per client user, failed authentications per IP (0: no limit). */
  rateLimits: { backendPerMinute: number; clientPerMinute: number; authFailuresPerMinute: number };
  /**
   * Fastify's trustProxy: which X-Forwarded-For hops to believe, so per-IP limits and logs see the
   * client rather than the load balancer. false (default): the peer address is the client.
   */
  trustProxy: boolean | number | string;
  /** Host names, addresses and CIDR ranges webhooks may reach although private or loopback. */
  webhookAllowedHosts: string[];
  /** Audit log entries are deleted after this long (never before 30 days: the database refuses). */
  auditRetentionMs: number;
  /** A background job claimed by a process that then dies is resumed by another after this long. */
  jobLeaseMs: number;
  /** When set, `GET /metrics` requires it as a bearer token. */
  metricsToken: string | undefined;
  /** Memory for feed pages and counts served again while the feed is unchanged (0: no cache). */
  feedCacheBytes: number;
  /** Set when several server processes share realtime delivery (socket.io Redis adapter). */
  redisUrl: string | undefined;
  /** Request-log rows kept per workspace (0: no request log). */
  requestLogMaxRows: number;
  requestLogMaxAgeMs: number;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  /** Origin (scheme://host[:port]) browsers use to reach the dashboard; admin writes must come from it. */
  publicOrigin: string | undefined;
  /** Admin sessions end this long after sign-in, however active. */
  sessionTtlMs: number;
  /** Admin sessions end after this long without a request. */
  sessionIdleTimeoutMs: number;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset": `FOO= herald serve` should not turn into a validation error.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.HERALD_DATA_DIR);
  return {
    port: e.PORT,
    host: e.HOST,
    isSampleDataOn: e.HERALD_SAMPLE_DATA === 'on',
    engine: e.DATABASE_URL ? 'postgres' : 'sqlite',
    dataDir,
    sqlitePath: path.join(dataDir, 'herald.db'),
    databaseUrl: e.DATABASE_URL,
    databaseSchema: e.HERALD_DATABASE_SCHEMA,
    masterKeyText: e.HERALD_MASTER_KEY,
    masterKeyFile: path.join(dataDir, 'master.key'),
    secretGracePeriodMs: e.HERALD_SECRET_GRACE_PERIOD,
    hmacMaxSkewMs: e.HERALD_HMAC_MAX_SKEW,
    hmacMaxFutureSkewMs: Math.min(e.HERALD_HMAC_MAX_FUTURE_SKEW ?? e.HERALD_HMAC_MAX_SKEW, e.HERALD_HMAC_MAX_SKEW),
    bodyLimitBytes: e.HERALD_BODY_LIMIT_BYTES,
    invalidationPollMs: e.HERALD_INVALIDATION_POLL_MS,
    dbPoolSize: e.HERALD_DB_POOL_SIZE,
    dbConnectTimeoutMs: e.HERALD_DB_CONNECT_TIMEOUT,
    dbStatementTimeoutMs: e.HERALD_DB_STATEMENT_TIMEOUT,
    retentionMs: e.HERALD_RETENTION,
    rateLimits: {
      backendPerMinute: e.HERALD_RATE_LIMIT_BACKEND,
      clientPerMinute: e.HERALD_RATE_LIMIT_CLIENT,
      authFailuresPerMinute: e.HERALD_RATE_LIMIT_AUTH_FAILURES,
    },
    trustProxy: e.HERALD_TRUST_PROXY,
    webhookAllowedHosts: e.HERALD_WEBHOOK_ALLOWED_HOSTS,
    auditRetentionMs: e.HERALD_AUDIT_RETENTION,
    jobLeaseMs: e.HERALD_JOB_LEASE,
    metricsToken: e.HERALD_METRICS_TOKEN,
    feedCacheBytes: e.HERALD_FEED_CACHE_MB * 1_048_576,
    redisUrl: e.HERALD_REDIS_URL,
    requestLogMaxRows: e.HERALD_REQUEST_LOG_MAX_ROWS,
    requestLogMaxAgeMs: e.HERALD_REQUEST_LOG_MAX_AGE,
    logLevel: e.LOG_LEVEL,
    publicOrigin: e.HERALD_PUBLIC_URL,
    sessionTtlMs: e.HERALD_SESSION_TTL,
    sessionIdleTimeoutMs: e.HERALD_SESSION_IDLE_TIMEOUT,
  };
}
