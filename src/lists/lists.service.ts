import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from '../db/schema.js';
import { offsetMeta, type LimitOffset } from '../http/pagination.js';
import { randomBase62 } from '../lib/base62.js';
import { AppError } from '../lib/errors.js';
import { isPlainObject, type JsonObject } from '../lib/json.js';
import { keysetPage, type PageQuery } from '../objects/objects.service.js';
import { checkDistinctId, iso, type ServiceDeps } from '../users/users.service.js';
import {
  countLists,
  countMembers,
  deleteList,
  deleteMembers,
  deleteVersionMembers,
  ensureList,
  findList,
  findListForUpdate,
  findVersion,
  insertMembers,
  insertVersion,
  listLists,
  listLiveMemberIds,
  listMemberPage,
  LIVE,
  replaceLiveMembers,
  retireActiveVersions,
  saveList,
  setVersionStatus,
  touchList,
  type ListRow,
  type ListVersionRow,
} from './lists.repo.js';

// SuprSend's documented list_id rules: at most 64 characters of [a-z0-9_-], compared in lowercase.
const LIST_ID_RE = /^[a-z0-9_-]{1,64}$/;
const MAX_VERSION_ID_CHARS = 128;
export const MAX_DISTINCT_IDS_PER_CALL = 1000;
const VERSION_ID_PREFIX = 'lv_';

const ListPayload = z.looseObject({
  list_id: z.string(),
  list_name: z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters').optional(),
  list_description: z.string().max(1000, 'must be at most 1000 characters').nullable().optional(),
});

/**
 * SuprSend lowercases list ids before storing or comparing them, so "Beta" and "beta" are one
 * list; the SDKs only trim. Returns undefined for an id no list can have.
 */
export function normaliseListId(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const id = value.trim().toLowerCase();
  return LIST_ID_RE.test(id) ? id : undefined;
}

export function checkListId(value: unknown): string {
  const id = normaliseListId(value);
  if (id === undefined) {
    throw new AppError('VALIDATION_FAILED', 'list_id must be 1-64 characters of a-z, 0-9, "_" or "-" (upper case is folded to lower case)');
  }
  return id;
}

export function checkVersionId(value: unknown): string {
  const id = typeof value === 'string' ? value.trim() : '';
  if (id === '' || id.length > MAX_VERSION_ID_CHARS) {
    throw new AppError('VALIDATION_FAILED', 'version_id must be the id start_sync returned');
  }
  return id;
}

/** `{"list_id", "list_name"?, "list_description"?}`; other keys SuprSend accepts are ignored. */
export function parseListPayload(body: unknown): { listId: string; name: string | undefined; description: string | null | undefined } {
  if (!isPlainObject(body))
    throw new AppError('VALIDATION_FAILED', 'body must be {"list_id": "…", "list_name": "…", "list_description": "…"}');
  const parsed = ListPayload.safeParse(body);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');
    throw new AppError('VALIDATION_FAILED', `invalid list: ${problems}`);
  }
  return { listId: checkListId(parsed.data.list_id), name: parsed.data.list_name, description: parsed.data.list_description };
}

/** `{"distinct_ids": [...]}` → the checked ids, duplicates dropped, in the order given. */
export function parseDistinctIds(body: unknown): string[] {
  const ids = isPlainObject(body) ? body['distinct_ids'] : undefined;
  if (!Array.isArray(ids)) throw new AppError('VALIDATION_FAILED', 'body must be {"distinct_ids": ["…", …]}');
  if (ids.length > MAX_DISTINCT_IDS_PER_CALL) {
    throw new AppError('VALIDATION_FAILED', `at most ${MAX_DISTINCT_IDS_PER_CALL} distinct_ids per request; split the call`);
  }
  return [...new Set(ids.map((id, index) => checkDistinctId(id, `distinct_ids[${index}]`)))];
}

const MEMBER_CURSOR_PREFIX = 'lm_';

/** A member's id and cursor: opaque to clients (they echo meta.after / meta.before back). */
function encodeMemberCursor(distinctId: string): string {
  return MEMBER_CURSOR_PREFIX + Buffer.from(distinctId, 'utf8').toString('base64url');
}

function decodeMemberCursor(cursor: string | undefined, name: string): string | undefined {
  if (cursor === undefined) return undefined;
  const text = cursor.startsWith(MEMBER_CURSOR_PREFIX)
    ? Buffer.from(cursor.slice(MEMBER_CURSOR_PREFIX.length), 'base64url').toString('utf8')
    : '';
  if (text === '' || encodeMemberCursor(text) !== cursor) {
    throw new AppError('VALIDATION_FAILED', `${name} must be a cursor taken from meta.${name} (or a member's id) of a previous response`);
  }
  return text;
}

