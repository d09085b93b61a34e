import { randomBase62 } from './base62.js';

const PREFIXES = {
  organisation: 'org',
  workspace: 'ws',
  secret: 'wsec',
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
