import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

/**
 * One server per SQLite data directory. Two `herald serve` processes on one file would each
 * answer requests and each hold their own sockets, so a trigger sent to one never reaches a user
 * connected to the other; nothing would say so. The server takes `herald.lock` in the data
 * directory while it runs (the CLI does not: its commands are short and safe beside a server).
 *
 * A lock left by a process that no longer runs (kill -9, a crash, a reboot) is taken over. A
 * process is the same one when its pid and its start time (Linux: /proc/<pid>/stat) both match,
 * so a reused pid does not keep the lock alive.
 */

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError';
}

interface LockRecord {
  pid: number;
  host: string;
  /** The process's start time in clock ticks since boot (Linux), null elsewhere. */
  startTicks: string | null;
  since: string;
}

export interface DataDirLock {
  release(): void;
}

const LOCK_FILE = 'herald.lock';

function startTicksOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(record: LockRecord): boolean {
  if (record.startTicks !== null) return startTicksOf(record.pid) === record.startTicks;
  try {
    process.kill(record.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeIfPresent(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function readRecord(file: string): LockRecord | undefined {
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockRecord>;
    if (typeof value.pid !== 'number' || typeof value.host !== 'string') return undefined;
    return { pid: value.pid, host: value.host, startTicks: value.startTicks ?? null, since: String(value.since ?? '') };
  } catch {
    return undefined;
  }
}

export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, LOCK_FILE);
  const own: LockRecord = { pid: process.pid, host: hostname(), startTicks: startTicksOf(process.pid), since: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readRecord(file);
      if (holder && holder.host !== own.host) {
        throw new DataDirLockedError(
          `${dataDir} is in use by a Herald server on host ${holder.host} (pid ${holder.pid}, since ${holder.since}). ` +
            `One SQLite data directory is served by one process; if that server is gone, delete ${file}.`,
        );
      }
      if (holder && isAlive(holder)) {
        throw new DataDirLockedError(
          `${dataDir} is in use by another Herald server (pid ${holder.pid}, since ${holder.since}). One SQLite data ` +
            'directory is served by one process: to run several, use PostgreSQL (DATABASE_URL) with HERALD_REDIS_URL.',
        );
      }
      // Left by a process that is gone (or unreadable: a crash while writing it).
      removeIfPresent(file);
      continue;
    }
    try {
      writeSync(fd, `${JSON.stringify(own)}\n`);
    } finally {
      closeSync(fd);
    }
    return {
      release() {
        // Only our own: never remove a lock another process took over.
        if (readRecord(file)?.pid === own.pid) removeIfPresent(file);
      },
    };
  }
  throw new DataDirLockedError(`could not take ${file}: another process keeps creating it`);
}
