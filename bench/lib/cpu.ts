/**
 * CPU accounting around a measurement (Linux /proc): how much of a core the server used, and how
 * much went to processes this run did not start. On a 2-core machine a build or a test suite
 * running next to the bench moves every number, so the table says when that happened.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU seconds all cores spent busy since boot (everything but idle and iowait). */
export function systemBusySeconds(): number | null {
  try {
    const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a running process has used; null once it is gone. */
export function processCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself contain spaces and parentheses.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** Local ports of the TCP connections `pid` holds to `serverPort` (its database pool). */
function clientPortsOf(pid: number, serverPort: number): Set<number> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (match?.[1]) inodes.add(match[1]);
      } catch {
        // fd closed meanwhile
      }
    }
  } catch {
    return new Set();
  }
  const ports = new Set<number>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [local, remote, inode] = [fields[1], fields[2], fields[9]];
      if (!local || !remote || !inode || !inodes.has(inode)) continue;
      if (parseInt(remote.split(':').at(-1) ?? '', 16) === serverPort) ports.add(parseInt(local.split(':').at(-1) ?? '', 16));
    }
  }
  return ports;
}

/**
 * PostgreSQL processes working for Herald: the backends of its pool connections (their process
 * title names the client port) and the server's own background processes (WAL writer, checkpointer…).
 * Backends serving other clients are left out: they count as outside load.
 */
export function databaseProcesses(heraldPid: number, serverPort: number): number[] {
  const ports = clientPortsOf(heraldPid, serverPort);
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let title: string;
    try {
      title = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (!title.startsWith('postgres:')) continue;
    const client = /\((\d+)\)/.exec(title);
    if (client?.[1] === undefined || ports.has(Number(client[1]))) pids.push(Number(entry));
  }
  return pids;
}

/**
 * Waits (up to `maxSeconds`) until processes other than `ours` use at most `threshold` of a core,
 * sampled over one second; returns the last sample.
 */
export async function waitForQuiet(ours: () => number[], threshold: number, maxSeconds: number): Promise<number | null> {
  const deadline = performance.now() + maxSeconds * 1000;
  let foreign: number;
  do {
    const pids = ours();
    const busy = systemBusySeconds();
    const own = ownCpuSeconds();
    const before = pids.map((pid) => processCpuSeconds(pid) ?? 0);
    const started = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const seconds = (performance.now() - started) / 1000;
    const busyAfter = systemBusySeconds();
    if (busy === null || busyAfter === null) return null;
    const oursUsed = pids.reduce((sum, pid, i) => sum + Math.max(0, (processCpuSeconds(pid) ?? 0) - (before[i] ?? 0)), 0);
    foreign = Math.max(0, busyAfter - busy - oursUsed - (ownCpuSeconds() - own)) / seconds;
    if (foreign <= threshold) return foreign;
  } while (performance.now() < deadline);
  return foreign;
}

export interface CpuWindow {
  /** Wall-clock seconds of the window. */
  seconds: number;
  /** Share of one core used by each watched server over the window (1 = one full core). */
  servers: Record<string, number>;
  /** Share of one core used by the database processes working for the server (PostgreSQL only). */
  database: number | null;
  /** Share of one core used by processes the bench did not start (load generator and driver excluded). */
  foreign: number | null;
}

/**
 * `start()` and `stop()` bracket the measured run (the load generator prints markers around it);
 * `result(childCpuSeconds)` then needs the CPU the load generator reported for that run.
 */
export class CpuMeter {
  #startedAt = 0;
  #stoppedAt = 0;
  #busy: [number | null, number | null] = [null, null];
  #own: [number, number] = [0, 0];
  #servers: Record<string, [number | null, number | null]> = {};
  #database = new Map<number, [number | null, number | null]>();

  /** `database`: the servers whose PostgreSQL backends to meter, and the database port. */
  constructor(
    private readonly pids: Record<string, number>,
    private readonly database?: { pids: number[]; port: number },
  ) {}

  #databaseBackends(): number[] {
    if (!this.database) return [];
    const { port } = this.database;
    return [...new Set(this.database.pids.flatMap((pid) => databaseProcesses(pid, port)))];
  }

  start(): void {
    this.#startedAt = performance.now();
    this.#busy[0] = systemBusySeconds();
    this.#own[0] = ownCpuSeconds();
    for (const [name, pid] of Object.entries(this.pids)) this.#servers[name] = [processCpuSeconds(pid), null];
    for (const pid of this.#databaseBackends()) this.#database.set(pid, [processCpuSeconds(pid), null]);
  }

  stop(): void {
    this.#stoppedAt = performance.now();
    this.#busy[1] = systemBusySeconds();
    this.#own[1] = ownCpuSeconds();
    for (const [name, pid] of Object.entries(this.pids)) {
      const entry = this.#servers[name];
      if (entry) entry[1] = processCpuSeconds(pid);
    }
    // A backend that appeared during the run counts from zero.
    for (const pid of this.#databaseBackends()) {
      const entry = this.#database.get(pid) ?? [0, null];
      entry[1] = processCpuSeconds(pid);
      this.#database.set(pid, entry);
    }
  }

  result(childCpuSeconds: number): CpuWindow | null {
    const seconds = (this.#stoppedAt - this.#startedAt) / 1000;
    if (!(seconds > 0)) return null;
    const servers: Record<string, number> = {};
    let serversTotal = 0;
    for (const [name, [before, after]] of Object.entries(this.#servers)) {
      if (before === null || after === null) continue;
      servers[name] = (after - before) / seconds;
      serversTotal += after - before;
    }
    let databaseTotal = 0;
    for (const [before, after] of this.#database.values()) if (before !== null && after !== null) databaseTotal += after - before;
    const [busyBefore, busyAfter] = this.#busy;
    const ours = serversTotal + databaseTotal + childCpuSeconds + (this.#own[1] - this.#own[0]);
    const foreign = busyBefore === null || busyAfter === null ? null : Math.max(0, busyAfter - busyBefore - ours) / seconds;
    return { seconds, servers, database: this.database ? databaseTotal / seconds : null, foreign };
  }
}
