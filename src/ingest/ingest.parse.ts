import { AppError } from '../lib/errors.js';
import { isPlainObject, type JsonObject } from '../lib/json.js';
import { checkIdText, MAX_TENANT_ID_CHARS } from '../lib/text.js';
import { DEFAULT_TENANT, type ObjectRecipient, type Recipient, type TriggerRequest } from '../delivery/delivery.service.js';
import { parseRecipient as parseSubscriptionRecipient } from '../objects/objects.service.js';
import { checkDistinctId } from '../users/users.service.js';

/**
 * Request bodies of the ingest endpoints, as the SuprSend SDKs send them
 * (reference/backend-sdk-protocol.md §4). Pure: no I/O, throws AppError('VALIDATION_FAILED').
 */

const invalid = (message: string) => new AppError('VALIDATION_FAILED', message);

const TRIGGER_KEYS = new Set(['workflow', 'recipients', 'data', 'actor', 'metadata', '$idempotency_key', 'tenant_id', 'cancellation_key']);
const MAX_KEY_CHARS = 255;

function optionalString(body: JsonObject, key: string, max: number): string | undefined {
  const value = body[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw invalid(`${key} must be a string`);
  return checkIdText(value, key, max);
}

function dataOf(body: JsonObject, key = 'data'): JsonObject {
  const data = body[key];
  if (data === undefined || data === null) return {};
  if (!isPlainObject(data)) throw invalid(`${key} must be a JSON object`);
  return data;
}

export function parseRecipient(value: unknown, where: string): Recipient {
  // A whole number is its decimal string (checkDistinctId), as everywhere an id is read.
  if (typeof value === 'string' || typeof value === 'number') {
    return { distinctId: checkDistinctId(value, where), profile: null, channels: null, isTransient: false };
  }
  if (!isPlainObject(value)) throw invalid(`${where} must be a distinct_id string or a user object with distinct_id`);
  if (value['distinct_id'] === undefined && (value['object_type'] !== undefined || value['id'] !== undefined)) {
    throw invalid(`${where}: object recipients are not supported; list the users (distinct_id) to notify`);
  }
  const channels = value['$channels'];
  if (channels !== undefined && (!Array.isArray(channels) || !channels.every((c) => typeof c === 'string'))) {
    throw invalid(`${where}.$channels must be a list of channel names`);
  }
  const isTransient = value['is_transient'];
  if (isTransient !== undefined && typeof isTransient !== 'boolean') throw invalid(`${where}.is_transient must be true or false`);
  return {
    distinctId: checkDistinctId(value['distinct_id'], `${where}.distinct_id`),
    profile: value,
    channels: (channels as string[] | undefined) ?? null,
    isTransient: isTransient === true,
  };
}

function tenantOf(body: JsonObject): string {
  return optionalString(body, 'tenant_id', MAX_TENANT_ID_CHARS) ?? optionalString(body, 'brand_id', MAX_TENANT_ID_CHARS) ?? DEFAULT_TENANT;
}

const isObjectRecipient = (value: unknown): boolean =>
  isPlainObject(value) && value['distinct_id'] === undefined && (value['object_type'] !== undefined || value['id'] !== undefined);

/** `{"object_type", "id", …fields}` in a trigger's recipients: the object's subscribers are notified. */
function parseObjectRecipient(value: unknown, where: string): ObjectRecipient {
  const parsed = parseSubscriptionRecipient(value, where);
  if (parsed.kind !== 'object') throw invalid(`${where} must be {"object_type": …, "id": …}`);
  return { objectType: parsed.objectType, objectId: parsed.objectId, payload: parsed.payload };
}

/** `POST /trigger/`: WorkflowTriggerRequest. Unknown keys are refused, like the SDK's own schema does. */
export function parseTriggerRequest(body: unknown): TriggerRequest {
  if (!isPlainObject(body)) throw invalid('body must be a JSON object (or an array of them for a bulk trigger)');
  const unknown = Object.keys(body).filter((key) => !TRIGGER_KEYS.has(key));
  if (unknown.length > 0) throw invalid(`unknown field(s) ${unknown.join(', ')}; allowed: ${[...TRIGGER_KEYS].join(', ')}`);
  const workflow = body['workflow'];
  if (typeof workflow !== 'string' || workflow.trim() === '') throw invalid('workflow (the workflow slug) is required');
  const recipients = body['recipients'];
  if (!Array.isArray(recipients) || recipients.length === 0) throw invalid('recipients must be a non-empty list');
  if (body['metadata'] !== undefined && !isPlainObject(body['metadata'])) throw invalid('metadata must be a JSON object');
  const actor = body['actor'];
  const users: Recipient[] = [];
  const objects: ObjectRecipient[] = [];
  recipients.forEach((r, i) => {
    if (isObjectRecipient(r)) objects.push(parseObjectRecipient(r, `recipients[${i}]`));
    else users.push(parseRecipient(r, `recipients[${i}]`));
  });
  return {
    source: 'trigger',
    workflow: workflow.trim(),
    recipients: users,
    objects,
    data: dataOf(body),
    actor: actor === undefined || actor === null ? null : parseRecipient(actor, 'actor'),
    tenantId: tenantOf(body),
    idempotencyKey: optionalString(body, '$idempotency_key', MAX_KEY_CHARS),
    cancellationKey: optionalString(body, 'cancellation_key', MAX_KEY_CHARS),
  };
}

/** The latest time a Date (and ISO-8601 text) can hold: 8.64e15 ms, within PostgreSQL's bigint. */
const MAX_RUN_AT_MS = 8.64e15;

/** `delay` as `1d2h30m10s` or whole seconds; `trigger_at` as ISO-8601. Returns the time to run at (ms). */
export function parseSchedule(body: JsonObject, now: number): number {
  let at = now;
  const delay = body['delay'];
  if (delay !== undefined && delay !== null && delay !== '' && delay !== 0) {
    let seconds: number;
    if (typeof delay === 'number' && Number.isInteger(delay) && delay >= 0) seconds = delay;
    else if (typeof delay === 'string' && /^(\d+d)?(\d+h)?(\d+m)?(\d+s)?$/.test(delay.trim())) {
      const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(delay.trim()) as RegExpExecArray;
      seconds = Number(m[1] ?? 0) * 86_400 + Number(m[2] ?? 0) * 3_600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
    } else throw invalid('delay must be whole seconds or a string like 1d2h30m10s');
    // 1e20 seconds once reached PostgreSQL's bigint run_at (out of range: a 500); Infinity, everywhere.
    if (!Number.isSafeInteger(seconds) || now + seconds * 1000 > MAX_RUN_AT_MS) {
      throw invalid('delay is too long: the run time must fall within the ISO-8601 date range (before the year 275760)');
    }
    at = Math.max(at, now + seconds * 1000);
  }
  const triggerAt = body['trigger_at'];
  if (triggerAt !== undefined && triggerAt !== null && triggerAt !== '') {
    const ms = typeof triggerAt === 'string' ? Date.parse(triggerAt) : Number.NaN;
    if (Number.isNaN(ms)) throw invalid('trigger_at must be an ISO-8601 date-time');
    at = Math.max(at, ms);
  }
  return at;
}

/** Legacy `POST /{workspace_key}/trigger/`: the Workflow body (name, template = workflow slug, users, …). */
export function parseLegacyWorkflow(body: unknown): TriggerRequest {
  if (!isPlainObject(body)) throw invalid('body must be a JSON object (or an array of them)');
  const template = body['template'];
  if (typeof template !== 'string' || template.trim().length < 2) throw invalid('template (the workflow slug) is required');
  const category = body['notification_category'];
  if (category !== undefined && (typeof category !== 'string' || category.length < 2))
    throw invalid('notification_category must be a category slug');
  const users = body['users'];
  if (!Array.isArray(users) || users.length === 0) throw invalid('users must be a non-empty list');
  return {
    source: 'legacy_trigger',
    workflow: template.trim(),
    categoryOverride: category as string | undefined,
    recipients: users.map((u, i) => parseRecipient(u, `users[${i}]`)),
    data: dataOf(body),
    actor: null,
    tenantId: tenantOf(body),
    idempotencyKey: optionalString(body, '$idempotency_key', MAX_KEY_CHARS),
    // Herald's extension: SuprSend's Workflow schema allows extra fields, and a delayed legacy
    // trigger is what POST /v1/workflow_run/cancel/ can stop.
    cancellationKey: optionalString(body, 'cancellation_key', MAX_KEY_CHARS),
  };
}

export interface BroadcastRequest {
  listId: string;
  workflow: string;
  categoryOverride: string | undefined;
  data: JsonObject;
  channels: string[] | null;
  tenantId: string;
  idempotencyKey: string | undefined;
}

/** `POST /{workspace_key}/broadcast/`: SubscriberListBroadcast. */
export function parseBroadcast(body: unknown): BroadcastRequest {
  if (!isPlainObject(body)) throw invalid('body must be a JSON object');
  const listId = body['list_id'];
  if (typeof listId !== 'string' || listId.trim() === '') throw invalid('list_id is required');
  const template = body['template'];
  if (typeof template !== 'string' || template.trim().length < 2) throw invalid('template (the workflow slug) is required');
  const category = body['notification_category'];
  if (category !== undefined && (typeof category !== 'string' || category.length < 2))
    throw invalid('notification_category must be a category slug');
  const channels = body['channels'];
  if (channels !== undefined && (!Array.isArray(channels) || !channels.every((c) => typeof c === 'string'))) {
    throw invalid('channels must be a list of channel names');
  }
  return {
    listId: listId.trim(),
    workflow: template.trim(),
    categoryOverride: category as string | undefined,
    data: dataOf(body),
    channels: (channels as string[] | undefined) ?? null,
    tenantId: tenantOf(body),
    idempotencyKey: optionalString(body, '$idempotency_key', MAX_KEY_CHARS),
  };
}

export type IncomingEvent =
  | {
      kind: 'identity';
      distinctId: string;
      insertId: string | undefined;
      operations: unknown[];
      tenantId: string | undefined;
      env: string | undefined;
    }
  | {
      kind: 'track';
      distinctId: string;
      insertId: string | undefined;
      event: string;
      properties: JsonObject;
      time: number | undefined;
      tenantId: string | undefined;
      env: string | undefined;
    };

/**
 * One element of `POST /event/`: an identity event (has `$user_operations`) or a track event (has
 * `event`). The key+secret signed client SDKs (web-sdk 1.x, Android 1.x) send their own shapes here
 * too: `$identify` naming its user in `properties.$identified_id`, and profile edits with the
 * operation keys at the top level (client-sdk-protocol.md §9); those read as on `/v2/event`.
 */
export function parseEvent(body: unknown): IncomingEvent {
  if (!isPlainObject(body)) throw invalid('each event must be a JSON object');
  if (body['$user_operations'] === undefined && isClientShape(body)) {
    return { ...parseClientEvent(body), env: optionalString(body, 'env', MAX_KEY_CHARS) };
  }
  const distinctId = checkDistinctId(body['distinct_id']);
  const insertId = optionalString(body, '$insert_id', MAX_KEY_CHARS);
  const env = optionalString(body, 'env', MAX_KEY_CHARS);
  const tenantId = optionalString(body, 'tenant_id', MAX_TENANT_ID_CHARS) ?? optionalString(body, 'brand_id', MAX_TENANT_ID_CHARS);
  const operations = body['$user_operations'];
  if (operations !== undefined) {
    if (!Array.isArray(operations)) throw invalid('$user_operations must be a list of operations');
    return { kind: 'identity', distinctId, insertId, operations, tenantId, env };
  }
  const event = body['event'];
  if (typeof event !== 'string' || event.trim().length < 2)
    throw invalid('event must be an event name of at least 2 characters (or send $user_operations)');
  const time = body['$time'];
  if (time !== undefined && (typeof time !== 'number' || !Number.isFinite(time))) throw invalid('$time must be epoch milliseconds');
  return {
    kind: 'track',
    distinctId,
    insertId,
    event: event.trim(),
    properties: dataOf(body, 'properties'),
    time: time as number | undefined,
    tenantId,
    env,
  };
}

const CLIENT_OPERATION_KEYS = ['$set', '$set_once', '$add', '$append', '$remove', '$unset'] as const;

function isClientShape(body: JsonObject): boolean {
  return body['event'] === '$identify' || (body['event'] === undefined && CLIENT_OPERATION_KEYS.some((key) => key in body));
}

/**
 * One `POST /v2/event` body from a client SDK (web-sdk 4.x, reference/client-sdk-protocol.md §5.1):
 * `$identify` names its user in `properties.$identified_id`; profile edits carry the operation
 * keys at the top level; everything else is a track event.
 */
export function parseClientEvent(body: unknown): IncomingEvent {
  if (!isPlainObject(body)) throw invalid('event must be a JSON object');
  const insertId = optionalString(body, '$insert_id', MAX_KEY_CHARS);
  const tenantId = optionalString(body, 'tenant_id', MAX_TENANT_ID_CHARS);
  const properties = dataOf(body, 'properties');
  if (body['event'] === '$identify') {
    const distinctId = checkDistinctId(properties['$identified_id'] ?? body['distinct_id'], 'properties.$identified_id');
    return { kind: 'identity', distinctId, insertId, operations: [], tenantId, env: undefined };
  }
  const present = CLIENT_OPERATION_KEYS.filter((key) => key in body);
  if (present.length > 0 && body['event'] === undefined) {
    const operation = Object.fromEntries(present.map((key) => [key, body[key]]));
    return {
      kind: 'identity',
      distinctId: checkDistinctId(body['distinct_id']),
      insertId,
      operations: [operation],
      tenantId,
      env: undefined,
    };
  }
  const parsed = parseEvent(body);
  return { ...parsed, env: undefined };
}
