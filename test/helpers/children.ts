import type { ChildProcess } from 'node:child_process';

/**
 * Processes a test started (servers, its own PostgreSQL and Redis) that are still running when
 * the test process ends — a failed assertion before the cleanup, or the runner cancelling the
 * file — are killed with it rather than left behind.
 */
const live = new Set<ChildProcess>();

function killLive(): void {
  for (const child of live) child.kill('SIGKILL');
}

process.once('exit', killLive);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    killLive();
    process.exit(1);
  });
}

export function killWithTestProcess(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}
