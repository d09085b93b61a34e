import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import type { Logger } from 'pino';

/**
 * SQLite's WAL checkpoints, off the event loop. By default the connection that commits runs a
 * checkpoint every 1,000 WAL pages, and a checkpoint syncs the database file: measured here, that
 * was two thirds of what a commit costs, paid on the event loop by whichever request happened to
 * commit. The server turns automatic checkpoints off and lets a worker thread, with its own
 * connection, checkpoint in the background (PASSIVE: it never blocks a writer or a reader).
 */

const CHECKPOINT_INTERVAL_MS = 500;
const BUSY_TIMEOUT_MS = 5_000;
// Back to SQLite's own default if the worker goes away, so the WAL cannot grow without bound.
const DEFAULT_AUTOCHECKPOINT_PAGES = 1_000;

// The worker is plain CommonJS evaluated from this string: it must load the same better-sqlite3
// the server uses, whatever the working directory, so it gets the resolved path.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driverPath);
const db = new Database(workerData.path);
db.pragma('busy_timeout = ${BUSY_TIMEOUT_MS}');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message || error) });
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'close') return;
  clearInterval(timer);
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
  db.close();
  process.exit(0);
});
`;

export interface Checkpointer {
  /** Asks the worker to checkpoint once more and end; does not wait for it. */
  stop(): void;
}

export function startBackgroundCheckpoints(sqlite: BetterSqlite3.Database, path: string, logger: Pick<Logger, 'warn'>): Checkpointer {
  const driverPath = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driverPath, intervalMs: CHECKPOINT_INTERVAL_MS } });
  sqlite.pragma('wal_autocheckpoint = 0');
  let isClosing = false;
  let hasWarned = false;
  worker.on('message', (message: { error?: string }) => {
    if (message.error === undefined || hasWarned) return;
    hasWarned = true;
    logger.warn({ reason: message.error }, 'background WAL checkpoint failed; retrying every interval');
  });
  const fallBack = (reason: string) => {
    if (isClosing) return;
    logger.warn({ reason }, 'background WAL checkpoints stopped; the server checkpoints on commit again');
    sqlite.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
  };
  worker.on('error', (error) => fallBack(error.message));
  worker.on('exit', (code) => fallBack(`worker exited with ${code}`));
  // After the listeners: adding a 'message' listener refs the worker again, and a referenced worker
  // would keep the process alive after everything else ended.
  worker.unref();
  return {
    stop() {
      isClosing = true;
      worker.postMessage('close');
    },
  };
}
