import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { AppError } from '../lib/errors.js';
import { isPlainObject, parseJsonObject, type JsonObject } from '../lib/json.js';
import { applyOperation, applyUpsertPayload, CHANNEL_KEYS, type Profile } from '../users/user-operations.js';
import { checkDistinctId, iso, profileOf, UserService, type ServiceDeps } from '../users/users.service.js';
import {
  deleteObjects,
  deleteSubscriptions,
  ensureObject,
  findObject,
  findFanOutUserIds,
  findObjectForUpdate,
  findSubscribers,
  listObjects,
  listSubscribedTo,
  listSubscribers,
  saveObjectProfile,
  upsertSubscription,
  type KeyPair,
  type ObjectWithCount,
  type RecipientKey,
  type SubscribedToRow,
  type SubscriptionRow,
} from './objects.repo.js';

const MAX_OBJECT_KEY_CHARS = 256;
const MAX_PROFILE_BYTES = 256 * 1024;
/** SuprSend documents "up to 100 recipients" per subscription call. */
const MAX_RECIPIENTS_PER_REQUEST = 100;
const MAX_BULK_DELETE_IDS = 1000;
/** recipient_type of a user subscriber; an object subscriber stores its object type there. */
const USER_RECIPIENT_TYPE = '';

function checkObjectKey(value: unknown, what: string): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (text.length === 0 || text.length > MAX_OBJECT_KEY_CHARS) {
    throw new AppError('VALIDATION_FAILED', `${what} must be a non-empty string of at most ${MAX_OBJECT_KEY_CHARS} characters`);
  }
  return text;
}

export function checkObjectType(value: unknown, what = 'object_type'): string {
  return checkObjectKey(value, what);
}

export function checkObjectId(value: unknown, what = 'object id'): string {
  return checkObjectKey(value, what);
}

export type SubscriptionRecipient =
  { kind: 'user'; distinctId: string; payload: JsonObject } | { kind: 'object'; objectType: string; objectId: string; payload: JsonObject };

/**
 * One entry of `recipients`: a distinct_id string, a user `{"distinct_id", …identities}`, or an
 * object `{"object_type", "id", …}`. `payload` is what is left to upsert onto that recipient.
 */
export function parseRecipient(raw: unknown, where: string): SubscriptionRecipient {
  if (typeof raw === 'string') return { kind: 'user', distinctId: checkDistinctId(raw, where), payload: {} };
  if (!isPlainObject(raw)) {
    throw new AppError('VALIDATION_FAILED', `${where} must be a distinct_id, {"distinct_id": …} or {"object_type": …, "id": …}`);
  }
  const { distinct_id: distinctId, object_type: objectType, id, ...payload } = raw;
  const isUser = distinctId !== undefined;
  const isObject = objectType !== undefined || id !== undefined;
  if (isUser === isObject) {
    throw new AppError('VALIDATION_FAILED', `${where} must have either "distinct_id" (a user) or "object_type" and "id" (an object)`);
  }
  if (isUser) return { kind: 'user', distinctId: checkDistinctId(distinctId, `${where}.distinct_id`), payload };
  return {
    kind: 'object',
    objectType: checkObjectType(objectType, `${where}.object_type`),
    objectId: checkObjectId(id, `${where}.id`),
    payload,
  };
}

export function recipientKey(recipient: SubscriptionRecipient): RecipientKey {
  return recipient.kind === 'user'
    ? { recipient_type: USER_RECIPIENT_TYPE, recipient_id: recipient.distinctId }
    : { recipient_type: recipient.objectType, recipient_id: recipient.objectId };
}

function readRecipients(body: unknown): SubscriptionRecipient[] {
  const raw = isPlainObject(body) ? body['recipients'] : undefined;
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new AppError(
      'VALIDATION_FAILED',
      'body must be {"recipients": ["distinct_id" | {"distinct_id": …} | {"object_type": …, "id": …}, …]}',
    );
  }
  if (raw.length > MAX_RECIPIENTS_PER_REQUEST) {
    throw new AppError('VALIDATION_FAILED', `at most ${MAX_RECIPIENTS_PER_REQUEST} recipients per request; split the list`);
  }
  return raw.map((item, index) => parseRecipient(item, `recipients[${index}]`));
}

/**
 * Opaque keyset cursor over a two-column ordering. Clients only echo it back from
 * meta.after / meta.before, so its format may change between releases.
 */
