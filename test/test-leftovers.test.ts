import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
// @ts-expect-error: a plain ES module of the test runner, without types
import { sweepTestLeftovers } from '../scripts/sweep-test-leftovers.mjs';
import { enginesUnderTest, PG_URL } from './helpers/engines.js';

const sweep = sweepTestLeftovers as (databaseUrl: string | undefined) => Promise<number>;

/** The pid of a process that has ended. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

test('what a killed test process left behind is removed after the run; what a running one holds is kept', async () => {
  const usesPostgres = enginesUnderTest().includes('postgres');
  const dead = await deadPid();
  const suffix = Math.random().toString(16).slice(2, 10);
  const deadDir = path.join(tmpdir(), `herald-test-${dead}-${suffix}`);
  const liveDir = path.join(tmpdir(), `herald-test-${process.pid}-${suffix}`);
  const deadSchema = `herald_t_${dead}_${suffix}`;
  const liveSchema = `herald_t_${process.pid}_${suffix}`;
  mkdirSync(path.join(deadDir, 'nested'), { recursive: true });
  mkdirSync(liveDir, { recursive: true });
  const client = new pg.Client({ connectionString: PG_URL });
  if (usesPostgres) {
    await client.connect();
    await client.query(`create schema "${deadSchema}"`);
    await client.query(`create table "${deadSchema}".t (id int)`);
    await client.query(`create schema "${liveSchema}"`);
  }
  try {
    await sweep(usesPostgres ? PG_URL : undefined);
    assert.equal(existsSync(deadDir), false, 'the dead process’s data folder is removed');
    assert.equal(existsSync(liveDir), true, 'a running process’s data folder is kept');
    if (usesPostgres) {
      const { rows } = await client.query<{ nspname: string }>('select nspname from pg_namespace where nspname = any($1)', [
        [deadSchema, liveSchema],
      ]);
      assert.deepEqual(
        rows.map((r) => r.nspname),
        [liveSchema],
      );
    }
  } finally {
    rmSync(deadDir, { recursive: true, force: true });
    rmSync(liveDir, { recursive: true, force: true });
    if (usesPostgres) {
      await client.query(`drop schema if exists "${deadSchema}" cascade`);
      await client.query(`drop schema if exists "${liveSchema}" cascade`);
      await client.end();
    }
  }
});
