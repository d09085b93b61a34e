import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { killWithTestProcess } from './children.js';
import { ROOT } from './cli.js';

export interface RunningServer {
  url: string;
  process: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts the real server (`node dist/main.js`, what `npm start` runs) on a free port. */
export function startServer(env: Record<string, string>): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'dist/main.js')], {
      env: { PATH: process.env['PATH'] ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killWithTestProcess(child);
    let output = '';
    let isSettled = false;
    const timer = setTimeout(() => fail(new Error(`server did not start within 15 s:\n${output}`)), 15_000);
    const fail = (error: Error) => {
      if (isSettled) return;
      isSettled = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Herald listening on (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1] && !isSettled) {
        isSettled = true;
        clearTimeout(timer);
        resolve({
          url: match[1],
          process: child,
          output: () => output,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => fail(new Error(`server exited with ${code}:\n${output}`)));
  });
}
