// Runs every test file (unit tests next to the code, integration tests under test/) in one
// node:test run. Integration tests run once per engine: SQLite, and the PostgreSQL at
// HERALD_TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test). Node 20's test
// runner neither globs nor finds .ts files by itself, hence the explicit list.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { sweepTestLeftovers } from './sweep-test-leftovers.mjs';

function findTests(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return findTests(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

const engines = (process.env.HERALD_TEST_ENGINES ?? 'sqlite,postgres').split(',');
const url = engines.includes('postgres') ? (process.env.HERALD_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test') : undefined;
if (url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.end();
  } catch (error) {
    console.error(
      `PostgreSQL is not reachable at ${url} (${error.message}).\n` +
        'Start it, point HERALD_TEST_DATABASE_URL at one, or run only SQLite with HERALD_TEST_ENGINES=sqlite.',
    );
    process.exit(1);
  }
}

const files = [...findTests('src'), ...findTests('test')].sort();
// The timeout bounds each file as a whole (and each test in it): files that start servers, clusters
// and their own PostgreSQL run a minute or more alone, and twice that beside another on two cores.
const extra = process.argv.slice(2);
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...extra, ...files],
  { stdio: 'inherit', env: { ...process.env, HERALD_TEST_ENGINES: engines.join(',') } },
);
try {
  const removed = await sweepTestLeftovers(url);
  if (removed > 0) console.error(`removed ${removed} schema(s) and data folder(s) left by killed test processes`);
} catch (error) {
  console.error(`could not remove what killed test processes left behind: ${error.message}`);
}
process.exit(result.status ?? 1);
