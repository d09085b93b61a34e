import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, runHerald } from './helpers/cli.js';
import { createTestEnv, type TestEnv } from './helpers/engines.js';
import { startServer, type RunningServer } from './helpers/server.js';

/**
 * One `herald serve` per SQLite data directory (src/db/data-dir-lock.ts): a second one refuses to
 * start and says why; a lock left by a process that is gone is taken over; the lock goes away
 * with the server.
 */

/** Runs `node dist/main.js` to its end; its exit code and output. */
function runToExit(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/main.js')], {
      env: { PATH: process.env['PATH'] ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** The pid of a process that has ended. */
function deadPid(): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.on('close', () => resolve(child.pid as number));
  });
}

describe('one server per SQLite data directory', { timeout: 120_000 }, () => {
  let t: TestEnv;
  let server: RunningServer | undefined;
  const lockFile = () => path.join(t.dataDir, 'herald.lock');

  before(async () => {
    t = await createTestEnv('sqlite');
  });

  after(async () => {
    await server?.stop();
    await t?.cleanup();
  });

  test('a second server on the same directory refuses to start, and says what to do', async () => {
    server = await startServer(t.env);
    const holder = JSON.parse(readFileSync(lockFile(), 'utf8')) as { pid: number };
    assert.equal(holder.pid, server.process.pid);
    const second = await runToExit(t.env);
    assert.equal(second.code, 1);
    assert.match(second.output, new RegExp(`in use by another Herald server \\(pid ${holder.pid}`));
    assert.match(second.output, /use PostgreSQL \(DATABASE_URL\)/);
    assert.doesNotMatch(second.output, /Herald listening/);
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200, 'the first server is untouched');
    const viaCli = await runHerald(['serve'], { ...t.env, PORT: '0', HOST: '127.0.0.1' });
    assert.equal(viaCli.code, 1);
    assert.match(viaCli.stderr, /^herald: .* is in use by another Herald server/);
    assert.doesNotMatch(viaCli.stderr, /\n\s+at /, 'a message, not a stack trace');
  });

  test('a port in use: the message says so and how to pick another port', async () => {
    assert.ok(server, 'the first test left its server running');
    const other = await createTestEnv('sqlite');
    try {
      const port = new URL(server.url).port;
      const taken = await runHerald(['serve'], { ...other.env, PORT: port, HOST: '127.0.0.1' });
      assert.equal(taken.code, 1);
      assert.match(taken.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use .* PORT=${Number(port) + 1} npm start`));
      assert.doesNotMatch(taken.stderr, /\n\s+at /);
      assert.throws(() => readFileSync(path.join(other.dataDir, 'herald.lock')), /ENOENT/, 'the refused server left no lock');
    } finally {
      await other.cleanup();
    }
  });

  test('the lock goes away with the server, and a stale one is taken over', async () => {
    await server?.stop();
    server = undefined;
    assert.throws(() => readFileSync(lockFile()), /ENOENT/, 'a clean shutdown removes the lock');
    // As if a server had been killed with -9: its lock stays, naming a process that is gone.
    writeFileSync(lockFile(), JSON.stringify({ pid: await deadPid(), host: hostname(), startTicks: '1', since: '2026-01-01' }));
    server = await startServer(t.env);
    assert.equal((JSON.parse(readFileSync(lockFile(), 'utf8')) as { pid: number }).pid, server.process.pid);
  });
});
