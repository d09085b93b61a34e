import { encodeBase62Fixed, randomBase62 } from './base62.js';

const PREFIXES = {
  organisation: 'org',
  workspace: 'ws',
  secret: 'wsec',
  webhookSecret: 'whsec',
  apiKey: 'key',
  publicKey: 'pk',
  request: 'req',
  execution: 'exe',
  notification: 'ntf',
  message: 'msg',
  webhook: 'whk',
  job: 'job',
  event: 'evt',
  listVersion: 'ver',
  adminAccount: 'adm',
  session: 'ses',
  serviceToken: 'stk',
} as const;

export type IdKind = keyof typeof PREFIXES;

/** Prefixed random identifier, e.g. `key_3hT9…`. Not secret: ids are shown in lists and logs. */
export function newId(kind: IdKind): string {
  return `${PREFIXES[kind]}_${randomBase62(20)}`;
}

/** The kinds written on every delivery: many rows, inserted into primary-key indexes all the time. */
export type RecordKind = Extract<IdKind, 'execution' | 'notification' | 'message' | 'webhook' | 'job' | 'event'>;

/**
 * Like newId, but the first 8 of the 20 characters are the creation time (ms, base62, which sorts
 * as bytes do), then 12 random ones (71 bits). New rows then land at the end of their primary-key
 * index, as with UUIDv7 or ULID, instead of on a random page: a delivery writes a few pages
 * fewer to the WAL on every commit. The creation time an id shows is not a secret of any row.
 */
export function newRecordId(kind: RecordKind, at: number = Date.now()): string {
  return `${PREFIXES[kind]}_${encodeBase62Fixed(Math.max(0, Math.floor(at)), 8)}${randomBase62(12)}`;
}

// A per-process random prefix and a counter: unique across processes, and no random draw per call.
const processPrefix = randomBase62(10);
let sequence = 0;

/**
 * Prefixed unique identifier for high-volume, short-lived things (request ids), e.g.
 * `req_3hT9xQ2mVb_1a2b`. Unique but predictable within a process: never use it where guessing matters.
 */
export function newSequentialId(kind: IdKind): string {
  sequence = (sequence + 1) % Number.MAX_SAFE_INTEGER;
  return `${PREFIXES[kind]}_${processPrefix}_${sequence.toString(36)}`;
}
