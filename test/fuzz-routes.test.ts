import assert from 'node:assert/strict';
import { createHash, createHmac, createPrivateKey } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { SignJWT } from 'jose';
import { createAdminGroupDeps } from '../src/admin/admin-group.js';
import type { CredentialKind } from '../src/auth/principal.js';
import { fixedClock } from '../src/lib/clock.js';
import { CategoryService } from '../src/preferences/categories.service.js';
import { openHerald, type Herald } from '../src/runtime.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { buildAppWithRoutes, keyOf, workspaceDigest, WORKSPACE_DATA_TABLES, type Route } from './helpers/routes.js';

/**
 * A fast-check fuzz over every route the app registers (taken from the route table, as in
 * route-matrix.test.ts), each with a valid credential of a kind it accepts: HMAC-signed over the
 * exact bytes sent, API key, public key with and without a user token, admin session or service
 * token. Bodies, query strings, path parameters and content types are hostile: arbitrary and
 * malformed JSON, nesting thousands deep, 1e999 and 20-digit numbers, U+0000 and lone surrogates,
 * very long strings, prototype keys ({"toString": []}), arrays for objects, percent-encoded garbage;
 * most bodies are a valid sample with a few values replaced, so the handlers behind validation are
 * reached too. A deterministic sweep then puts each of a few nasty values at every position of
 * every sample body, and hostile credential headers (forged user tokens, Authorization values,
 * dates, cookies) are fuzzed against each credential set. No answer may be a 5xx, every 4xx is the
 * SuprSend error envelope with a message, and every request completes (a generous per-request bound
 * detects hangs; it is not a speed assertion). Afterwards another workspace and a bystander user
 * are unchanged and normal requests still work. The seed is fixed (HERALD_FUZZ_SEED overrides it;
 * it is in the suite name and in every failure); HERALD_FUZZ_RUNS sets the runs per route.
 */

const SEED = Number(process.env['HERALD_FUZZ_SEED'] ?? 20_260_514);
const RUNS = Number(process.env['HERALD_FUZZ_RUNS'] ?? 20);
/** A hang detector only: far above any answer on a busy machine. */
const REQUEST_BOUND_MS = 20_000;
const BODY_LIMIT_BYTES = 1_048_576;

const CATEGORY = 'promotional';
const WORKFLOW = 'fuzz';
const FUZZ_USER = 'fuzz-user';
const FUZZ_TENANT = 'fuzz-tenant';
const BYSTANDER = 'bystander';

type Surface = 'credentials' | 'admin' | 'open';

function surfaceOf(route: Route): Surface {
  if (route.config?.adminGroup === true) return route.config.adminPublic === true ? 'open' : 'admin';
  return route.config?.acceptsCredentials !== undefined ? 'credentials' : 'open';
}

// --- Generators -------------------------------------------------------------------------------
// Huge values are placeholders (`<<LONG:n>>`, `{kind: 'deep', levels}`) made real only when the
// request is built, so a failing case prints short.

const DOMAIN_KEYS = [
  'workflow',
  'recipients',
  'distinct_id',
  'distinct_ids',
  'event',
  'properties',
  'tenant_id',
  'brand_id',
  'list_id',
  'template',
  'users',
  'data',
  'operations',
  '$set',
  '$user_operations',
  '$insert_id',
  '$idempotency_key',
  'preference',
  'opt_out_channels',
  'channel_preferences',
  'channel',
  'is_restricted',
  'notification_ids',
  'messages',
  'message_id',
  'action',
  'object_ids',
  'from_user_id',
  'tenant_name',
  'brand_name',
  'list_name',
  'name',
  'role',
  'email',
  'password',
  'slug',
  'mode',
  'enabled',
  'steps',
  'type',
  'public_key_pem',
  'expires_in',
  'grace',
  'allowed_origins',
  'workspaces',
  'delay',
  'trigger_at',
  'limit',
  'offset',
  'id',
  'object_type',
  // User token header and claims.
  'alg',
  'kid',
  'typ',
  'crit',
  'entity_type',
  'entity_id',
  'scope',
  'exp',
  'iat',
  'nbf',
];
const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
const NUMBER_TOKENS = [
  '1e999',
  '-1e999',
  '1E400',
  '1e-999',
  '99999999999999999999',
  '-99999999999999999999',
  '9007199254740993',
  '123456789012345678901234567890.123456789',
  '-0',
  '-1',
  '0',
  '0.5',
  '1.5',
  '2147483648',
  '4.9e-324',
];
const STRING_TOKENS = [
  '""',
  '"\\u0000"',
  '"a\\u0000b"',
  '"\\ud800"',
  '"x\\udfff"',
  '"\\udc00\\ud800"',
  '"\\ud83d\\ude00"',
  '"__proto__"',
  '"constructor"',
  '"../../etc/passwd"',
  '"%00"',
  '" "',
  '"\\t\\n"',
  '"null"',
  '"1e999"',
  '"-1"',
  `"${FUZZ_USER}"`,
  `"${FUZZ_TENANT}"`,
  `"${WORKFLOW}"`,
  `"${CATEGORY}"`,
  '"email"',
  '"opt_out"',
  '"read"',
  '"owner"',
  '"<<LONG:70000>>"',
];

const keyArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...DOMAIN_KEYS) },
  { weight: 2, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) },
  { weight: 1, arbitrary: fc.constantFrom('', '\u0000', 'a\u0000b', '\ud800', 'k\udfff', '<<LONG:5000>>') },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

/** JSON text that is valid JSON but hostile in every value. */
const { value: jsonTextArb, proto: protoTextArb } = fc.letrec<{
  value: string;
  leaf: string;
  array: string;
  object: string;
  proto: string;
}>((tie) => ({
  value: fc.oneof({ depthSize: 'small', maxDepth: 4 }, tie('leaf'), tie('array'), tie('object'), tie('proto')),
  // An object whose own keys shadow Object.prototype: {"toString": []} breaks String(value) and `${value}`.
  // toString and valueOf most often: String() and template literals call them.
  proto: fc
    .tuple(
      fc.constantFrom('toString', 'toString', 'valueOf', 'toJSON', ...PROTOTYPE_KEYS),
      fc.oneof(tie('leaf'), fc.constantFrom('[]', '{}', '1')),
    )
    .map(([k, v]) => `{${JSON.stringify(k)}:${v}}`),
  leaf: fc.oneof(
    fc.constantFrom(...NUMBER_TOKENS),
    fc.constantFrom(...STRING_TOKENS),
    fc.constantFrom('true', 'false', 'null', '{}', '[]'),
    fc.string({ unit: 'grapheme', maxLength: 24 }).map((s) => JSON.stringify(s)),
    // Any UTF-16 code unit, lone surrogates and controls included (JSON.stringify escapes them).
    fc
      .string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 12 })
      .map((s) => JSON.stringify(s)),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
    fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  ),
  array: fc.array(tie('value'), { maxLength: 5 }).map((items) => `[${items.join(',')}]`),
  object: fc
    .array(fc.tuple(keyArb, tie('value')), { maxLength: 6 })
    .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
}));

