import { AppError } from '../lib/errors.js';
import { isPlainObject, type JsonObject } from '../lib/json.js';

/**
 * Profile edits as the SuprSend SDKs send them (reference/backend-sdk-protocol.md §4e), shared by
 * identity events (`$user_operations`), `PATCH /v1/user/{id}/` (`operations`) and objects:
 *
 *   {"$set":{k:v}} {"$set_once":{k:v}} {"$add":{k:n}} {"$append":{k:v}} {"$remove":{k:v}} {"$unset":[k]}
 *
 * Channel keys ($email, $sms, …) address the channel identities instead of properties; `$append`
 * of a push token carries `$id_provider` (and `$bundle_id`) alongside it in the same op.
 */

export const CHANNEL_KEYS = [
  '$email',
  '$sms',
  '$whatsapp',
  '$androidpush',
  '$iospush',
  '$webpush',
  '$slack',
  '$ms_teams',
  '$inbox',
  '$messenger',
] as const;
export type ChannelKey = (typeof CHANNEL_KEYS)[number];

const CHANNEL_KEY_SET = new Set<string>(CHANNEL_KEYS);
const OP_METADATA_KEYS = new Set(['$id_provider', '$bundle_id', '$device_id']);
const MAX_IDENTITIES_PER_CHANNEL = 100;

export function isChannelKey(key: string): key is ChannelKey {
  return CHANNEL_KEY_SET.has(key);
}

export interface ChannelIdentity {
  value: unknown;
  provider?: string;
  bundle_id?: string;
  device_id?: string;
}

export interface Profile {
  properties: JsonObject;
  channels: Partial<Record<ChannelKey, ChannelIdentity[]>>;
}

