import type { Kysely } from 'kysely';
import { prepared } from '../db/prepared.js';
import type { Database } from '../db/schema.js';
import type { FeedScope } from './inbox.repo.js';

/**
 * Feed pages and counts as sent, kept per feed and request, and served again while the feed's
 * version (inbox_versions, kept by database triggers in the same transaction as every change) is
 * the one they were built under. A request then costs one indexed read instead of a page query, a
 * capped count and the JSON of twenty notifications. Every node checks the version in the shared
 * database, so a change made through any node is seen by the next request to every node.
 *
 * The version is read before the answer is built: a change that lands in between leaves an answer
 * newer than its version, never older, and the next read sees the new version anyway.
 *
 * A feed holding a notification whose expiry has not passed yet changes with the clock alone, so
 * its answers are built every time until the last expiry it was given has passed.
 */

interface Entry {
  version: string;
  body: string;
  bytes: number;
}

const versionOf = prepared('inboxVersion', (db, p: FeedScope) =>
  db
    .selectFrom('inbox_versions')
    .select(['version', 'max_expiry'])
    .where('workspace_id', '=', p.workspaceId)
    .where('distinct_id', '=', p.distinctId)
    .where('tenant_id', '=', p.tenantId),
);

// A feed with no row has never held a notification nor had its bell reset since the row would
// have been written: it stays that way until a write creates the row with a new version.
const NO_ROW = 'none';

export interface FeedCacheStats {
  hits: number;
  misses: number;
  entries: number;
  bytes: number;
}

export class FeedCache {
  // Map order is recency: a hit moves its entry to the end, eviction takes from the front.
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  #hits = 0;
  #misses = 0;

  /** `maxBytes` 0 turns caching off (every answer is built, the version is not read). */
  constructor(private readonly maxBytes: number) {}

  /**
   * The JSON answer for `key` (what the request asks of the feed: store, position, page size) in
   * `scope`: the cached one when the feed has not changed since it was built, else `build()`'s.
   */
  async serve(db: Kysely<Database>, scope: FeedScope, key: string, now: number, build: () => Promise<unknown>): Promise<string> {
    if (this.maxBytes === 0) return JSON.stringify(await build());
    const row = await versionOf.executeTakeFirst(db, scope);
    const version = row ? String(row.version) : NO_ROW;
    const cacheable = row?.max_expiry === null || row?.max_expiry === undefined || Number(row.max_expiry) <= now;
    const id = `${scope.workspaceId}\u0000${scope.distinctId}\u0000${scope.tenantId}\u0000${key}`;
    const entry = this.#entries.get(id);
    if (cacheable && entry?.version === version) {
      this.#hits += 1;
      this.#entries.delete(id);
      this.#entries.set(id, entry);
      return entry.body;
    }
    this.#misses += 1;
    const body = JSON.stringify(await build());
    if (entry) this.#remove(id, entry);
    if (cacheable) this.#add(id, { version, body, bytes: (id.length + body.length) * 2 });
    return body;
  }

  stats(): FeedCacheStats {
    return { hits: this.#hits, misses: this.#misses, entries: this.#entries.size, bytes: this.#bytes };
  }

  #add(id: string, entry: Entry): void {
    if (entry.bytes > this.maxBytes) return;
    // Another request may have stored this id while the answer was being built.
    const current = this.#entries.get(id);
    if (current) this.#remove(id, current);
    this.#entries.set(id, entry);
    this.#bytes += entry.bytes;
    for (const [oldest, old] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#remove(oldest, old);
    }
  }

  #remove(id: string, entry: Entry): void {
    if (this.#entries.get(id) !== entry) return;
    this.#entries.delete(id);
    this.#bytes -= entry.bytes;
  }
}