const MALFORMED_JSON = [
  '{',
  '{"a":',
  '[1,2',
  'nul',
  '{"a":1}}',
  "{'a':1}",
  '{"a":1,}',
  'NaN',
  'Infinity',
  'undefined',
  '\ufeff{}',
  '{"a":"\u0000"}',
  '{"a":"\\x00"}',
  '{"a":"\\ud8"}',
  '{"a" 1}',
  '01',
  '--1',
  '"unterminated',
  '{"a":1}{"b":2}',
  '/* comment */ {}',
];

const CONTENT_TYPES = [
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/octet-stream',
  'application/vnd.api+json',
  'application/merge-patch+json',
  'application/json; charset=latin1',
  'APPLICATION/JSON',
  'application/jsonx',
  'json',
  '',
];

type BodySpec =
  | { kind: 'none' }
  | { kind: 'mutated'; sample: number; edits: Edit[] }
  | { kind: 'text'; text: string }
  | { kind: 'deep'; shape: 'array' | 'object' | 'mixed'; levels: number }
  | { kind: 'bytes'; bytes: number[] }
  | { kind: 'oversized' };

/** One change to a sample body: the value at position `at` replaced, given an extra key (objects), or dropped. */
interface Edit {
  at: number;
  mode: 'replace' | 'add' | 'drop';
  key: string;
  value: string;
}

/** What a mutation puts in: mostly single nasty values, so the rest of the body stays valid and the handler runs. */
const nastyValueArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NUMBER_TOKENS, ...STRING_TOKENS, 'true', 'false', 'null', '[]', '{}', '[[]]', '[{}]') },
  { weight: 2, arbitrary: protoTextArb },
  { weight: 2, arbitrary: jsonTextArb },
  { weight: 1, arbitrary: fc.integer({ min: 60, max: 300 }).map((n) => `${'['.repeat(n)}${']'.repeat(n)}`) },
);

/** A valid sample body with one to three edits. */
const mutatedArb: fc.Arbitrary<BodySpec> = fc.record({
  kind: fc.constant('mutated' as const),
  sample: fc.nat(),
  edits: fc.array(
    fc.record({
      at: fc.nat(),
      mode: fc.constantFrom('replace' as const, 'replace' as const, 'add' as const, 'drop' as const),
      key: keyArb,
      value: nastyValueArb,
    }),
    { minLength: 1, maxLength: 3 },
  ),
});

const bodyArb: fc.Arbitrary<BodySpec> = fc.oneof(
  { weight: 60, arbitrary: mutatedArb },
  { weight: 40, arbitrary: jsonTextArb.map((text): BodySpec => ({ kind: 'text', text })) },
  {
    weight: 10,
    arbitrary: fc
      .record({ shape: fc.constantFrom('array' as const, 'object' as const, 'mixed' as const), levels: fc.integer({ min: 60, max: 5000 }) })
      .map((d): BodySpec => ({ kind: 'deep', ...d })),
  },
  { weight: 10, arbitrary: fc.constantFrom(...MALFORMED_JSON).map((text): BodySpec => ({ kind: 'text', text })) },
  { weight: 5, arbitrary: fc.string({ maxLength: 40 }).map((text): BodySpec => ({ kind: 'text', text })) },
  {
    weight: 5,
    arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 48 }).map((bytes): BodySpec => ({ kind: 'bytes', bytes })),
  },
  { weight: 5, arbitrary: fc.constant<BodySpec>({ kind: 'none' }) },
  { weight: 5, arbitrary: fc.constant<BodySpec>({ kind: 'text', text: '' }) },
  // Rare: a request over the body limit (413).
  { weight: 1, arbitrary: fc.constant<BodySpec>({ kind: 'oversized' }) },
);

const contentTypeArb = fc.oneof(
  { weight: 10, arbitrary: fc.constant('application/json') },
  { weight: 2, arbitrary: fc.constant('application/json; charset=utf-8') },
  { weight: 2, arbitrary: fc.constantFrom(...CONTENT_TYPES) },
);

/** Percent-encodes every byte of `text` as UTF-8 except the unreserved characters. */
function percentEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-._~]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

const HOSTILE_SEGMENTS = [
  '%00',
  'a%00b',
  '..',
  '...',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e%2f',
  '%ff',
  '%fe%ff',
  '%',
  '%zz',
  '%c0%ae',
  '%ED%A0%80',
  '%F0%9F%92%A9',
  '__proto__',
  'constructor',
  '%20',
  '%09',
  'null',
  '-1',
  '1e999',
  '99999999999999999999',
  '%252e',
  'a%2Fb',
  'a;b',
  'a%3Fb%3D1',
  '%23frag',
  '%5B%5D',
];

/** Garbage for a path parameter (already percent-encoded). */
const paramArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_SEGMENTS) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map(percentEncode) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 20 })
      .map((bytes) => bytes.map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
  },
  { weight: 1, arbitrary: fc.integer({ min: 500, max: 7000 }).map((n) => `<<LONG:${n}>>`) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 1200 }).map((n) => '%C3%A9'.repeat(n)) },
);

const QUERY_KEYS = [
  'limit',
  'offset',
  'after',
  'before',
  'distinct_id',
  'tenant_id',
  'page_size',
  'search_after',
  'page_no',
  'store',
  'stores',
  'show_opt_out_channels',
  'status',
  'recipient_id',
  'recipient_id[]',
  'category',
  'workflow',
  'workflow_slug',
  'channel',
  'execution_id',
  'message_id',
  'created_at_gte',
  'created_at_lte',
  'search',
  'credential_id',
  'tags',
  'locale',
  '__proto__',
  'constructor',
  'a[b]',
  'x[]',
  'limit[]',
  '',
];
const QUERY_VALUES = [
  '99999999999999999999',
  '-1',
  '0',
  '1e999',
  '1e300',
  'NaN',
  '1.5',
  '0x10',
  '%201',
  '',
  '%00',
  '%ff',
  '%zz',
  '%',
  'true',
  'false',
  '[]',
  '%7B%22a%22%3A1%7D',
  '%5B%5D',
  FUZZ_USER,
  FUZZ_TENANT,
  '%ED%A0%80',
  '2026-13-45T99%3A99%3A99Z',
];
const queryValueArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...QUERY_VALUES) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }).map(percentEncode) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 5000 }).map((n) => `<<LONG:${n}>>`) },
);
const queryArb = fc.record({
  plausible: fc.boolean(),
  pairs: fc.array(fc.tuple(fc.constantFrom(...QUERY_KEYS), queryValueArb), { maxLength: 6 }),
});