export function encodeKeyCursor(key: KeyPair): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeKeyCursor(cursor: string | undefined, name: string): KeyPair | undefined {
  if (cursor === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return [value[0], value[1]];
    }
  } catch {
    // Falls through to the validation error below.
  }
  throw new AppError('VALIDATION_FAILED', `${name} must be a cursor taken from meta.${name} of a previous response`);
}

export interface PageQuery {
  limit: number;
  after?: string | undefined;
  before?: string | undefined;
}

/**
 * Turns limit+1 rows fetched in scan order into a page in display order with its meta. A
 * backward page (`before` without `after`) was scanned in reverse, so it is flipped back.
 */
export function keysetPage<T>(rows: T[], query: PageQuery, cursorOf: (row: T) => string): { items: T[]; meta: JsonObject } {
  const isBackward = query.before !== undefined && query.after === undefined;
  const hasMore = rows.length > query.limit;
  const items = rows.slice(0, query.limit);
  if (isBackward) items.reverse();
  const hasPrev = isBackward ? hasMore : query.after !== undefined;
  const hasNext = isBackward ? true : hasMore;
  const first = items[0];
  const last = items[items.length - 1];
  return {
    items,
    meta: {
      limit: query.limit,
      count: items.length,
      has_prev: hasPrev,
      has_next: hasNext,
      before: hasPrev && first !== undefined ? cursorOf(first) : null,
      after: hasNext && last !== undefined ? cursorOf(last) : null,
    },
  };
}

function channelArrays(profile: Profile): JsonObject {
  return Object.fromEntries(CHANNEL_KEYS.filter((k) => profile.channels[k]?.length).map((k) => [k, profile.channels[k]]));
}

