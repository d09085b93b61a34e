import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './config.js';

test('defaults: embedded SQLite under ./data, port 8787, 24 h grace, 15 min skew', () => {
  const config = loadConfig({});
  assert.equal(config.engine, 'sqlite');
  assert.equal(config.port, 8787);
  assert.equal(config.sqlitePath, path.resolve('data/herald.db'));
  assert.equal(config.secretGracePeriodMs, 86_400_000);
  assert.equal(config.hmacMaxSkewMs, 900_000);
});

test('DATABASE_URL switches to PostgreSQL; durations and numbers are validated', () => {
  const config = loadConfig({ DATABASE_URL: 'postgres://u@h/db', HERALD_HMAC_MAX_SKEW: '0', HERALD_SECRET_GRACE_PERIOD: '1h' });
  assert.equal(config.engine, 'postgres');
  assert.equal(config.hmacMaxSkewMs, 0);
  assert.equal(config.secretGracePeriodMs, 3_600_000);
  assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL must start with postgres/);
  assert.throws(() => loadConfig({ PORT: 'eighty' }), ConfigError);
  assert.throws(() => loadConfig({ HERALD_SECRET_GRACE_PERIOD: 'a day' }), /HERALD_SECRET_GRACE_PERIOD must be a duration/);
  assert.throws(() => loadConfig({ HERALD_DATABASE_SCHEMA: 'drop table;' }), /SQL identifier/);
});

test('HERALD_REDIS_URL is optional and must be a redis:// or rediss:// URL', () => {
  assert.equal(loadConfig({}).redisUrl, undefined);
  assert.equal(loadConfig({ HERALD_REDIS_URL: 'rediss://h:6380' }).redisUrl, 'rediss://h:6380');
  assert.throws(() => loadConfig({ HERALD_REDIS_URL: 'http://h:6379' }), /HERALD_REDIS_URL must start with redis:\/\/ or rediss:\/\//);
});

test('admin sessions: HERALD_PUBLIC_URL is reduced to its origin; session lifetimes are durations of at least 1m', () => {
  const defaults = loadConfig({});
  assert.equal(defaults.publicOrigin, undefined);
  assert.equal(defaults.sessionTtlMs, 12 * 3_600_000);
  assert.equal(defaults.sessionIdleTimeoutMs, 3_600_000);
  const set = loadConfig({
    HERALD_PUBLIC_URL: 'https://Herald.Example.com:8443/dashboard/',
    HERALD_SESSION_TTL: '8h',
    HERALD_SESSION_IDLE_TIMEOUT: '15m',
  });
  assert.equal(set.publicOrigin, 'https://herald.example.com:8443');
  assert.equal(set.sessionTtlMs, 8 * 3_600_000);
  assert.equal(set.sessionIdleTimeoutMs, 15 * 60_000);
  assert.throws(() => loadConfig({ HERALD_PUBLIC_URL: 'herald.example.com' }), /HERALD_PUBLIC_URL must be an http/);
  assert.throws(() => loadConfig({ HERALD_SESSION_TTL: '30s' }), /HERALD_SESSION_TTL must be at least 1m/);
});

test('the future side of the HMAC Date window can be narrowed, never widened past the window', () => {
  assert.equal(loadConfig({}).hmacMaxFutureSkewMs, 900_000);
  assert.equal(loadConfig({ HERALD_HMAC_MAX_FUTURE_SKEW: '1m' }).hmacMaxFutureSkewMs, 60_000);
  assert.equal(loadConfig({ HERALD_HMAC_MAX_FUTURE_SKEW: '1h' }).hmacMaxFutureSkewMs, 900_000);
  assert.throws(() => loadConfig({ HERALD_HMAC_MAX_FUTURE_SKEW: 'soon' }), /HERALD_HMAC_MAX_FUTURE_SKEW/);
});