interface RequestSpec {
  /** At most one path parameter is garbage (in half the requests), so the others reach the handler with the body under test. */
  badParam: { index: number; value: string } | null;
  query: { plausible: boolean; pairs: Array<[string, string]> };
  body: BodySpec;
  contentType: string;
  /** Which accepted credential to present (index into the route's choices). */
  credential: number;
}

/**
 * Bodies each route accepts (with the plausible ids), the starting points of the mutations above;
 * a route without one starts from `{}`.
 */
function sampleBodies(p: Record<string, string>): Record<string, unknown[]> {
  const user = FUZZ_USER;
  const tenant = FUZZ_TENANT;
  const event = { event: 'fuzz_clicked', distinct_id: user, tenant_id: tenant, $insert_id: 'fuzz-insert', properties: { a: 1 } };
  const operations = {
    operations: [{ $set: { plan: 'pro' } }, { $unset: ['old'] }, { $append: { tags: 'x' } }, { $remove: { tags: 'y' } }],
  };
  const workflow = { category: CATEGORY, steps: [{ type: 'inbox', template: { text: 'Hi {{data.name}}' } }] };
  return {
    'POST /v2/event': [event, { event: '$identify', properties: { $identified_id: user } }, { distinct_id: user, $set: { plan: 'pro' } }],
    'POST /event': [event, { distinct_id: user, $user_operations: [{ $set: { plan: 'pro' } }] }],
    'POST /v2/bulk/event': [[event, event]],
    'POST /trigger': [
      {
        workflow: WORKFLOW,
        recipients: ['fuzz-recipient', { distinct_id: user, $channels: ['inbox'] }, { object_type: 'teams', id: 'fuzz-team', size: 3 }],
        data: { name: 'x' },
        tenant_id: tenant,
      },
      [{ workflow: WORKFLOW, recipients: [user], $idempotency_key: 'fuzz-key', actor: user, cancellation_key: 'c' }],
    ],
    'POST /:wsKey/trigger': [
      { template: WORKFLOW, users: [{ distinct_id: user }], data: { name: 'x' }, delay: 60, brand_id: tenant },
      { template: WORKFLOW, users: [user], trigger_at: '2030-01-01T00:00:00Z', notification_category: CATEGORY },
    ],
    'POST /:wsKey/broadcast': [{ list_id: 'fuzz-list', template: WORKFLOW, data: {}, channels: ['inbox'], delay: '1d2h' }],
    'POST /v1/workflow_run/cancel': [
      { cancellation_key: 'c', workflow_slug: WORKFLOW, tenant_id: tenant },
      { recipients: [user, 'fuzz-recipient'], idempotency_key: 'fuzz-key', execution_id: 'job_x' },
    ],
    'POST /v1/broadcast_run/cancel': [{ list_id: 'fuzz-list', execution_id: 'job_x', idempotency_key: 'fuzz-key', tenant_id: tenant }],
    'POST /v1/user/:id': [{ name: 'Fuzz', $email: ['fuzz@example.com'], properties: { a: 1 } }],
    'PATCH /v1/user/:id': [operations],
    'POST /v1/user/:id/merge': [{ from_user_id: 'fuzz-other' }],
    'DELETE /v1/bulk/user': [{ distinct_ids: ['fuzz-gone', 'fuzz-gone-2'] }],
    'POST /v1/tenant/:id': [{ tenant_name: 'Fuzz', logo: 'https://example.com/l.png', primary_color: '#ff0000', properties: { a: 1 } }],
    'POST /v1/brand/:id': [{ brand_name: 'Fuzz', properties: { a: 1 } }],
    'PATCH /v1/tenant/:id/preference/category/:category': [
      { preference: 'opt_out', visible_to_subscriber: true, blocked_channels: ['sms'] },
    ],
    'POST /v1/subscriber_list': [{ list_id: 'fuzz-list-2', list_name: 'Fuzz', list_description: 'd' }],
    'POST /v1/subscriber_list/:listId/subscriber/add': [{ distinct_ids: [user, 'fuzz-member'] }],
    'POST /v1/subscriber_list/:listId/subscriber/remove': [{ distinct_ids: ['fuzz-member'] }],
    'POST /v1/subscriber_list/:listId/version/:versionId/subscriber/add': [{ distinct_ids: [user] }],
    'POST /v1/subscriber_list/:listId/version/:versionId/subscriber/remove': [{ distinct_ids: [user] }],
    'PATCH /v1/user/:id/preference/channel_preference': [{ channel_preferences: [{ channel: 'email', is_restricted: true }] }],
    'PATCH /v1/user/:id/preference/category/:category': [{ preference: 'opt_out', opt_out_channels: ['email'] }],
    'POST /v1/user/:id/tenant/:tenantId': [{ properties: { role: 'admin' } }],
    'PATCH /v1/user/:id/tenant/:tenantId': [operations],
    'POST /v1/object/:type/:id': [{ name: 'Fuzz', $email: ['team@example.com'], properties: { a: 1 } }],
    'PATCH /v1/object/:type/:id': [operations],
    'DELETE /v1/bulk/object/:type': [{ object_ids: ['fuzz-gone'] }],
    'POST /v1/object/:type/:id/subscription': [{ recipients: [user, { object_type: 'teams', id: 'fuzz-parent' }], properties: { r: 1 } }],
    'DELETE /v1/object/:type/:id/subscription': [{ recipients: [user] }],
    'PATCH /v1/bulk/message': [{ messages: [{ message_id: 'fuzz-message', action: 'read' }] }],
    'PATCH /v2/subscriber/:id/category/:category': [{ preference: 'opt_out', opt_out_channels: ['email'] }],
    'POST /v1/subscriber/:id/category/:category': [{ preference: 'opt_out', opt_out_channels: ['email'] }],
    'POST /v1/subscriber/:id/channel_preference': [{ channel_preferences: [{ channel: 'email', is_restricted: true }] }],
    'PATCH /v2/subscriber/:id/channel_preference': [{ channel_preferences: [{ channel: 'email', is_restricted: true }] }],
    'POST /v1/feed/bulk/notifications/seen': [{ notification_ids: [p['notifications/:id'] ?? 'n'] }],
    'POST /admin/api/login': [{ email: 'nobody@example.com', password: 'not the password' }],
    'POST /admin/api/reauth': [{ password: 'not the password' }],
    'POST /admin/api/accounts': [{ email: 'fuzzed@example.com', password: 'a long enough password 1', role: 'viewer' }],
    'PATCH /admin/api/accounts/:id': [{ role: 'viewer', disabled: false }],
    'POST /admin/api/service-tokens': [{ name: 'fuzzed', role: 'viewer', workspaces: ['fuzz-admin'], expires_in: '1d' }],
    'POST /admin/api/workspaces': [{ slug: 'fuzzed', name: 'Fuzzed', mode: 'test' }],
    'PUT /admin/api/workspaces/:ws/enhanced-security': [{ enabled: false }],
    'POST /admin/api/workspaces/:ws/secret/rotate': [{ grace: '1h' }],
    'POST /admin/api/workspaces/:ws/api-keys': [{ name: 'fuzzed', expires_in: '1d', scope: 'read', route_groups: ['users'] }],
    'POST /admin/api/workspaces/:ws/public-keys': [{ name: 'fuzzed', allowed_origins: ['https://app.example.com'] }],
    'POST /admin/api/workspaces/:ws/signing-keys': [{ name: 'fuzzed' }],
    'POST /admin/api/workspaces/:ws/signing-keys/import': [
      { public_key_pem: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----', name: 'x' },
    ],
    'PUT /admin/api/workspaces/:ws/workflows/:slug': [workflow],
    'POST /admin/api/workspaces/:ws/workflows/:slug/test': [{ recipients: [user], data: { name: 'x' }, tenant_id: tenant }],
  };
}

/** How many positions (values, the whole body included) `sample` has for edits to land on. */
function renderPositions(sample: unknown): number {
  if (Array.isArray(sample)) return 1 + sample.reduce((n: number, item) => n + renderPositions(item), 0);
  if (sample !== null && typeof sample === 'object')
    return 1 + Object.values(sample).reduce((n: number, item) => n + renderPositions(item), 0);
  return 1;
}

/** `sample` as JSON text with the edits applied (hostile values go in as raw text, so 1e999 stays 1e999). */
function renderMutation(sample: unknown, edits: Edit[]): string {
  const paths: string[] = [];
  const walk = (value: unknown, path: string) => {
    paths.push(path);
    if (Array.isArray(value)) value.forEach((item, i) => walk(item, `${path}/${i}`));
    else if (value !== null && typeof value === 'object')
      for (const [k, item] of Object.entries(value)) walk(item, `${path}/${encodeURIComponent(k)}`);
  };
  walk(sample, '');
  const byPath = new Map(edits.map((edit) => [paths[edit.at % paths.length] as string, edit]));
  const render = (value: unknown, path: string): string | undefined => {
    const edit = byPath.get(path);
    if (edit?.mode === 'drop') return path === '' ? '{}' : undefined;
    const isObject = value !== null && typeof value === 'object' && !Array.isArray(value);
    if (edit !== undefined && (edit.mode === 'replace' || !isObject)) return edit.value;
    if (Array.isArray(value)) return `[${value.flatMap((item, i) => render(item, `${path}/${i}`) ?? []).join(',')}]`;
    if (isObject) {
      const entries = Object.entries(value).flatMap(([k, item]) => {
        const text = render(item, `${path}/${encodeURIComponent(k)}`);
        return text === undefined ? [] : [`${JSON.stringify(k)}:${text}`];
      });
      if (edit !== undefined) entries.push(`${JSON.stringify(edit.key)}:${edit.value}`);
      return `{${entries.join(',')}}`;
    }
    return JSON.stringify(value);
  };
  return render(sample, '') ?? '{}';
}

function materialise(text: string): string {
  return text.replace(/<<LONG:(\d+)>>/g, (_match, n: string) => 'x'.repeat(Number(n)));
}

function bodyBytes(spec: BodySpec, samples: unknown[]): Buffer | undefined {
  switch (spec.kind) {
    case 'none':
      return undefined;
    case 'mutated':
      return Buffer.from(materialise(renderMutation(samples[spec.sample % samples.length], spec.edits)), 'utf8');
    case 'text':
      return Buffer.from(materialise(spec.text), 'utf8');
    case 'bytes':
      return Buffer.from(spec.bytes);
    case 'oversized':
      return Buffer.from(`{"data":"${'x'.repeat(BODY_LIMIT_BYTES + 16)}"}`);
    case 'deep': {
      const n = spec.levels;
      if (spec.shape === 'array') return Buffer.from(`${'['.repeat(n)}1${']'.repeat(n)}`);
      if (spec.shape === 'object') return Buffer.from(`${'{"a":'.repeat(n)}1${'}'.repeat(n)}`);
      return Buffer.from(`{"data":${'[{"a":'.repeat(n)}null${'}]'.repeat(n)}}`);
    }
  }
}

/** Each route its own stream of cases, all fixed by SEED. */
function routeSeed(route: { method: string; url: string }): number {
  return createHash('sha256').update(`${SEED} ${route.method} ${route.url}`).digest().readInt32LE(0);
}

function withBound<T>(promise: Promise<T>, label: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${REQUEST_BOUND_MS} ms (hang?): ${label}`)), REQUEST_BOUND_MS);
  });
  return Promise.race([promise, bound]).finally(() => clearTimeout(timer));
}

interface WorkspaceCredentials {
  id: string;
  slug: string;
  workspaceKey: string;
  secret: string;
  apiKey: string;
  publicKey: string;
  signingPem: string;
  kid: string;
}

type Presented =
  | { kind: CredentialKind; ws: WorkspaceCredentials; withToken: boolean }
  | { kind: 'session' }
  | { kind: 'service_token' }
  | { kind: 'none' };

for (const engine of enginesUnderTest()) {
  describe(`fuzzing every route on ${engine} (seed ${SEED}, ${RUNS} runs per route)`, () => {
    let t: TestEnv;
    let herald: Herald;
    let app: FastifyInstance;
    const clock = fixedClock(Date.now());
    const routes: Route[] = [];
    let staging: WorkspaceCredentials;
    /** Enhanced security off: a public key alone names the workspace, the request names the user. */
    let open: WorkspaceCredentials;
    let ownerId = '';
    let serviceToken = '';
    const plausible: Record<string, string> = {};
    let tokenForFuzzUser = '';
    const stats = { requests: 0, pastAuth: 0 };

    async function workspaceCredentials(slug: string): Promise<WorkspaceCredentials> {
      const workspace = await herald.workspaces.get(slug);
      const signing = await herald.signingKeys.create(workspace, {});
      return {
        id: workspace.id,
        slug,
        workspaceKey: workspace.workspaceKey,
        secret: await herald.workspaceSecrets.reveal(workspace.id),
        apiKey: (await herald.apiKeys.create(workspace, { name: 'fuzz' })).key,
        publicKey: (await herald.publicKeys.create(workspace, {})).key,
        signingPem: signing.pem,
        kid: signing.kid,
      };
    }

    async function userToken(ws: WorkspaceCredentials, user: string, tenant: string): Promise<string> {
      return new SignJWT({ entity_type: 'subscriber', entity_id: user, scope: { tenant_id: tenant } })
        .setProtectedHeader({ alg: 'ES256', kid: ws.kid })
        .setIssuedAt(Math.floor(clock.now() / 1000) - 60)
        .setExpirationTime(Math.floor(clock.now() / 1000) + 24 * 3600)
        .sign(createPrivateKey(ws.signingPem));
    }

    /** A plausible value for a path parameter, by `<previous segment>/:<name>`; anything else gets a fixed word. */
    function plausibleParam(segments: string[], index: number): string {
      const name = segments[index] as string;
      const previous = segments[index - 1] ?? '';
      return plausible[`${previous}/${name}`] ?? plausible[name] ?? 'fuzz-thing';
    }

    /** The credentials a route may be fuzzed with. */
    function choicesFor(route: Route): Presented[] {
      const surface = surfaceOf(route);
      if (surface === 'admin') return [{ kind: 'session' }, { kind: 'service_token' }];
      if (surface === 'open') return [{ kind: 'none' }];
      const accepts = route.config?.acceptsCredentials ?? [];
      return accepts.flatMap((kind): Presented[] =>
        kind === 'public_key'
          ? [
              { kind, ws: staging, withToken: true },
              { kind, ws: open, withToken: false },
            ]
          : [{ kind, ws: staging, withToken: false }],
      );
    }

    async function headersFor(
      presented: Presented,
      method: string,
      target: string,
      body: Buffer | undefined,
      contentType: string,
    ): Promise<Record<string, string>> {
      switch (presented.kind) {
        case 'none':
          return {};
        case 'service_token':
          return { authorization: `ServiceToken ${serviceToken}` };
        case 'session': {
          const deps = createAdminGroupDeps(herald);
          const session = await deps.sessions.issue(ownerId, { ip: '127.0.0.1', userAgent: 'fuzz' }, undefined);
          return { cookie: `herald_session=${session.token}`, 'x-csrf-token': session.csrfToken };
        }
        case 'api_key':
          return { authorization: `Bearer ${presented.ws.apiKey}` };
        case 'public_key':
          return presented.withToken
            ? { authorization: presented.ws.publicKey, 'x-ss-signature': tokenForFuzzUser }
            : { authorization: presented.ws.publicKey };
        case 'hmac': {
          // Signed as the backend SDKs sign: over the exact bytes and the target the server sees.
          const date = new Date(clock.now()).toUTCString();
          const md5 = body === undefined || body.length === 0 ? '' : createHash('md5').update(body).digest('hex');
          const signature = createHmac('sha256', presented.ws.secret)
            .update(`${method}\n${md5}\n${contentType}\n${date}\n${target}`, 'utf8')
            .digest('base64');
          return { date, authorization: `${presented.ws.workspaceKey}:${signature}` };
        }
      }
    }

    function specArb(route: Route, choices: number): fc.Arbitrary<RequestSpec> {
      const params = route.url.split('/').filter((s) => s.startsWith(':') || s === '*');
      const hasBody = route.method !== 'GET' && route.method !== 'HEAD' && route.method !== 'OPTIONS';
      return fc.record({
        badParam:
          params.length === 0
            ? fc.constant(null)
            : fc.option(fc.record({ index: fc.nat({ max: params.length - 1 }), value: paramArb }), { freq: 2 }),
        query: queryArb,
        body: hasBody ? bodyArb : fc.constant<BodySpec>({ kind: 'none' }),
        contentType: contentTypeArb,
        credential: fc.nat({ max: choices - 1 }),
      });
    }

    async function run(route: Route, spec: RequestSpec, presented: Presented): Promise<void> {
      const segments = route.url.split('/');
      let p = 0;
      const path = segments
        .map((segment, index) => {
          if (!segment.startsWith(':') && segment !== '*') return segment;
          const isBad = spec.badParam?.index === p;
          p += 1;
          return isBad && spec.badParam ? materialise(spec.badParam.value) : percentEncode(plausibleParam(segments, index));
        })
        .join('/');
      const pairs: Array<[string, string]> = [
        ...(spec.query.plausible
          ? ([
              ['distinct_id', FUZZ_USER],
              ['tenant_id', FUZZ_TENANT],
            ] as Array<[string, string]>)
          : []),
        ...spec.query.pairs.map(([k, v]): [string, string] => [percentEncode(k), materialise(v)]),
      ];
      const query = pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`;
      // What the server will see as the request target (the injector resolves the URL the way a client does).
      const parsed = new URL(`${path}${query}`, 'http://localhost');
      const target = parsed.pathname + parsed.search;
      const body = bodyBytes(spec.body, sampleBodies(plausible)[keyOf(route)] ?? [{}]);
      const contentType = body === undefined ? '' : spec.contentType;
      const headers: Record<string, string> = {
        ...(contentType === '' ? {} : { 'content-type': contentType }),
        ...(await headersFor(presented, route.method, target, body, contentType)),
      };
      const label = `${route.method} ${target.slice(0, 200)} [${presented.kind}, ${contentType || 'no content type'}]`;
      const response: LightMyRequestResponse = await withBound(
        app.inject({
          method: route.method as InjectOptions['method'],
          url: target,
          headers,
          ...(body === undefined ? {} : { payload: body }),
        }),
        label,
      );
      stats.requests += 1;
      if (response.statusCode !== 401) stats.pastAuth += 1;
      // Run from source without `npm run build`, the dashboard answers 503 by design (it has nothing to serve).
      const isUnbuiltDashboard = route.url.startsWith('/dashboard') && response.statusCode === 503 && response.body.includes('not built');
      assert.ok(response.statusCode < 500 || isUnbuiltDashboard, `${label}: ${response.statusCode} ${response.body.slice(0, 500)}`);
      if (response.statusCode >= 400 && route.method !== 'HEAD') {
        assert.match(String(response.headers['content-type']), /^application\/json/, `${label}: ${response.statusCode} is not JSON`);
        let parsedBody: unknown;
        try {
          parsedBody = JSON.parse(response.body);
        } catch {
          assert.fail(`${label}: ${response.statusCode} with a body that is not JSON: ${response.body.slice(0, 300)}`);
        }
        // The SuprSend envelope the SDKs read, with a message that says what went wrong.
        const envelope = parsedBody as {
          status?: unknown;
          code?: unknown;
          message?: unknown;
          error?: { type?: unknown; message?: unknown };
        };
        const isEnvelope =
          envelope.status === 'error' &&
          envelope.code === response.statusCode &&
          typeof envelope.message === 'string' &&
          envelope.message.length > 0 &&
          typeof envelope.error?.type === 'string' &&
          envelope.error.message === envelope.message;
        assert.ok(isEnvelope, `${label}: ${response.statusCode} without the error envelope: ${response.body.slice(0, 300)}`);
      }
    }

    /** Fuzzes each route; all failures are reported together, each with the seed that reproduces it. */
    async function fuzz(selected: Route[]): Promise<void> {
      assert.ok(selected.length > 0, 'no routes selected');
      const failures: string[] = [];
      for (const route of selected) {
        const choices = choicesFor(route);
        const before = { ...stats };
        try {
          await fc.assert(
            fc.asyncProperty(specArb(route, choices.length), async (spec) => run(route, spec, choices[spec.credential] as Presented)),
            { seed: routeSeed(route), numRuns: RUNS },
          );
        } catch (error) {
          const cause = (error as Error).cause instanceof Error ? `\n${((error as Error).cause as Error).message.slice(0, 1500)}` : '';
          failures.push(`${keyOf(route)} (HERALD_FUZZ_SEED=${SEED}):\n${(error as Error).message.slice(0, 2000)}${cause}`);
          continue;
        }
        // A fuzz that never gets past authentication proves nothing about the handler.
        const pastAuth = stats.pastAuth - before.pastAuth;
        if (choices[0]?.kind !== 'none' && pastAuth < (stats.requests - before.requests) / 4) {
          failures.push(`${keyOf(route)}: only ${pastAuth} of ${stats.requests - before.requests} requests got past authentication`);
        }
      }
      assert.deepEqual(failures, [], failures.join('\n\n'));
    }

    const fuzzable = () => routes.filter((r) => r.method !== 'HEAD');
    const bySurface = (surface: Surface, accepts?: string) =>
      fuzzable().filter(
        (r) =>
          surfaceOf(r) === surface && (accepts === undefined || [...(r.config?.acceptsCredentials ?? [])].sort().join(',') === accepts),
      );

    const signedCall = async (method: 'GET' | 'POST' | 'PATCH', url: string, body?: unknown) => {
      const bytes = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const contentType = 'application/json; charset=utf-8';
      return app.inject({
        method,
        url,
        headers: {
          'content-type': contentType,
          ...(await headersFor({ kind: 'hmac', ws: staging, withToken: false }, method, url, bytes, contentType)),
        },
        ...(bytes === undefined ? {} : { payload: bytes }),
      });
    };

    const bystanderFeed = async () =>
      app.inject({
        method: 'GET',
        url: `/v1/feed/notifications?distinct_id=${BYSTANDER}&tenant_id=default`,
        headers: { authorization: staging.publicKey, 'x-ss-signature': await userToken(staging, BYSTANDER, 'default') },
      });

    const digest = (workspaceId: string) => workspaceDigest(herald, WORKSPACE_DATA_TABLES, workspaceId);

    const snapshot: { production: string; bystander: string; feed: string } = { production: '', bystander: '', feed: '' };
    let productionId = '';

    before(async () => {
      t = await createTestEnv(engine, { HERALD_BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES) });
      herald = await openHerald(t.config, { clock });
      await herald.workspaces.setEnhancedSecurity('staging', true);
      // Else the /v1/subscriber/ routes of signed client SDKs stop at the switch, before their handlers.
      await herald.workspaces.setSignedClients('staging', true);
      await herald.workspaces.create({ slug: 'fuzz-open', mode: 'test' });
      const fuzzAdmin = await herald.workspaces.create({ slug: 'fuzz-admin', mode: 'test' });
      for (const slug of ['staging', 'fuzz-open', 'fuzz-admin', 'production']) {
        const workspace = await herald.workspaces.get(slug);
        await new CategoryService(herald).apply(workspace.id, [{ slug: CATEGORY, name: 'Promotions' }]);
        await new WorkflowService(herald).apply(workspace.id, [
          { slug: WORKFLOW, category: CATEGORY, steps: [{ type: 'inbox', template: { text: 'Hello {{data.name}}' } }] },
        ]);
      }
      staging = await workspaceCredentials('staging');
      open = await workspaceCredentials('fuzz-open');
      productionId = (await herald.workspaces.get('production')).id;
      tokenForFuzzUser = await userToken(staging, FUZZ_USER, FUZZ_TENANT);

      const deps = createAdminGroupDeps(herald);
      const cli = { type: 'cli' as const, id: null, label: 'cli:fuzz', ip: null };
      ownerId = (
        await deps.accounts.create(
          { email: 'owner@example.com', password: 'correct horse battery staple', role: 'owner' },
          { kind: 'cli' },
          cli,
        )
      ).id;
      const victim = await deps.accounts.create(
        { email: 'victim@example.com', password: 'correct horse battery staple', role: 'viewer' },
        { kind: 'cli' },
        cli,
      );
      serviceToken = (
        await deps.serviceTokens.create({ name: 'fuzz-admin', role: 'admin', workspaces: ['fuzz-admin'] }, { kind: 'cli' }, cli)
      ).token;
      const doomedToken = await deps.serviceTokens.create(
        { name: 'doomed', role: 'viewer', workspaces: ['fuzz-admin'] },
        { kind: 'cli' },
        cli,
      );
      Object.assign(plausible, {
        'user/:id': FUZZ_USER,
        'subscriber/:id': FUZZ_USER,
        'tenant/:id': FUZZ_TENANT,
        'brand/:id': FUZZ_TENANT,
        ':tenantId': FUZZ_TENANT,
        ':category': CATEGORY,
        ':listId': 'fuzz-list',
        ':versionId': 'fuzz-version',
        ':type': 'teams',
        ':type/:id': 'fuzz-object',
        'notifications/:id': 'fuzz-notification',
        ':wsKey': staging.workspaceKey,
        ':ws': fuzzAdmin.slug,
        'accounts/:id': victim.id,
        'service-tokens/:id': doomedToken.id,
        'api-keys/:id': (await herald.apiKeys.create(fuzzAdmin, { name: 'doomed' })).id,
        'public-keys/:id': (await herald.publicKeys.create(fuzzAdmin, {})).id,
        ':kid': (await herald.signingKeys.create(fuzzAdmin, {})).kid,
        'users/:id': FUZZ_USER,
        ':slug': WORKFLOW,
        ':file': 'no-such-file.js',
        '*': 'some/page',
      });

      const built = await buildAppWithRoutes(herald);
      app = built.app;
      routes.push(...built.routes);

      // The plausible ids exist, so handlers get past their lookups too.
      for (const [method, url, body] of [
        ['POST', `/v1/user/${FUZZ_USER}`, { name: 'Fuzz' }],
        ['POST', `/v1/tenant/${FUZZ_TENANT}`, { tenant_name: 'Fuzz' }],
        ['POST', `/v1/user/${FUZZ_USER}/tenant/${FUZZ_TENANT}`, {}],
        ['POST', '/v1/subscriber_list', { list_id: 'fuzz-list', list_name: 'Fuzz' }],
        ['POST', '/v1/subscriber_list/fuzz-list/subscriber/add', { distinct_ids: [FUZZ_USER] }],
        ['POST', '/v1/object/teams/fuzz-object', { name: 'Fuzz' }],
        ['POST', '/v1/object/teams/fuzz-object/subscription', { recipients: [FUZZ_USER] }],
        ['POST', '/trigger', { workflow: WORKFLOW, recipients: [FUZZ_USER], tenant_id: FUZZ_TENANT, data: { name: 'fuzz' } }],
      ] as const) {
        const response = await signedCall(method, url, body);
        assert.ok(response.statusCode < 300, `${method} ${url}: ${response.statusCode} ${response.body}`);
      }
      const draft = await signedCall('POST', '/v1/subscriber_list/fuzz-list/start_sync', {});
      plausible[':versionId'] = String((draft.json() as { version_id: unknown }).version_id);
      const notification = await herald.db
        .selectFrom('notifications')
        .select('id')
        .where('workspace_id', '=', staging.id)
        .where('distinct_id', '=', FUZZ_USER)
        .executeTakeFirstOrThrow();
      plausible['notifications/:id'] = notification.id;

      // What the fuzz must not change: another workspace, and a user of the fuzzed one.
      assert.equal((await signedCall('POST', `/v1/user/${BYSTANDER}`, { name: 'Bystander' })).statusCode, 200);
      assert.equal(
        (await signedCall('POST', '/trigger', { workflow: WORKFLOW, recipients: [BYSTANDER], data: { name: 'before' } })).statusCode,
        202,
      );
      snapshot.production = await digest(productionId);
      snapshot.bystander = (await signedCall('GET', `/v1/user/${BYSTANDER}`)).body;
      const feed = await bystanderFeed();
      assert.equal(feed.statusCode, 200, feed.body);
      snapshot.feed = feed.body;
    });

    after(async () => {
      await app?.close();
      await herald?.close();
      await t?.cleanup();
    });

    test('the route table is complete: every registered route is fuzzed by one of the tests below', () => {
      const covered = new Set(
        [
          ...bySurface('credentials', 'api_key,hmac'),
          ...bySurface('credentials', 'public_key'),
          ...bySurface('credentials', 'api_key,hmac,public_key'),
          ...bySurface('credentials', 'hmac'),
          ...bySurface('admin'),
          ...bySurface('open'),
        ].map(keyOf),
      );
      const missed = fuzzable().filter((r) => !covered.has(keyOf(r)));
      assert.ok(routes.length > 100, `only ${routes.length} routes seen`);
      assert.deepEqual(missed.map(keyOf), [], 'routes of a credential set no test below fuzzes');
    });

    test('backend routes (HMAC-signed or API key)', async () => fuzz(bySurface('credentials', 'api_key,hmac')));

    test('client routes (public key, with and without a user token)', async () => fuzz(bySurface('credentials', 'public_key')));

    test('shared routes (every credential kind)', async () => fuzz(bySurface('credentials', 'api_key,hmac,public_key')));

    test('signed client routes (key+secret signed, web-sdk 1.x and Android 1.x)', async () => fuzz(bySurface('credentials', 'hmac')));

    test('admin routes (session or service token)', async () => fuzz(bySurface('admin')));

    test('public routes and admin login (no credential)', async () => fuzz(bySurface('open')));

    test('every position of every sample body, replaced by each of a few nasty values or dropped (a deterministic sweep)', async () => {
      // Random edits land on a given field with a given value rarely; this covers each pair once.
      const values = ['{"toString":[]}', '[{"valueOf":{}}]', '1e999', '99999999999999999999', '"\\u0000"', '"\\ud800"', 'null', '[]', '{}'];
      const failures: string[] = [];
      const samples = sampleBodies(plausible);
      let sent = 0;
      for (const route of fuzzable()) {
        const choices = choicesFor(route);
        const presented = choices[0] as Presented;
        for (const [index, sample] of (samples[keyOf(route)] ?? []).entries()) {
          const positions = renderPositions(sample);
          for (let at = 0; at < positions; at++) {
            for (const edit of [
              ...values.map((value) => ({ at, mode: 'replace' as const, key: '', value })),
              { at, mode: 'drop' as const, key: '', value: '' },
            ]) {
              const spec: RequestSpec = {
                badParam: null,
                query: { plausible: true, pairs: [] },
                body: { kind: 'mutated', sample: index, edits: [edit] },
                contentType: 'application/json',
                credential: 0,
              };
              sent += 1;
              try {
                await run(route, spec, presented);
              } catch (error) {
                failures.push(
                  `${keyOf(route)} sample ${index}, ${renderMutation(sample, [edit]).slice(0, 200)}: ${(error as Error).message.slice(0, 500)}`,
                );
              }
            }
          }
        }
      }
      assert.ok(sent > 1000, `only ${sent} sweep requests: are the sample bodies keyed by the registered routes?`);
      assert.deepEqual(failures, [], failures.join('\n'));
    });

    test('credential headers: hostile Authorization values, user tokens, dates and cookies are a 401, never a 5xx', async () => {
      // One GET route of each credential set: authentication runs before any handler, so one route per set suffices.
      const targets = [
        bySurface('credentials', 'api_key,hmac'),
        bySurface('credentials', 'public_key'),
        bySurface('credentials', 'api_key,hmac,public_key'),
        bySurface('admin'),
      ].map((selected) => selected.find((r) => r.method === 'GET' && !r.url.includes(':')) as Route);
      assert.ok(targets.every((r) => r !== undefined));
      const printable = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 });
      const b64 = (text: string) => Buffer.from(materialise(text)).toString('base64url');
      /** A JSON object text with each of `keys` present or not, holding a plausible or a hostile value. */
      const claimsArb = (keys: Record<string, string[]>) =>
        fc
          .tuple(
            ...Object.entries(keys).map(([k, good]) =>
              fc.option(fc.oneof(fc.constantFrom(...good), jsonTextArb)).map((v) => [k, v] as const),
            ),
          )
          .map((entries) => `{${entries.flatMap(([k, v]) => (v === null ? [] : [`${JSON.stringify(k)}:${v}`])).join(',')}}`);
      const headerArb = claimsArb({
        alg: ['"ES256"', '"HS256"', '"none"'],
        kid: [JSON.stringify(staging.kid)],
        typ: ['"JWT"'],
        crit: ['["b64"]'],
      });
      const payloadArb = claimsArb({
        entity_type: ['"subscriber"'],
        entity_id: [JSON.stringify(FUZZ_USER)],
        scope: [`{"tenant_id":${JSON.stringify(FUZZ_TENANT)}}`],
        exp: [String(Math.floor(clock.now() / 1000) + 3600), '1e999'],
        iat: [String(Math.floor(clock.now() / 1000))],
        nbf: ['0'],
      });
      const tokenArb = fc.oneof(
        fc.tuple(headerArb, payloadArb, printable).map(([h, p, sig]) => `${b64(h)}.${b64(p)}.${b64(sig)}`),
        fc.tuple(jsonTextArb, jsonTextArb, printable).map(([h, p, sig]) => `${b64(h)}.${b64(p)}.${b64(sig)}`),
        // A well-formed ES256 header naming the real key, with a hostile payload and no valid signature.
        jsonTextArb.map((p) => `${b64(JSON.stringify({ alg: 'ES256', kid: staging.kid }))}.${b64(p)}.${b64('not a signature')}`),
        fc.tuple(jsonTextArb, jsonTextArb).map(([h, p]) => `${b64(h)}.${b64(p)}`),
        printable,
      );
      const authorizationArb = fc.oneof(
        printable,
        printable.map((x) => `Bearer ${x}`),
        printable.map((x) => `Bearer hak_test_${x}`),
        printable.map((x) => `ServiceToken ${x}`),
        printable.map((x) => `ServiceToken hst_${x}`),
        fc.tuple(printable, printable).map(([k, sig]) => `${k}:${sig}`),
        printable.map((sig) => `${staging.workspaceKey}:${sig}`),
        printable.map((x) => `hpk_test_${x}`),
        fc.constant(staging.publicKey),
      );
      const dateArb = fc.oneof(
        fc.constantFrom(
          '',
          'yesterday',
          'Thu, 01 Jan 1970 00:00:00 GMT',
          'Fri, 31 Dec 9999 23:59:59 GMT',
          '1e999',
          '-1',
          new Date(clock.now()).toUTCString(),
        ),
        printable,
      );
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            route: fc.nat({ max: targets.length - 1 }),
            authorization: fc.option(authorizationArb),
            token: fc.option(tokenArb),
            date: fc.option(dateArb),
            cookie: fc.option(printable.map((x) => `herald_session=${x}`)),
          }),
          async (spec) => {
            const route = targets[spec.route] as Route;
            const headers: Record<string, string> = {};
            if (spec.authorization !== null) headers['authorization'] = spec.authorization;
            if (spec.token !== null) headers['x-ss-signature'] = spec.token;
            if (spec.date !== null) headers['date'] = spec.date;
            if (spec.cookie !== null) headers['cookie'] = spec.cookie;
            const label = `${keyOf(route)} with ${JSON.stringify(headers).slice(0, 300)}`;
            const response = await withBound(app.inject({ method: 'GET', url: route.url, headers }), label);
            assert.equal(response.statusCode, 401, `${label}: ${response.statusCode} ${response.body.slice(0, 300)}`);
            const body = response.json() as { status?: unknown; error?: { type?: unknown } };
            assert.ok(body.status === 'error' && typeof body.error?.type === 'string', `${label}: ${response.body.slice(0, 300)}`);
          },
        ),
        { seed: SEED, numRuns: RUNS * 15 },
      );
    });

    test('afterwards: other users and workspaces are unchanged, and normal requests still work', async (context) => {
      assert.ok(stats.requests > 0, 'no fuzz requests ran');
      context.diagnostic(`${stats.requests} requests, ${stats.pastAuth} past authentication, seed ${SEED}, ${RUNS} runs per route`);
      assert.equal(await digest(productionId), snapshot.production, 'the production workspace changed');
      assert.equal((await signedCall('GET', `/v1/user/${BYSTANDER}`)).body, snapshot.bystander, 'the bystander user changed');
      const feedBefore = await bystanderFeed();
      assert.equal(feedBefore.body, snapshot.feed, "the bystander's feed changed");

      // Every list the fuzzed workspace shows still answers.
      for (const url of [
        '/v1/user?limit=1000',
        '/v1/tenant?limit=1000',
        '/v1/subscriber_list?limit=1000',
        '/v1/message?limit=1000',
        '/v1/object/teams',
      ]) {
        const response = await signedCall('GET', url);
        assert.equal(response.statusCode, 200, `${url}: ${response.body.slice(0, 300)}`);
      }
      const ownerHeaders = await headersFor({ kind: 'session' }, 'GET', '', undefined, '');
      for (const url of [
        '/admin/api/workspaces/staging/users',
        '/admin/api/workspaces/staging/request-log',
        '/admin/api/workspaces/fuzz-admin/audit-log',
      ]) {
        const response = await app.inject({ method: 'GET', url, headers: ownerHeaders });
        assert.equal(response.statusCode, 200, `${url}: ${response.body.slice(0, 300)}`);
      }

      // A normal trigger reaches the bystander's feed.
      const triggered = await signedCall('POST', '/trigger', { workflow: WORKFLOW, recipients: [BYSTANDER], data: { name: 'after' } });
      assert.equal(triggered.statusCode, 202, triggered.body);
      const feed = await bystanderFeed();
      assert.equal(feed.statusCode, 200, feed.body);
      assert.match(feed.body, /Hello after/);
      assert.match(feed.body, /Hello before/);
    });
  });
}
