import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer } from 'node:net';
import { killWithTestProcess } from './children.js';
import type { RunningServer } from './server.js';

/** A TCP port nobody listens on right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export interface OwnRedis {
  url: string;
  port: number;
  /** Kills the server (SIGKILL: an outage, not a shutdown). */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * A Redis server of the test's own on a spare port (never the shared one on 6379), so the test
 * can take it away. Stop it with kill() in an after hook.
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const launch = () =>
    new Promise<void>((resolve, reject) => {
      const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      killWithTestProcess(proc);
      let output = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`redis-server did not start within 10 s:\n${output}`));
      }, 10_000);
      proc.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output}`));
      });
    });
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async kill() {
      if (!child) return;
      const running = child;
      running.kill('SIGKILL');
      await exited(running);
    },
    restart: launch,
  };
}

/**
 * Resolves when the server's output matches `pattern`; rejects if the process exits first or the
 * time runs out. The output includes what the server printed before the call.
 */
export function outputMatches(server: RunningServer, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      if (pattern.test(server.output())) return finish(() => resolve());
      if (server.process.exitCode !== null || server.process.signalCode !== null) {
        return finish(() => reject(new Error(`the server exited before printing ${pattern}:\n${server.output()}`)));
      }
    };
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      server.process.stdout?.off('data', check);
      server.process.stderr?.off('data', check);
      server.process.off('exit', check);
      settle();
    };
    const timer = setTimeout(
      () => finish(() => reject(new Error(`the server did not print ${pattern} within ${timeoutMs} ms:\n${server.output()}`))),
      timeoutMs,
    );
    server.process.stdout?.on('data', check);
    server.process.stderr?.on('data', check);
    server.process.on('exit', check);
    check();
  });
}

export interface OwnPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth). */
  url: string;
  port: number;
  /** Fast shutdown (SIGINT): sessions are ended, then the server stops. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops it and removes its data directory. */
  destroy(): Promise<void>;
}

/** The PostgreSQL server binaries of the machine (Debian: /usr/lib/postgresql/<version>/bin), if any. */
export function postgresBinaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = path.join(root, version, 'bin');
    if (existsSync(path.join(bin, 'initdb')) && existsSync(path.join(bin, 'postgres'))) return bin;
  }
  return undefined;
}

/**
 * A PostgreSQL cluster of the test's own (initdb into a temporary directory, a spare port, trust
 * auth), never the shared one, so the test can stop it. Runs as the `postgres` user when the test
 * runs as root (PostgreSQL refuses root). The server is a child of the test process, so it dies
 * with it.
 */
export async function startOwnPostgres(): Promise<OwnPostgres> {
  const bin = postgresBinaries();
  if (!bin) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
  const port = await freePort();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'herald-pg-'));
  const owner = process.getuid?.() === 0 ? userIds('postgres') : undefined;
  if (owner) chownSync(dataDir, owner.uid, owner.gid);
  const init = spawnSync(path.join(bin, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8'], {
    encoding: 'utf8',
    ...(owner ?? {}),
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  let child: ChildProcess | undefined;
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const proc = spawn(
        path.join(bin, 'postgres'),
        ['-D', dataDir, '-p', String(port), '-k', dataDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=50'],
        { stdio: ['ignore', 'pipe', 'pipe'], ...(owner ?? {}) },
      );
      child = proc;
      killWithTestProcess(proc);
      let output = '';
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`postgres did not start within 30 s:\n${output}`));
      }, 30_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('database system is ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout?.on('data', onData);
      proc.stderr?.on('data', onData);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`postgres exited with ${code}:\n${output}`));
      });
    });
  const stop = async () => {
    if (!child) return;
    const running = child;
    child = undefined;
    running.kill('SIGINT');
    await exited(running);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop,
    start,
    async destroy() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function userIds(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  const [, , uid, gid] = (line ?? '').split(':');
  if (uid === undefined || gid === undefined) throw new Error(`no user ${name} to run PostgreSQL as`);
  return { uid: Number(uid), gid: Number(gid) };
}
