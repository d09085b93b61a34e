import type { Kysely } from 'kysely';
import { redactSecrets } from '../credentials/redact.js';
import type { Database, RequestLogTable } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import { decodeTimeCursor, encodeTimeCursor } from '../lib/cursor.js';
import {
  deleteRequestLogBeyondCount,
  deleteRequestLogOlderThan,
  insertRequestLogRows,
  listRequestLogRows,
  type NewRequestLogRow,
  type RequestLogRow,
} from './request-log.repo.js';

/**
 * The request log: every API request, per workspace, with the precise reason of each rejection.
 * `record` only appends to memory; rows reach the database in batches (every FLUSH_INTERVAL_MS or
 * BATCH_SIZE entries, one transaction each), so a request costs no write of its own. Retention is
 * bounded by age and by count per workspace, enforced by a periodic prune, not per request.
 */

export type RequestCredentialType = RequestLogTable['credential_type'];

/** What the HTTP hook knows about one finished request. */
export interface RequestLogEntry {
  requestId: string;
  workspaceId: string | null;
  /** Epoch ms when the response finished. */
  at: number;
  method: string;
  /** Path without the query string. */
  path: string;
  route: string | null;
  status: number;
  latencyMs: number;
  credentialType: RequestCredentialType;
  credentialId: string | null;
  subscriberId: string | null;
  errorCode: string | null;
  reason: string | null;
  /** The credential was verified; unauthenticated entries are kept within a budget of their own. */
  isAuthenticated: boolean;
}

export interface RequestLogEntryView {
  request_id: string;
  time: number;
  workspace_id: string | null;
  method: string;
  path: string;
  route: string | null;
  status: number;
  latency_ms: number;
  credential: { type: RequestCredentialType; id: string | null };
  subscriber_id: string | null;
  error: { code: string; reason: string | null } | null;
}

