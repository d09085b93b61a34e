import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig, type Config, type Engine } from '../../src/config.js';

/**
 * Integration tests run once per engine: real SQLite in a temporary data dir, and the real
 * PostgreSQL (HERALD_TEST_DATABASE_URL, default the local `test` database) in a schema of its own
 * that is dropped afterwards, so parallel test files never collide.
 */

export const PG_URL = process.env['HERALD_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

/*
 * A test file the runner cancels (its timeout) or kills never reaches its `after` hooks. Data
 * directories still open are removed when the process exits; schemas and directories carry the
 * test process's pid (herald_t_<pid>_…, herald-test-<pid>-…), so scripts/test.mjs drops those
 * whose process is gone once the run ends (scripts/sweep-test-leftovers.mjs).
 */
const openDataDirs = new Set<string>();
process.once('exit', () => {
  for (const dir of openDataDirs) rmSync(dir, { recursive: true, force: true });
});

export function enginesUnderTest(): Engine[] {
  const wanted = (process.env['HERALD_TEST_ENGINES'] ?? 'sqlite,postgres').split(',').map((e) => e.trim());
  return wanted.filter((e): e is Engine => e === 'sqlite' || e === 'postgres');
}

export interface TestEnv {
  engine: Engine;
  /** Environment for spawned CLI and server processes. */
  env: Record<string, string>;
  config: Config;
  dataDir: string;
  schema: string | undefined;
  cleanup(): Promise<void>;
}

export async function createTestEnv(engine: Engine, extra: Record<string, string> = {}): Promise<TestEnv> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `herald-test-${process.pid}-`));
  openDataDirs.add(dataDir);
  // Tests' webhook receivers listen on loopback, which webhooks may not reach unless allowed.
  // Rate limits are off unless a test sets them: batteries send hundreds of refused requests from one address.
  const env: Record<string, string> = {
    HERALD_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    HERALD_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    // Tests start from an empty staging; test/first-notification.test.ts turns the sample on.
    HERALD_SAMPLE_DATA: 'off',
    HERALD_RATE_LIMIT_BACKEND: '0',
    HERALD_RATE_LIMIT_CLIENT: '0',
    HERALD_RATE_LIMIT_AUTH_FAILURES: '0',
    ...extra,
  };
  let schema: string | undefined;
  if (engine === 'postgres') {
    schema = `herald_t_${process.pid}_${randomBytes(6).toString('hex')}`;
    env['DATABASE_URL'] ??= PG_URL;
    env['HERALD_DATABASE_SCHEMA'] = schema;
    env['HERALD_MASTER_KEY'] ??= randomBytes(32).toString('base64');
  }
  const config = loadConfig(env);
  return {
    engine,
    env,
    config,
    dataDir,
    schema,
    async cleanup() {
      if (schema) {
        const client = new pg.Client({ connectionString: PG_URL });
        await client.connect();
        try {
          await client.query(`drop schema if exists "${schema}" cascade`);
        } finally {
          await client.end();
        }
      }
      rmSync(dataDir, { recursive: true, force: true });
      openDataDirs.delete(dataDir);
    },
  };
}