function listView(row: ListRow, subscribersCount: number): JsonObject {
  return {
    list_id: row.list_id,
    list_name: row.name,
    list_description: row.description,
    subscribers_count: subscribersCount,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

function versionView(row: ListVersionRow, subscribersCount: number): JsonObject {
  return {
    list_id: row.list_id,
    version_id: row.version_id,
    status: row.status,
    subscribers_count: subscribersCount,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

function notFound(listId: string): AppError {
  return new AppError('NOT_FOUND', `list "${listId}" not found`);
}

function versionNotFound(listId: string, versionId: string): AppError {
  return new AppError('NOT_FOUND', `version "${versionId}" of list "${listId}" not found`);
}

export class ListService {
  constructor(private readonly deps: ServiceDeps) {}

  /** For delivery: whether a broadcast target exists. Ids no list can have simply do not exist. */
  async exists(workspaceId: string, listId: string): Promise<boolean> {
    const id = normaliseListId(listId);
    return id !== undefined && (await findList(this.deps.db, workspaceId, id)) !== undefined;
  }

  /** For delivery: live members' distinct_ids, ascending, strictly after `after`. */
  async memberPage(workspaceId: string, listId: string, after: string | undefined, limit: number): Promise<string[]> {
    const id = normaliseListId(listId);
    if (id === undefined || limit <= 0) return [];
    return listLiveMemberIds(this.deps.db, workspaceId, id, after, limit);
  }

  /** Creates the list, or updates the name and description of an existing one. */
  async create(workspaceId: string, body: unknown): Promise<JsonObject> {
    const { listId, name, description } = parseListPayload(body);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (trx) => {
      await ensureList(trx, workspaceId, listId, name ?? listId, now);
      const current = await this.lockList(trx, workspaceId, listId);
      const next = { name: name ?? current.name, description: description === undefined ? current.description : description };
      await saveList(trx, workspaceId, listId, next, now);
      return listView({ ...current, ...next, updated_at: now }, await countMembers(trx, workspaceId, listId, LIVE));
    });
  }

  async list(workspaceId: string, page: LimitOffset): Promise<JsonObject> {
    const [total, rows] = await Promise.all([countLists(this.deps.db, workspaceId), listLists(this.deps.db, workspaceId, page)]);
    return { meta: offsetMeta(total, page), results: rows.map((row) => listView(row, row.subscribers_count)) };
  }

  async get(workspaceId: string, listId: string): Promise<JsonObject> {
    const id = checkListId(listId);
    const row = await findList(this.deps.db, workspaceId, id);
    if (!row) throw notFound(id);
    return listView(row, await countMembers(this.deps.db, workspaceId, id, LIVE));
  }

  /**
   * `GET …/subscriber/`: the live members in cursor pages, SuprSend's `{meta, results: [{id,
   * distinct_id, created_at}]}`. Herald's member `id` is an opaque cursor over the distinct_id, so
   * `sort=id` / `-id` (SuprSend's default) order by distinct_id rather than by time added.
   */
  async members(workspaceId: string, listId: string, query: PageQuery & { descending: boolean }): Promise<JsonObject> {
    const id = checkListId(listId);
    const after = decodeMemberCursor(query.after, 'after');
    const before = decodeMemberCursor(query.before, 'before');
    if (!(await findList(this.deps.db, workspaceId, id))) throw notFound(id);
    const rows = await listMemberPage(this.deps.db, workspaceId, id, { limit: query.limit, after, before, descending: query.descending });
    const { items, meta } = keysetPage(rows, query, (row) => encodeMemberCursor(row.distinct_id));
    return {
      meta,
      results: items.map((row) => ({
        id: encodeMemberCursor(row.distinct_id),
        distinct_id: row.distinct_id,
        created_at: iso(row.created_at),
      })),
    };
  }

  async addMembers(workspaceId: string, listId: string, body: unknown): Promise<JsonObject> {
    return this.changeLiveMembers(workspaceId, listId, body, 'add');
  }

  async removeMembers(workspaceId: string, listId: string, body: unknown): Promise<JsonObject> {
    return this.changeLiveMembers(workspaceId, listId, body, 'remove');
  }

  /** Deletes the list with its members and versions. */
  async delete(workspaceId: string, listId: string): Promise<void> {
    const id = checkListId(listId);
    await this.deps.db.transaction().execute(async (trx) => {
      await this.lockList(trx, workspaceId, id);
      await deleteList(trx, workspaceId, id);
    });
  }

  /** Opens a draft version to fill with the complete new membership; finish_sync makes it live. */
  async startSync(workspaceId: string, listId: string): Promise<JsonObject> {
    const id = checkListId(listId);
    const now = this.deps.clock.now();
    const versionId = `${VERSION_ID_PREFIX}${randomBase62(20)}`;
    return this.deps.db.transaction().execute(async (trx) => {
      await this.lockList(trx, workspaceId, id);
      await insertVersion(trx, workspaceId, id, versionId, now);
      return versionView(
        { workspace_id: workspaceId, list_id: id, version_id: versionId, status: 'draft', created_at: now, updated_at: now },
        0,
      );
    });
  }

  async getVersion(workspaceId: string, listId: string, versionId: string): Promise<JsonObject> {
    const id = checkListId(listId);
    const vid = checkVersionId(versionId);
    if (!(await findList(this.deps.db, workspaceId, id))) throw notFound(id);
    const version = await findVersion(this.deps.db, workspaceId, id, vid);
    if (!version) throw versionNotFound(id, vid);
    return versionView(version, await this.versionCount(this.deps.db, version));
  }

  async addToVersion(workspaceId: string, listId: string, versionId: string, body: unknown): Promise<JsonObject> {
    return this.changeVersionMembers(workspaceId, listId, versionId, body, 'add');
  }

  async removeFromVersion(workspaceId: string, listId: string, versionId: string, body: unknown): Promise<JsonObject> {
    return this.changeVersionMembers(workspaceId, listId, versionId, body, 'remove');
  }

  /**
   * Atomically makes the draft's members the live members and the draft the active version (the
   * previous active one is marked deleted). Finishing an already active version answers as
   * before, so a retried call after a lost response succeeds.
   */
  async finishSync(workspaceId: string, listId: string, versionId: string): Promise<JsonObject> {
    const id = checkListId(listId);
    const vid = checkVersionId(versionId);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (trx) => {
      await this.lockList(trx, workspaceId, id);
      const version = await findVersion(trx, workspaceId, id, vid);
      if (!version) throw versionNotFound(id, vid);
      if (version.status === 'deleted') {
        throw new AppError('CONFLICT', `version "${vid}" was deleted or replaced by a later sync; call start_sync for a new version`);
      }
      if (version.status === 'draft') {
        await retireActiveVersions(trx, workspaceId, id, now);
        await replaceLiveMembers(trx, workspaceId, id, vid);
        await setVersionStatus(trx, workspaceId, id, vid, 'active', now);
        await touchList(trx, workspaceId, id, now);
      }
      const active = { ...version, status: 'active' as const, updated_at: version.status === 'draft' ? now : version.updated_at };
      return versionView(active, await countMembers(trx, workspaceId, id, LIVE));
    });
  }

  /** Abandons a draft. The active version is the live list itself, so it cannot be deleted on its own. */
  async deleteVersion(workspaceId: string, listId: string, versionId: string): Promise<void> {
    const id = checkListId(listId);
    const vid = checkVersionId(versionId);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (trx) => {
      await this.lockList(trx, workspaceId, id);
      const version = await findVersion(trx, workspaceId, id, vid);
      if (!version) throw versionNotFound(id, vid);
      if (version.status === 'active') {
        throw new AppError('CONFLICT', `version "${vid}" is the live list; start a new sync to replace it, or delete the list`);
      }
      if (version.status === 'draft') {
        await deleteVersionMembers(trx, workspaceId, id, vid);
        await setVersionStatus(trx, workspaceId, id, vid, 'deleted', now);
      }
    });
  }

  private async changeLiveMembers(workspaceId: string, listId: string, body: unknown, change: 'add' | 'remove'): Promise<JsonObject> {
    const id = checkListId(listId);
    const ids = parseDistinctIds(body);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (trx) => {
      const row = await this.lockList(trx, workspaceId, id);
      if (change === 'add') await insertMembers(trx, workspaceId, id, LIVE, ids, now);
      else await deleteMembers(trx, workspaceId, id, LIVE, ids);
      await touchList(trx, workspaceId, id, now);
      return listView({ ...row, updated_at: now }, await countMembers(trx, workspaceId, id, LIVE));
    });
  }

  private async changeVersionMembers(
    workspaceId: string,
    listId: string,
    versionId: string,
    body: unknown,
    change: 'add' | 'remove',
  ): Promise<JsonObject> {
    const id = checkListId(listId);
    const vid = checkVersionId(versionId);
    const ids = parseDistinctIds(body);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (trx) => {
      await this.lockList(trx, workspaceId, id);
      const version = await findVersion(trx, workspaceId, id, vid);
      if (!version) throw versionNotFound(id, vid);
      if (version.status !== 'draft') {
        throw new AppError('CONFLICT', `version "${vid}" is ${version.status}, not a draft; call start_sync for a new version`);
      }
      if (change === 'add') await insertMembers(trx, workspaceId, id, vid, ids, now);
      else await deleteMembers(trx, workspaceId, id, vid, ids);
      await setVersionStatus(trx, workspaceId, id, vid, 'draft', now);
      return versionView({ ...version, updated_at: now }, await countMembers(trx, workspaceId, id, vid));
    });
  }

  /** An active version is the live list; a deleted one has no members left. */
  private async versionCount(db: Kysely<Database>, version: ListVersionRow): Promise<number> {
    if (version.status === 'deleted') return 0;
    return countMembers(db, version.workspace_id, version.list_id, version.status === 'active' ? LIVE : version.version_id);
  }

  private async lockList(trx: Kysely<Database>, workspaceId: string, listId: string): Promise<ListRow> {
    const row = await findListForUpdate(trx, this.deps.engine, workspaceId, listId);
    if (!row) throw notFound(listId);
    return row;
  }
}