export interface RequestLogPage {
  entries: RequestLogEntryView[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  next: string | null;
}

export interface RequestLogListOptions {
  limit?: number | undefined;
  before?: string | undefined;
  status?: 'all' | 'errors' | undefined;
  credentialId?: string | undefined;
}

export interface RequestLogOptions {
  /** Rows kept per workspace; 0 turns the request log off. */
  maxRows: number;
  maxAgeMs: number;
  flushIntervalMs?: number;
  batchSize?: number;
  pruneIntervalMs?: number;
  /** Entries held in memory at most (the database being unreachable); beyond, new ones are dropped. */
  maxBuffered?: number;
}

const FLUSH_INTERVAL_MS = 1_000;
const BATCH_SIZE = 200;
const PRUNE_INTERVAL_MS = 60_000;
const MAX_BUFFERED = 20_000;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;
const MAX_PATH_CHARS = 1_000;
const MAX_REASON_CHARS = 2_000;
const MAX_ID_CHARS = 600;

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function clean(text: string | null, max: number): string | null {
  return text === null ? null : clip(redactSecrets(text), max);
}

// Most requests repeat a path seen moments ago (a feed, a count, a trigger route); redacting it
// again costs as much as the rest of recording the entry. The cache forgets everything when full.
const MAX_CACHED_PATHS = 2_000;
const cleanPaths = new Map<string, string>();

function cleanPath(path: string): string {
  let cleaned = cleanPaths.get(path);
  if (cleaned === undefined) {
    cleaned = clean(path, MAX_PATH_CHARS) ?? '';
    if (cleanPaths.size >= MAX_CACHED_PATHS) cleanPaths.clear();
    cleanPaths.set(path, cleaned);
  }
  return cleaned;
}

function toView(row: RequestLogRow): RequestLogEntryView {
  return {
    request_id: row.request_id,
    time: row.created_at,
    workspace_id: row.workspace_id,
    method: row.method,
    path: row.path,
    route: row.route,
    status: row.status,
    latency_ms: row.latency_ms,
    credential: { type: row.credential_type, id: row.credential_id },
    subscriber_id: row.subscriber_id,
    error: row.error_code === null ? null : { code: row.error_code, reason: row.reason },
  };
}

export class RequestLogService {
  #buffer: NewRequestLogRow[] = [];
  #dropped = 0;
  /** Flushes run one after another, never concurrently. */
  #flushing: Promise<void> = Promise.resolve();
  #timers: NodeJS.Timeout[] = [];
  #onError: (error: unknown, what: string) => void = () => {};
  readonly #options: Required<RequestLogOptions>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Clock,
    options: RequestLogOptions,
  ) {
    this.#options = {
      flushIntervalMs: FLUSH_INTERVAL_MS,
      batchSize: BATCH_SIZE,
      pruneIntervalMs: PRUNE_INTERVAL_MS,
      maxBuffered: MAX_BUFFERED,
      ...options,
    };
  }

  get isEnabled(): boolean {
    return this.#options.maxRows > 0;
  }

  /** Entries recorded and not yet written. */
  get pending(): number {
    return this.#buffer.length;
  }

  /** Starts the periodic flush and prune (the server does; the CLI does not). */
  start(onError?: (error: unknown, what: string) => void): void {
    if (onError) this.#onError = onError;
    if (!this.isEnabled || this.#timers.length > 0) return;
    const prune = () => void this.prune().catch((error: unknown) => this.#onError(error, 'could not prune the request log'));
    const flush = () => void this.flush().catch((error: unknown) => this.#onError(error, 'could not write the request log'));
    this.#timers = [setInterval(flush, this.#options.flushIntervalMs), setInterval(prune, this.#options.pruneIntervalMs)];
    for (const timer of this.#timers) timer.unref();
    prune();
  }

  /** Stops the timers and writes what is buffered. */
  async close(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    await this.flush();
  }

  /** Buffers one entry. Never throws and never waits for the database. */
  record(entry: RequestLogEntry): void {
    if (!this.isEnabled) return;
    if (this.#buffer.length >= this.#options.maxBuffered) {
      this.#dropped += 1;
      return;
    }
    this.#buffer.push({
      request_id: clip(entry.requestId, 100),
      workspace_id: entry.workspaceId,
      created_at: entry.at,
      method: clip(entry.method, 16),
      path: cleanPath(entry.path),
      // A route pattern comes from Herald's own route table, never from the client.
      route: entry.route === null ? null : clip(entry.route, MAX_PATH_CHARS),
      status: entry.status,
      latency_ms: Math.round(entry.latencyMs * 1_000) / 1_000,
      credential_type: entry.credentialType,
      credential_id: clean(entry.credentialId, MAX_ID_CHARS),
      subscriber_id: clean(entry.subscriberId, MAX_ID_CHARS),
      error_code: entry.errorCode === null ? null : clip(entry.errorCode, 64),
      reason: clean(entry.reason, MAX_REASON_CHARS),
      is_authenticated: entry.isAuthenticated ? 1 : 0,
    });
    if (this.#buffer.length >= this.#options.batchSize) {
      void this.flush().catch((error: unknown) => this.#onError(error, 'could not write the request log'));
    }
  }

  /** Writes everything buffered so far, in one transaction. */
  flush(): Promise<void> {
    const run = this.#flushing.then(() => this.#write());
    this.#flushing = run.catch(() => {});
    return run;
  }

  async #write(): Promise<void> {
    if (this.#dropped > 0) {
      this.#onError(new Error(`${this.#dropped} entries dropped: the buffer was full`), 'request log overflow');
      this.#dropped = 0;
    }
    if (this.#buffer.length === 0) return;
    const batch = this.#buffer;
    this.#buffer = [];
    try {
      await insertRequestLogRows(this.db, batch);
    } catch (error) {
      // Kept for the next attempt (a database blip), within the buffer bound; the oldest go first.
      this.#buffer = [...batch, ...this.#buffer].slice(-this.#options.maxBuffered);
      throw error;
    }
  }

  /** Deletes what is past the age limit, then what is past the count limit of each workspace. */
  async prune(): Promise<{ byAge: number; byCount: number }> {
    if (!this.isEnabled) return { byAge: 0, byCount: 0 };
    const byAge = await deleteRequestLogOlderThan(this.db, this.clock.now() - this.#options.maxAgeMs);
    const byCount = await deleteRequestLogBeyondCount(this.db, this.#options.maxRows);
    return { byAge, byCount };
  }

  /**
   * Newest first. `workspaceId` null lists requests that named no known workspace (no
   * credential, unknown key). Entries still in the buffer are not listed.
   */
  async list(workspaceId: string | null, options: RequestLogListOptions = {}): Promise<RequestLogPage> {
    const limit = Math.min(Math.max(Math.trunc(options.limit ?? DEFAULT_LIMIT), 1), MAX_LIMIT);
    const before = options.before === undefined || options.before === '' ? undefined : decodeTimeCursor(options.before);
    const rows = await listRequestLogRows(this.db, workspaceId, {
      limit: limit + 1,
      before,
      isErrorsOnly: options.status === 'errors',
      credentialId: options.credentialId === '' ? undefined : options.credentialId,
    });
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      entries: page.map(toView),
      next: rows.length > limit && last ? encodeTimeCursor({ at: last.created_at, seq: last.seq }) : null,
    };
  }
}