export function emptyProfile(): Profile {
  return { properties: {}, channels: {} };
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function checkIdentity(channel: ChannelKey, value: unknown): void {
  const isString = typeof value === 'string' && value.trim().length > 0;
  switch (channel) {
    case '$email':
      // JSON.stringify, not String(): a value such as {"toString": []} makes String() throw (a 500).
      if (!isString || !/^[^\s@]+@[^\s@]+$/.test(value as string)) {
        throw new AppError(
          'VALIDATION_FAILED',
          `${channel}: ${(JSON.stringify(value) ?? 'nothing').slice(0, 200)} is not an email address`,
        );
      }
      return;
    case '$sms':
    case '$whatsapp':
    case '$androidpush':
    case '$iospush':
    case '$inbox':
    case '$messenger':
      if (!isString) throw new AppError('VALIDATION_FAILED', `${channel} must be a non-empty string`);
      return;
    case '$webpush':
    case '$slack':
    case '$ms_teams':
      if (!isPlainObject(value) || Object.keys(value).length === 0)
        throw new AppError('VALIDATION_FAILED', `${channel} must be a non-empty object`);
      return;
  }
}

function identityFrom(channel: ChannelKey, raw: unknown, meta: JsonObject): ChannelIdentity {
  // Upsert payloads may give push identities as objects: {"token","provider","device_id"}.
  let value = raw;
  let provider = typeof meta['$id_provider'] === 'string' ? meta['$id_provider'] : undefined;
  let deviceId = typeof meta['$device_id'] === 'string' ? meta['$device_id'] : undefined;
  const bundleId = typeof meta['$bundle_id'] === 'string' ? meta['$bundle_id'] : undefined;
  if ((channel === '$androidpush' || channel === '$iospush') && isPlainObject(raw)) {
    value = raw['token'];
    if (typeof raw['provider'] === 'string') provider = raw['provider'];
    if (typeof raw['device_id'] === 'string') deviceId = raw['device_id'];
  }
  checkIdentity(channel, value);
  return {
    value: typeof value === 'string' ? value.trim() : value,
    ...(provider ? { provider } : {}),
    ...(bundleId ? { bundle_id: bundleId } : {}),
    ...(deviceId ? { device_id: deviceId } : {}),
  };
}

function addIdentities(profile: Profile, channel: ChannelKey, raw: unknown, meta: JsonObject): void {
  const values = Array.isArray(raw) ? raw : [raw];
  const list = profile.channels[channel] ?? [];
  for (const item of values) {
    const identity = identityFrom(channel, item, meta);
    const existing = list.findIndex((entry) => sameValue(entry.value, identity.value));
    if (existing >= 0) list[existing] = identity;
    else list.push(identity);
  }
  if (list.length > MAX_IDENTITIES_PER_CHANNEL) {
    throw new AppError('VALIDATION_FAILED', `${channel}: at most ${MAX_IDENTITIES_PER_CHANNEL} identities per channel`);
  }
  profile.channels[channel] = list;
}

function removeIdentities(profile: Profile, channel: ChannelKey, raw: unknown): void {
  const values = (Array.isArray(raw) ? raw : [raw]).map((item) =>
    (channel === '$androidpush' || channel === '$iospush') && isPlainObject(item) ? item['token'] : item,
  );
  const list = (profile.channels[channel] ?? []).filter((entry) => !values.some((v) => sameValue(entry.value, v)));
  if (list.length > 0) profile.channels[channel] = list;
  else delete profile.channels[channel];
}

function entriesOf(op: string, value: unknown): Array<[string, unknown]> {
  if (!isPlainObject(value)) throw new AppError('VALIDATION_FAILED', `${op} takes an object of key/value pairs`);
  return Object.entries(value);
}

function checkPropertyKey(key: string): void {
  if (key.length === 0 || key.length > 256) throw new AppError('VALIDATION_FAILED', 'property names must be 1-256 characters');
}

/** Applies one operation object (which may hold several op keys) to a profile, in place. */
export function applyOperation(profile: Profile, operation: unknown): void {
  if (!isPlainObject(operation)) throw new AppError('VALIDATION_FAILED', 'each operation must be an object such as {"$set": {...}}');
  for (const [op, value] of Object.entries(operation)) {
    switch (op) {
      case '$set':
      case '$set_once': {
        for (const [key, v] of entriesOf(op, value)) {
          if (isChannelKey(key)) {
            if (op === '$set') delete profile.channels[key];
            if (op === '$set' || !profile.channels[key]) addIdentities(profile, key, v, {});
            continue;
          }
          checkPropertyKey(key);
          if (op === '$set' || !(key in profile.properties)) profile.properties[key] = v;
        }
        break;
      }
      case '$add': {
        for (const [key, v] of entriesOf(op, value)) {
          checkPropertyKey(key);
          if (typeof v !== 'number' || !Number.isFinite(v)) throw new AppError('VALIDATION_FAILED', `$add: "${key}" must be a number`);
          const current = profile.properties[key];
          if (current !== undefined && typeof current !== 'number')
            throw new AppError('VALIDATION_FAILED', `$add: property "${key}" is not a number`);
          profile.properties[key] = (current ?? 0) + v;
        }
        break;
      }
      case '$append':
      case '$remove': {
        const entries = entriesOf(op, value);
        const meta = Object.fromEntries(entries.filter(([key]) => OP_METADATA_KEYS.has(key)));
        for (const [key, v] of entries) {
          if (OP_METADATA_KEYS.has(key)) continue;
          if (isChannelKey(key)) {
            if (op === '$append') addIdentities(profile, key, v, meta);
            else removeIdentities(profile, key, v);
            continue;
          }
          checkPropertyKey(key);
          const current = profile.properties[key];
          const list = Array.isArray(current) ? [...(current as unknown[])] : current === undefined ? [] : [current];
          if (op === '$append') list.push(v);
          profile.properties[key] = op === '$append' ? list : list.filter((item) => !sameValue(item, v));
        }
        break;
      }
      case '$unset': {
        const keys = Array.isArray(value) ? value : [value];
        for (const key of keys) {
          if (typeof key !== 'string') throw new AppError('VALIDATION_FAILED', '$unset takes a list of property names');
          if (isChannelKey(key)) delete profile.channels[key];
          else delete profile.properties[key];
        }
        break;
      }
      default:
        throw new AppError('VALIDATION_FAILED', `unknown operation "${op}"; use $set, $set_once, $add, $append, $remove or $unset`);
    }
  }
}

/**
 * An upsert payload (`POST /v1/user/{id}/`, recipient objects in triggers): channel keys add
 * identities, every other key is set as a property.
 */
export function applyUpsertPayload(profile: Profile, payload: JsonObject, ignoredKeys: ReadonlySet<string> = new Set()): void {
  for (const [key, value] of Object.entries(payload)) {
    if (ignoredKeys.has(key)) continue;
    if (isChannelKey(key)) addIdentities(profile, key, value, {});
    else {
      checkPropertyKey(key);
      profile.properties[key] = value;
    }
  }
}
