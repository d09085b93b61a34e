import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
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
