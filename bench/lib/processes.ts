/**
 * The processes a bench run starts: servers (Herald, the hello baseline), short-lived children
 * (load generator, verify bound, realtime clients) and CLI calls. Every one is tracked so the run
 * can stop them all at the end, on an error, or on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createReadStream, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { childArgs, ROOT } from './common.js';

export class ProcessGroup {
  readonly #children = new Set<ChildProcess>();

  track(child: ChildProcess): ChildProcess {
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }

  /** SIGTERM to every process still running, SIGKILL to those still there after `graceMs`. */
  async stopAll(graceMs = 10_000): Promise<void> {
    await Promise.all([...this.#children].map((child) => stopProcess(child, graceMs)));
  }

  /** Last resort from a process 'exit' handler, where nothing asynchronous runs any more. */
  killAllNow(): void {
    for (const child of this.#children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

export function stopProcess(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

export interface RunningServer {
  name: string;
  url: string;
  pid: number;
  process: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

/**
 * Starts a server whose stdout and stderr go to `logFile` (as `npm start > herald.log` would: the
 * bench process reads nothing while load runs), and waits for `readyPattern` in its output.
 */
export function startServer(
  group: ProcessGroup,
  options: { name: string; args: string[]; env: Record<string, string>; logFile: string; readyPattern: RegExp; timeoutMs?: number },
): Promise<RunningServer> {
  const fd = openSync(options.logFile, 'w');
  const child = group.track(spawn(process.execPath, options.args, { cwd: ROOT, env: options.env, stdio: ['ignore', fd, fd] }));
  closeSync(fd);
  const output = () => readFileSync(options.logFile, 'utf8');
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    const poll = setInterval(() => {
      const match = options.readyPattern.exec(output());
      if (match?.[1]) {
        clearInterval(poll);
        resolve({
          name: options.name,
          url: match[1],
          pid: child.pid as number,
          process: child,
          logFile: options.logFile,
          stop: () => stopProcess(child),
        });
      } else if (child.exitCode !== null || child.signalCode !== null) {
        clearInterval(poll);
        reject(new Error(`${options.name} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${tail(output())}`));
      } else if (Date.now() > deadline) {
        clearInterval(poll);
        child.kill('SIGKILL');
        reject(new Error(`${options.name} was not ready within ${options.timeoutMs ?? 30_000} ms:\n${tail(output())}`));
      }
    }, 50);
  });
}

function tail(text: string, chars = 4_000): string {
  return text.length > chars ? `…${text.slice(-chars)}` : text;
}

/** Runs `node --import tsx bench/<script> <spec.json>` and returns the JSON line it prints. */
export function runChild<T>(
  group: ProcessGroup,
  script: string,
  spec: unknown,
  workDir: string,
  timeoutMs: number,
  onLine?: (line: string) => void,
): Promise<T> {
  const specFile = path.join(workDir, `${path.basename(script, '.ts')}-${Date.now()}.json`);
  writeFileSync(specFile, JSON.stringify(spec), { mode: 0o600 });
  return new Promise((resolve, reject) => {
    const child = group.track(
      spawn(process.execPath, childArgs(script, specFile), { cwd: ROOT, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    let stdout = '';
    let stderr = '';
    let scanned = 0;
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (!onLine) return;
      let newline = stdout.indexOf('\n', scanned);
      while (newline !== -1) {
        onLine(stdout.slice(scanned, newline));
        scanned = newline + 1;
        newline = stdout.indexOf('\n', scanned);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not finish within ${Math.round(timeoutMs / 1000)} s\n${tail(stderr)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || line === '') {
        reject(new Error(`${script} exited with ${code}:\n${tail(stderr || stdout)}`));
        return;
      }
      try {
        resolve(JSON.parse(line) as T);
      } catch {
        reject(new Error(`${script} printed no JSON result:\n${tail(stdout)}`));
      }
    });
  });
}

/** Runs `node bin/herald.js <args> --json` with the given env; returns its parsed output. */
export function heraldCli<T>(group: ProcessGroup, args: string[], env: Record<string, string>): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = group.track(
      spawn(process.execPath, [path.join(ROOT, 'bin/herald.js'), ...args, '--json'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`herald ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
      else resolve(JSON.parse(stdout) as T);
    });
  });
}

/** Peak resident set size of a running process (VmHWM), in bytes; null once it is gone. */
export function peakRss(pid: number): number | null {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match?.[1] ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Counts pino lines at level error (50) or fatal (60) in a server log; keeps the first few messages. */
export async function logErrors(file: string): Promise<{ count: number; examples: string[] }> {
  let count = 0;
  const examples: string[] = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.includes('"level":50') && !line.includes('"level":60')) continue;
    count++;
    if (examples.length < 3) {
      try {
        const entry = JSON.parse(line) as { msg?: string; err?: { message?: string } };
        examples.push(`${entry.msg ?? ''}${entry.err?.message ? `: ${entry.err.message}` : ''}`.slice(0, 300));
      } catch {
        examples.push(line.slice(0, 300));
      }
    }
  }
  return { count, examples };
}
