import type { Kysely } from 'kysely';
import type { Engine } from '../config.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { isPlainObject, parseJsonObject, type JsonObject } from '../lib/json.js';
import { checkIdText, integerIdAsText, MAX_DISTINCT_ID_CHARS } from '../lib/text.js';
import { applyOperation, applyUpsertPayload, CHANNEL_KEYS, type Profile } from './user-operations.js';
import {
  deleteUsers,
  ensureUser,
  findUser,
  findUserForUpdate,
  listUserListIds,
  listUserObjectSubscriptions,
  listUsers,
  searchUsers,
  moveUserLinks,
  saveUserProfile,
  type UserRow,
} from './users.repo.js';

export interface ServiceDeps {
  db: Kysely<Database>;
  engine: Engine;
  clock: Clock;
}

const MAX_PROFILE_BYTES = 256 * 1024;

/** A distinct_id from a request: non-empty clean text, or a whole JSON number as its decimal text (lib/text.ts). */
export function checkDistinctId(raw: unknown, what = 'distinct_id'): string {
  const value = integerIdAsText(raw, what);
  if (typeof value !== 'string' || value.trim().length === 0) throw new AppError('VALIDATION_FAILED', `${what} must be a non-empty string`);
  return checkIdText(value.trim(), what, MAX_DISTINCT_ID_CHARS);
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function profileOf(row: { properties: string; channels: string }): Profile {
  return { properties: parseJsonObject(row.properties), channels: parseJsonObject(row.channels) as Profile['channels'] };
}

/** The user as the API shows it: properties, one array per channel, timestamps. */
export function userView(row: UserRow): JsonObject {
  const profile = profileOf(row);
  const channels = Object.fromEntries(CHANNEL_KEYS.filter((k) => profile.channels[k]?.length).map((k) => [k, profile.channels[k]]));
  return {
    distinct_id: row.distinct_id,
    properties: profile.properties,
    ...channels,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

function cursorPage<T>(rows: T[], limit: number): { items: T[]; hasMore: boolean } {
  return { items: rows.slice(0, limit), hasMore: rows.length > limit };
}

export class UserService {
  constructor(private readonly deps: ServiceDeps) {}

  /**
   * Creates the user if needed and applies `mutate` to its profile, inside `trx` (PostgreSQL
   * locks the row). This is the one place profiles change.
   */
  async mutate(trx: Kysely<Database>, workspaceId: string, distinctId: string, mutate: (profile: Profile) => void): Promise<UserRow> {
    const now = this.deps.clock.now();
    // Most users exist already: one locking read then. A new one is inserted (a concurrent insert
    // of the same user is no error) and read again.
    let row = await findUserForUpdate(trx, this.deps.engine, workspaceId, distinctId);
    if (!row) {
      await ensureUser(trx, workspaceId, distinctId, now);
      row = await findUserForUpdate(trx, this.deps.engine, workspaceId, distinctId);
    }
    if (!row) throw new AppError('INTERNAL', 'user vanished during an update');
    const profile = profileOf(row);
    mutate(profile);
    const properties = JSON.stringify(profile.properties);
    const channels = JSON.stringify(profile.channels);
    if (properties.length + channels.length > MAX_PROFILE_BYTES) {
      throw new AppError('VALIDATION_FAILED', `user profile would exceed ${MAX_PROFILE_BYTES / 1024} KiB`);
    }
    // Most mutations of a trigger's recipients change nothing: no write, and updated_at stays.
    if (properties === row.properties && channels === row.channels) return row;
    await saveUserProfile(trx, workspaceId, distinctId, { properties, channels }, now);
    return { ...row, properties, channels, updated_at: now };
  }

  async get(workspaceId: string, distinctId: string): Promise<JsonObject> {
    const row = await findUser(this.deps.db, workspaceId, distinctId);
    if (!row) throw new AppError('NOT_FOUND', `user "${distinctId}" not found`);
    return userView(row);
  }

  async list(workspaceId: string, query: { limit: number; after?: string | undefined; before?: string | undefined }): Promise<JsonObject> {
    const rows = await listUsers(this.deps.db, workspaceId, query);
    const { items, hasMore } = cursorPage(rows, query.limit);
    const isBackward = query.before !== undefined && query.after === undefined;
    const ordered = isBackward ? items.reverse() : items;
    const first = ordered[0]?.distinct_id ?? null;
    const last = ordered[ordered.length - 1]?.distinct_id ?? null;
    return {
      meta: {
        limit: query.limit,
        count: ordered.length,
        has_prev: isBackward ? hasMore : query.after !== undefined,
        has_next: isBackward ? query.before !== undefined : hasMore,
        before: first,
        after: last,
      },
      results: ordered.map(userView),
    };
  }

  /**
   * The admin dashboard's user list: `search` matches a distinct_id prefix, or the name or an
   * email containing it; pages go forward by distinct_id (`after`).
   */
  async search(
    workspaceId: string,
    query: { search?: string | undefined; limit: number; after?: string | undefined },
  ): Promise<{ users: JsonObject[]; next: string | null }> {
    const term = query.search?.trim() ?? '';
    const rows =
      term === ''
        ? await listUsers(this.deps.db, workspaceId, { limit: query.limit, after: query.after })
        : await searchUsers(this.deps.db, this.deps.engine, workspaceId, { term, limit: query.limit, after: query.after });
    const { items, hasMore } = cursorPage(rows, query.limit);
    return { users: items.map(userView), next: hasMore ? (items[items.length - 1]?.distinct_id ?? null) : null };
  }

  async upsert(workspaceId: string, distinctId: string, payload: unknown): Promise<JsonObject> {
    if (payload !== undefined && payload !== null && !isPlainObject(payload))
      throw new AppError('VALIDATION_FAILED', 'user payload must be a JSON object');
    const row = await this.deps.db
      .transaction()
      .execute((trx) => this.mutate(trx, workspaceId, distinctId, (profile) => applyUpsertPayload(profile, (payload ?? {}) as JsonObject)));
    return userView(row);
  }

  /** `{"operations":[…]}` as users.edit sends it, or a plain payload (treated as an upsert). */
  async edit(workspaceId: string, distinctId: string, body: unknown): Promise<JsonObject> {
    if (!isPlainObject(body)) throw new AppError('VALIDATION_FAILED', 'body must be {"operations": [...]}');
    const operations = body['operations'];
    if (operations === undefined) return this.upsert(workspaceId, distinctId, body);
    if (!Array.isArray(operations)) throw new AppError('VALIDATION_FAILED', 'operations must be a list');
    const row = await this.deps.db.transaction().execute((trx) =>
      this.mutate(trx, workspaceId, distinctId, (profile) => {
        for (const operation of operations) applyOperation(profile, operation);
      }),
    );
    return userView(row);
  }

  /** Folds `fromId` into `distinctId`: properties it lacks, channels, lists, tenants, inbox; then deletes `fromId`. */
  async merge(workspaceId: string, distinctId: string, fromId: string): Promise<JsonObject> {
    if (fromId === distinctId) throw new AppError('VALIDATION_FAILED', 'cannot merge a user into itself');
    const row = await this.deps.db.transaction().execute(async (trx) => {
      const from = await findUserForUpdate(trx, this.deps.engine, workspaceId, fromId);
      if (!from) throw new AppError('NOT_FOUND', `user "${fromId}" not found`);
      const source = profileOf(from);
      const merged = await this.mutate(trx, workspaceId, distinctId, (profile) => {
        for (const [key, value] of Object.entries(source.properties)) if (!(key in profile.properties)) profile.properties[key] = value;
        for (const key of CHANNEL_KEYS) {
          const identities = source.channels[key];
          if (!identities?.length) continue;
          const mine = profile.channels[key] ?? [];
          for (const identity of identities) {
            if (!mine.some((m) => JSON.stringify(m.value) === JSON.stringify(identity.value))) mine.push(identity);
          }
          profile.channels[key] = mine;
        }
      });
      await moveUserLinks(trx, workspaceId, fromId, distinctId);
      await deleteUsers(trx, workspaceId, [fromId]);
      return merged;
    });
    return userView(row);
  }

  async delete(workspaceId: string, distinctId: string): Promise<void> {
    const deleted = await this.deps.db.transaction().execute((trx) => deleteUsers(trx, workspaceId, [distinctId]));
    if (deleted === 0) throw new AppError('NOT_FOUND', `user "${distinctId}" not found`);
  }

  async bulkDelete(workspaceId: string, body: unknown): Promise<number> {
    const ids = isPlainObject(body) ? body['distinct_ids'] : undefined;
    if (!Array.isArray(ids) || ids.length === 0) throw new AppError('VALIDATION_FAILED', 'body must be {"distinct_ids": ["…", …]}');
    if (ids.length > 1000) throw new AppError('VALIDATION_FAILED', 'at most 1000 distinct_ids per request');
    const checked = ids.map((id) => checkDistinctId(id));
    return this.deps.db.transaction().execute((trx) => deleteUsers(trx, workspaceId, checked));
  }

  async subscribedLists(workspaceId: string, distinctId: string, page: { limit: number; after?: string | undefined }): Promise<JsonObject> {
    const rows = await listUserListIds(this.deps.db, workspaceId, distinctId, page);
    const { items, hasMore } = cursorPage(rows, page.limit);
    return {
      meta: { limit: page.limit, count: items.length, has_next: hasMore, after: items[items.length - 1]?.list_id ?? null },
      results: items.map((r) => ({ list_id: r.list_id, subscribed_at: iso(r.created_at) })),
    };
  }

  async subscribedObjects(workspaceId: string, distinctId: string, page: { limit: number }): Promise<JsonObject> {
    const rows = await listUserObjectSubscriptions(this.deps.db, workspaceId, distinctId, page);
    const { items, hasMore } = cursorPage(rows, page.limit);
    return {
      meta: { limit: page.limit, count: items.length, has_next: hasMore },
      results: items.map((r) => ({
        object: { object_type: r.object_type, id: r.object_id },
        properties: parseJsonObject(r.properties),
        created_at: iso(r.created_at),
      })),
    };
  }
}
