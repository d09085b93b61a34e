// Removes what test processes that were killed left behind: PostgreSQL schemas herald_t_<pid>_…
// and temporary data directories herald-test-<pid>-… whose process no longer runs. Leftovers of a
// test process that is still running (another `npm test` on this machine) are kept.
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

function isRunning(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

const isLeftover = (pidText) => !isRunning(Number(pidText));

export async function sweepTestLeftovers(databaseUrl) {
  let removed = 0;
  for (const name of readdirSync(tmpdir())) {
    const match = /^herald-test-(\d+)-/.exec(name);
    if (match && isLeftover(match[1])) {
      rmSync(path.join(tmpdir(), name), { recursive: true, force: true });
      removed += 1;
    }
  }
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5_000 });
    await client.connect();
    try {
      const { rows } = await client.query(`select nspname from pg_namespace where nspname like 'herald\\_t\\_%'`);
      for (const { nspname } of rows) {
        const match = /^herald_t_(\d+)_[0-9a-f]+$/.exec(nspname);
        if (!match || !isLeftover(match[1])) continue;
        await client.query(`drop schema if exists "${nspname}" cascade`);
        removed += 1;
      }
    } finally {
      await client.end();
    }
  }
  return removed;
}