/** The object as the API shows it: properties, one array per channel, subscriber count, timestamps. */
export function objectView(row: ObjectWithCount): JsonObject {
  const profile = profileOf(row);
  return {
    object_type: row.object_type,
    id: row.object_id,
    subscriptions_count: row.subscriptions_count,
    properties: profile.properties,
    ...channelArrays(profile),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

/**
 * A subscription as SuprSend lists it: exactly one of `user` / `object` is set. The table has no
 * updated_at of its own (re-subscribing only replaces properties), so created_at stands in.
 */
function subscriptionView(row: SubscriptionRow): JsonObject {
  const isUser = row.recipient_type === USER_RECIPIENT_TYPE;
  return {
    properties: parseJsonObject(row.properties),
    user: isUser ? { distinct_id: row.recipient_id, updated_at: row.user_updated_at === null ? null : iso(row.user_updated_at) } : null,
    object: isUser
      ? null
      : {
          id: row.recipient_id,
          object_type: row.recipient_type,
          subscriptions_count: row.child_subscriptions_count,
          updated_at: row.child_updated_at === null ? null : iso(row.child_updated_at),
        },
    created_at: iso(row.created_at),
    updated_at: iso(row.created_at),
  };
}

function subscribedToView(row: SubscribedToRow): JsonObject {
  return {
    properties: parseJsonObject(row.properties),
    object: {
      id: row.object_id,
      object_type: row.object_type,
      properties: parseJsonObject(row.parent_properties),
      subscriptions_count: row.parent_subscriptions_count,
      updated_at: row.parent_updated_at === null ? null : iso(row.parent_updated_at),
    },
    created_at: iso(row.created_at),
    updated_at: iso(row.created_at),
  };
}

function notFound(objectType: string, objectId: string): AppError {
  return new AppError('NOT_FOUND', `object "${objectType}/${objectId}" not found`);
}

export class ObjectService {
  private readonly users: UserService;

  constructor(private readonly deps: ServiceDeps) {
    this.users = new UserService(deps);
  }

  /**
   * Creates the object if needed and applies `mutate` to its profile, inside `trx` (PostgreSQL
   * locks the row). The one place object profiles change; same rules as UserService.mutate.
   */
  private async mutate(
    trx: Kysely<Database>,
    workspaceId: string,
    objectType: string,
    objectId: string,
    mutate: (profile: Profile) => void,
  ): Promise<void> {
    const now = this.deps.clock.now();
    await ensureObject(trx, workspaceId, objectType, objectId, now);
    const row = await findObjectForUpdate(trx, this.deps.engine, workspaceId, objectType, objectId);
    if (!row) throw new AppError('INTERNAL', 'object vanished during an update');
    const profile = profileOf(row);
    mutate(profile);
    const properties = JSON.stringify(profile.properties);
    const channels = JSON.stringify(profile.channels);
    if (properties.length + channels.length > MAX_PROFILE_BYTES) {
      throw new AppError('VALIDATION_FAILED', `object profile would exceed ${MAX_PROFILE_BYTES / 1024} KiB`);
    }
    await saveObjectProfile(trx, workspaceId, objectType, objectId, { properties, channels }, now);
  }

  /**
   * For delivery: an object named inline in a trigger's recipients is created or updated with the
   * fields sent along (as SuprSend does), in the trigger's transaction.
   */
  async upsertInline(trx: Kysely<Database>, workspaceId: string, objectType: string, objectId: string, payload: JsonObject): Promise<void> {
    await this.mutate(trx, workspaceId, objectType, objectId, (profile) => applyUpsertPayload(profile, payload));
  }

  /**
   * For delivery: the distinct_ids a trigger on these objects reaches (see findFanOutUserIds), each
   * once, at most `limit`; read through `db`, the trigger's transaction.
   */
  async fanOut(
    db: Kysely<Database>,
    workspaceId: string,
    objects: ReadonlyArray<{ objectType: string; objectId: string }>,
    limit: number,
  ): Promise<string[]> {
    const ids = new Set<string>();
    for (const { objectType, objectId } of objects) {
      for (const id of await findFanOutUserIds(db, workspaceId, objectType, objectId, limit)) ids.add(id);
      if (ids.size >= limit) break;
    }
    return [...ids].slice(0, limit);
  }

  private async mutateAndView(
    workspaceId: string,
    objectType: string,
    objectId: string,
    mutate: (profile: Profile) => void,
  ): Promise<JsonObject> {
    const row = await this.deps.db.transaction().execute(async (trx) => {
      await this.mutate(trx, workspaceId, objectType, objectId, mutate);
      return findObject(trx, workspaceId, objectType, objectId);
    });
    if (!row) throw new AppError('INTERNAL', 'object vanished after an update');
    return objectView(row);
  }

  private async requireObject(db: Kysely<Database>, workspaceId: string, objectType: string, objectId: string): Promise<ObjectWithCount> {
    const row = await findObject(db, workspaceId, objectType, objectId);
    if (!row) throw notFound(objectType, objectId);
    return row;
  }

  async get(workspaceId: string, objectType: string, objectId: string): Promise<JsonObject> {
    return objectView(await this.requireObject(this.deps.db, workspaceId, objectType, objectId));
  }

  async list(workspaceId: string, objectType: string, query: PageQuery): Promise<JsonObject> {
    const rows = await listObjects(this.deps.db, workspaceId, objectType, query);
    const { items, meta } = keysetPage(rows, query, (row) => row.object_id);
    return { meta, results: items.map(objectView) };
  }

  async upsert(workspaceId: string, objectType: string, objectId: string, payload: unknown): Promise<JsonObject> {
    if (payload !== undefined && payload !== null && !isPlainObject(payload)) {
      throw new AppError('VALIDATION_FAILED', 'object payload must be a JSON object');
    }
    return this.mutateAndView(workspaceId, objectType, objectId, (profile) => applyUpsertPayload(profile, (payload ?? {}) as JsonObject));
  }

  /** `{"operations":[…]}` as objects.edit sends it, or a plain payload (treated as an upsert). */
  async edit(workspaceId: string, objectType: string, objectId: string, body: unknown): Promise<JsonObject> {
    if (!isPlainObject(body)) throw new AppError('VALIDATION_FAILED', 'body must be {"operations": [...]} or an object payload');
    const operations = body['operations'];
    if (operations === undefined) return this.upsert(workspaceId, objectType, objectId, body);
    if (!Array.isArray(operations)) throw new AppError('VALIDATION_FAILED', 'operations must be a list such as [{"$set": {...}}]');
    return this.mutateAndView(workspaceId, objectType, objectId, (profile) => {
      for (const operation of operations) applyOperation(profile, operation);
    });
  }

  async delete(workspaceId: string, objectType: string, objectId: string): Promise<void> {
    const deleted = await this.deps.db.transaction().execute((trx) => deleteObjects(trx, workspaceId, objectType, [objectId]));
    if (deleted === 0) throw notFound(objectType, objectId);
  }

  async bulkDelete(workspaceId: string, objectType: string, body: unknown): Promise<number> {
    const ids = isPlainObject(body) ? body['object_ids'] : undefined;
    if (!Array.isArray(ids) || ids.length === 0) throw new AppError('VALIDATION_FAILED', 'body must be {"object_ids": ["…", …]}');
    if (ids.length > MAX_BULK_DELETE_IDS) {
      throw new AppError('VALIDATION_FAILED', `at most ${MAX_BULK_DELETE_IDS} object_ids per request; split the list`);
    }
    const checked = ids.map((id, index) => checkObjectId(id, `object_ids[${index}]`));
    return this.deps.db.transaction().execute((trx) => deleteObjects(trx, workspaceId, objectType, checked));
  }

  async listSubscriptions(workspaceId: string, objectType: string, objectId: string, query: PageQuery): Promise<JsonObject> {
    const page = { limit: query.limit, after: decodeKeyCursor(query.after, 'after'), before: decodeKeyCursor(query.before, 'before') };
    await this.requireObject(this.deps.db, workspaceId, objectType, objectId);
    const rows = await listSubscribers(this.deps.db, workspaceId, objectType, objectId, page);
    const { items, meta } = keysetPage(rows, query, (row) => encodeKeyCursor([row.recipient_type, row.recipient_id]));
    return { meta, results: items.map(subscriptionView) };
  }

  /**
   * Subscribes recipients to the object (creating it, and any recipient user or object, if
   * needed), or replaces the properties of existing subscriptions. All or nothing.
   */
  async addSubscriptions(workspaceId: string, objectType: string, objectId: string, body: unknown): Promise<JsonObject> {
    const recipients = readRecipients(body);
    const rawProperties = isPlainObject(body) ? body['properties'] : undefined;
    if (rawProperties !== undefined && rawProperties !== null && !isPlainObject(rawProperties)) {
      throw new AppError('VALIDATION_FAILED', 'properties must be a JSON object');
    }
    const properties = JSON.stringify(rawProperties ?? {});
    for (const [index, recipient] of recipients.entries()) {
      if (recipient.kind === 'object' && recipient.objectType === objectType && recipient.objectId === objectId) {
        throw new AppError('VALIDATION_FAILED', `recipients[${index}] is the object itself; an object cannot subscribe to itself`);
      }
    }
    const keys = recipients.map(recipientKey);
    const rows = await this.deps.db.transaction().execute(async (trx) => {
      await ensureObject(trx, workspaceId, objectType, objectId, this.deps.clock.now());
      for (const recipient of recipients) {
        // Inline identities and properties are upserted through the owning domain's rules.
        if (recipient.kind === 'user') {
          await this.users.mutate(trx, workspaceId, recipient.distinctId, (profile) => applyUpsertPayload(profile, recipient.payload));
        } else {
          await this.mutate(trx, workspaceId, recipient.objectType, recipient.objectId, (profile) =>
            applyUpsertPayload(profile, recipient.payload),
          );
        }
      }
      const now = this.deps.clock.now();
      for (const key of keys) {
        await upsertSubscription(trx, {
          workspace_id: workspaceId,
          object_type: objectType,
          object_id: objectId,
          ...key,
          properties,
          created_at: now,
        });
      }
      return findSubscribers(trx, workspaceId, objectType, objectId, keys);
    });
    const byKey = new Map(rows.map((row) => [`${row.recipient_type}\u0000${row.recipient_id}`, row]));
    const ordered = [...new Set(keys.map((k) => `${k.recipient_type}\u0000${k.recipient_id}`))].flatMap((k) => {
      const row = byKey.get(k);
      return row ? [row] : [];
    });
    return { results: ordered.map(subscriptionView) };
  }

  async removeSubscriptions(workspaceId: string, objectType: string, objectId: string, body: unknown): Promise<number> {
    const keys = readRecipients(body).map(recipientKey);
    return this.deps.db.transaction().execute(async (trx) => {
      await this.requireObject(trx, workspaceId, objectType, objectId);
      return deleteSubscriptions(trx, workspaceId, objectType, objectId, keys);
    });
  }

  async subscribedTo(workspaceId: string, objectType: string, objectId: string, query: PageQuery): Promise<JsonObject> {
    const page = { limit: query.limit, after: decodeKeyCursor(query.after, 'after'), before: decodeKeyCursor(query.before, 'before') };
    await this.requireObject(this.deps.db, workspaceId, objectType, objectId);
    const rows = await listSubscribedTo(this.deps.db, workspaceId, objectType, objectId, page);
    const { items, meta } = keysetPage(rows, query, (row) => encodeKeyCursor([row.object_type, row.object_id]));
    return { meta, results: items.map(subscribedToView) };
  }
}
