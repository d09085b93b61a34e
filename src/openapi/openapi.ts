import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { API_KEY_SCOPES, API_ROUTE_GROUPS } from '../auth/api-key-scope.js';
import { CSRF_HEADER, sessionCookieName } from '../auth/admin-session.js';
import { MAX_BULK_IDS } from '../inbox/inbox.service.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../inbox/store-filter.js';
import { ERROR_CODES, statusOf } from '../lib/errors.js';
import { MAX_DISTINCT_IDS_PER_CALL } from '../lists/lists.service.js';
import { CHANNELS } from '../preferences/preferences.resolution.js';
import { CHANNEL_KEYS } from '../users/user-operations.js';

/**
 * The OpenAPI 3.1 description of every HTTP route Herald serves, written by hand as typed data
 * (no generator, no schema library): the routes parse their bodies themselves, so the document is
 * the one place that says what they take. test/openapi.test.ts compares it with the routes the app
 * actually registers, both ways, so a route added without a line here fails the tests.
 *
 * Paths use the router's own parameter names (`/v1/user/{id}`), without the trailing slash the
 * SDKs add: the router ignores trailing slashes, so both spellings reach the same route.
 */

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

export interface Schema {
  $ref?: string;
  type?: JsonType | JsonType[];
  title?: string;
  description?: string;
  format?: string;
  enum?: readonly JsonValue[];
  const?: JsonValue;
  default?: JsonValue;
  examples?: JsonValue[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  propertyNames?: Schema;
  items?: Schema;
  prefixItems?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
}

export interface Parameter {
  $ref?: string;
  name?: string;
  in?: 'path' | 'query' | 'header' | 'cookie';
  description?: string;
  required?: boolean;
  schema?: Schema;
  /** For parameters that carry JSON text (the feed's `store`, `stores`, `search_after`). */
  content?: Record<string, { schema: Schema }>;
}

interface MediaType {
  schema: Schema;
}

export interface Response {
  $ref?: string;
  description?: string;
  headers?: Record<string, { description: string; schema: Schema }>;
  content?: Record<string, MediaType>;
}

interface RequestBody {
  description?: string;
  required: boolean;
  content: Record<string, MediaType>;
}

type SecurityRequirement = Record<string, string[]>;

export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: Tag[];
  security: SecurityRequirement[];
  parameters?: Parameter[];
  requestBody?: RequestBody;
  responses: Record<string, Response>;
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export type PathItem = { parameters?: Parameter[] } & Partial<Record<Method, Operation>>;

interface SecurityScheme {
  type: 'apiKey' | 'http';
  description: string;
  name?: string;
  in?: 'header' | 'cookie' | 'query';
  scheme?: string;
  bearerFormat?: string;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string; license: { name: string; identifier: string } };
  servers: Array<{ url: string; description: string }>;
  tags: Array<{ name: Tag; description: string }>;
  paths: Record<string, PathItem>;
  components: {
    securitySchemes: Record<string, SecurityScheme>;
    schemas: Record<string, Schema>;
    parameters: Record<string, Parameter>;
    responses: Record<string, Response>;
  };
}

type Tag = 'Backend' | 'Client' | 'Admin' | 'Health' | 'Demo';

const JSON_TYPE = 'application/json';
/** The document changes only with a new release, so caches may keep it a while. */
const OPENAPI_MAX_AGE_S = 300;
const MAX_BULK_TRIGGERS = 100;
const MAX_BULK_EVENTS = 1_000;
const MAX_BULK_DELETE = 1_000;
const MAX_OBJECT_RECIPIENTS = 100;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const param = (name: string): Parameter => ({ $ref: `#/components/parameters/${name}` });
const str = (description?: string, extra: Schema = {}): Schema => ({ type: 'string', ...(description ? { description } : {}), ...extra });
const int = (description?: string, extra: Schema = {}): Schema => ({ type: 'integer', ...(description ? { description } : {}), ...extra });
const bool = (description?: string): Schema => ({ type: 'boolean', ...(description ? { description } : {}) });
const obj = (properties: Record<string, Schema>, required: string[] = [], extra: Schema = {}): Schema => ({
  type: 'object',
  properties,
  ...(required.length > 0 ? { required } : {}),
  ...extra,
});
const arrayOf = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });
const nullable = (schema: Schema): Schema => ({ anyOf: [schema, { type: 'null' }] });
const JSON_OBJECT: Schema = { type: 'object', additionalProperties: true };
const EPOCH_MS = (description: string): Schema => int(description, { minimum: 0 });

function packageVersion(): string {
  // Same file from src/openapi/ (tsx) and dist/openapi/ (build): both sit two levels below the root.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

// ---------------------------------------------------------------------------------------------
// Security schemes

const SECURITY_SCHEMES: Record<string, SecurityScheme> = {
  hmac: {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description: [
      'Workspace key + secret, signed exactly as the SuprSend backend SDKs sign (backend routes and the shared routes).',
      '',
      '`Authorization: <workspace_key>:<base64 HMAC-SHA256>`: one colon, no scheme word. The signature is standard base64 (with `+`, `/` and `=` padding) of HMAC-SHA256 keyed with the workspace secret (UTF-8) over the string-to-sign (UTF-8)',
      '',
      '```',
      'METHOD + "\\n" + CONTENT_MD5 + "\\n" + CONTENT_TYPE + "\\n" + DATE + "\\n" + REQUEST_URI',
      '```',
      '',
      '- `METHOD`: the upper-case verb (`GET`, `POST`, `PATCH`, `DELETE`).',
      '- `CONTENT_MD5`: lower-case hex MD5 of the raw body bytes as sent; the empty string when there is no body (not the MD5 of ""). `{}` is a body.',
      '- `CONTENT_TYPE`: the `Content-Type` header value as sent (the SDKs send `application/json; charset=utf-8` on every method, GET included).',
      '- `DATE`: the `Date` header (without one, `x-amz-date`: web-sdk 1.x, as browsers cannot set `Date`), byte for byte. RFC 1123 (`Tue, 05 May 2026 10:00:00 GMT`), ISO-8601 with a zone (the Node SDK messages API, iOS legacy) or `java.util.Date.toString()` (`Tue Dec 01 10:00:00 IST 2026`, Android 1.x; zone abbreviations are read one fixed way, e.g. IST as India, and ambiguous or unknown ones are refused with `401 SIGNATURE_INVALID`); it must be within `HERALD_HMAC_MAX_SKEW` (default 15 min) of server time, else `401 SIGNATURE_EXPIRED`.',
      '- `REQUEST_URI`: the request target exactly as on the request line: path plus `?query` when the query is non-empty, not decoded or re-encoded, including any mount prefix and the trailing slash if one was sent.',
      '',
      'Example: `POST /trigger/` with body `{"workflow":"wf-slug","recipients":["user-1"],"data":{}}`, Date `Tue, 05 May 2026 10:00:00 GMT`, secret `ws_secret_example` signs `"POST\\n4ff360d6a566b630bee59c725c86f397\\napplication/json; charset=utf-8\\nTue, 05 May 2026 10:00:00 GMT\\n/trigger/"` to `AHmoqfFiUXQnRVgZAAUVGrPp2NPBMSGoMMUVmxzwcks=`.',
      '',
      'Key+secret signed *client* SDKs (web-sdk 1.x, Android 1.x, iOS legacy: a date in `x-amz-date`, a `java.util.Date` date, an ISO-8601 date on `/event/`, or a `/v1/subscriber/` route) carry the secret inside the app: in a workspace with enhanced security on they answer `403 FORBIDDEN` unless its switch "allow key+secret signed client calls" is on (`herald signed-clients <ws> on`, `PUT /admin/api/workspaces/{ws}/signed-clients`).',
      '',
      'Workspace keys look like `hwk_<test|live>_` + 22 base62. While a rotated-out secret is in its grace period, both secrets verify. A mismatch answers `401 SIGNATURE_INVALID`; the server-side log records the string it computed.',
    ].join('\n'),
  },
  apiKey: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'hak_<test|live>_<30 base62><6-char CRC32>',
    description:
      '`Authorization: Bearer <API key>` (backend routes and the shared routes). API keys look like `hak_<mode>_` + 30 base62 + a 6-character base62 CRC32 of what precedes it, which is checked before any lookup. Revoked keys answer `401 KEY_REVOKED`, expired ones `401 KEY_EXPIRED`. Create one with `herald api-key create <workspace> --name <name>`.',
  },
  publicKey: {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description:
      '`Authorization: <public key>`: the raw public key (`hpk_<mode>_` + 24 base62), no scheme word, as the browser and mobile SDKs send it (client routes and the shared routes). A public key with allowed origins refuses other browser origins (`403 ORIGIN_NOT_ALLOWED`). With the workspace in enhanced security mode a user token (`userToken`) is required as well.',
  },
  userToken: {
    type: 'apiKey',
    in: 'header',
    name: 'x-ss-signature',
    description: [
      '`x-ss-signature: <JWT>`: a per-user token signed by your backend with one of the workspace signing keys, sent alongside `publicKey`.',
      '',
      'The JWT must use `alg: ES256` (checked before any cryptography); a `kid` header must name an active signing key (`hsk_…`), without one every active key is tried. Claims: `entity_type: "subscriber"`, `entity_id: <distinct_id>`, `exp` (required), `iat` / `nbf` (honoured with at most 5 s of leeway), `scope.tenant_id` (a string or a list; default `default`).',
      '',
      'A token acts only for its user (`403 SUBSCRIBER_MISMATCH` otherwise) and in its tenants (`403 TENANT_NOT_IN_SCOPE`). Required in enhanced security mode; otherwise optional, but one that is sent must be valid (`401 TOKEN_INVALID` / `401 TOKEN_EXPIRED`).',
    ].join('\n'),
  },
  session: {
    type: 'apiKey',
    in: 'cookie',
    name: sessionCookieName(true),
    description: [
      `Dashboard session cookie (admin API), set by \`POST /admin/api/login\`: \`${sessionCookieName(true)}\` (HttpOnly, SameSite=Strict, Secure, Path=/) when \`HERALD_PUBLIC_URL\` is https, otherwise \`${sessionCookieName(false)}\` (not Secure).`,
      '',
      `Every POST, PUT, PATCH or DELETE made with the cookie must also carry the \`csrf_token\` (returned by login and \`GET /admin/api/me\`) in the \`${CSRF_HEADER}\` header (\`403 CSRF_TOKEN_INVALID\` otherwise), and is refused when the browser says it comes from another origin (\`Sec-Fetch-Site\` other than same-origin, or an \`Origin\` other than \`HERALD_PUBLIC_URL\` / the \`Host\`): \`403 ORIGIN_NOT_ALLOWED\`.`,
      '',
      'Account changes and service-token creation also need a fresh session (password entered within 10 minutes, see `POST /admin/api/reauth`): `403 SESSION_NOT_FRESH` otherwise.',
    ].join('\n'),
  },
  serviceToken: {
    type: 'apiKey',
    in: 'header',
    name: 'Authorization',
    description:
      '`Authorization: ServiceToken <token>` (admin API, for automation). Tokens look like `hst_` + 30 base62 + a 6-character base62 CRC32; they carry a role (`admin`, `developer` or `viewer`) and reach every workspace or a list of them (a workspace outside the list answers 404 like a missing one). No CSRF token is needed. Create one with `herald service-token create` or `POST /admin/api/service-tokens`.',
  },
};

const BACKEND: SecurityRequirement[] = [{ hmac: [] }, { apiKey: [] }];
const CLIENT: SecurityRequirement[] = [{ publicKey: [], userToken: [] }, { publicKey: [] }];
const SIGNED_CLIENT: SecurityRequirement[] = [{ hmac: [] }];
const SHARED: SecurityRequirement[] = [...BACKEND, ...CLIENT];
const ADMIN: SecurityRequirement[] = [{ session: [] }, { serviceToken: [] }];
const SESSION: SecurityRequirement[] = [{ session: [] }];
const PUBLIC: SecurityRequirement[] = [];

// ---------------------------------------------------------------------------------------------
// Schemas

function errorTypeDescription(): string {
  return ERROR_CODES.map((code) => `\`${code}\` (${statusOf(code)})`).join(', ');
}

const CHANNEL_KEY_LIST = CHANNEL_KEYS.map((key) => `\`${key}\``).join(', ');

const RECIPIENT_USER: Schema = obj(
  {
    distinct_id: str('The user to notify (upserted first unless is_transient).', { minLength: 1, maxLength: 512 }),
    $channels: arrayOf(str(), { description: 'Only these channels for this recipient.' }),
    is_transient: bool('true: do not store the user, notify only.'),
    ...Object.fromEntries(
      CHANNEL_KEYS.map((key) => [key, { description: `Channel identities for ${key.slice(1)}: one value or a list.` }]),
    ),
  },
  ['distinct_id'],
  { additionalProperties: true, description: 'A user object: distinct_id, channel identities and any other properties to store.' },
);

const STRING_OR_LIST: Schema = {
  description: 'A list of values; the SDK wraps it as `{"or": [...]}`, a bare string or list is read the same way.',
  anyOf: [obj({ or: arrayOf(str(undefined, { minLength: 1, maxLength: 256 }), { maxItems: 100 }) }, ['or']), str(), arrayOf(str())],
};

function schemas(): Record<string, Schema> {
  return {
    ErrorType: {
      type: 'string',
      enum: ERROR_CODES,
      description: `Stable error code (never renamed or reused), with its HTTP status: ${errorTypeDescription()}.`,
    },
    ErrorEnvelope: obj(
      {
        status: { const: 'error' },
        code: int('The HTTP status, repeated.'),
        message: str('What went wrong and what to do next.'),
        error: obj({ type: ref('ErrorType'), message: str('Same text as the top-level message.') }, ['type', 'message']),
      },
      ['status', 'code', 'message', 'error'],
      { description: 'The SuprSend error envelope every SDK reads. The precise reason is logged server-side, never sent.' },
    ),
    JsonObject: { ...JSON_OBJECT, description: 'A JSON object; see the SuprSend API reference for its fields.' },
    Success: obj({ success: { const: true } }, ['success']),
    DeletedCount: obj({ success: { const: true }, deleted: int('How many were deleted.', { minimum: 0 }) }, ['success', 'deleted']),
    Accepted: obj({ status: { const: 'success' }, message_id: nullable(str('Id of what was accepted (trigger execution or event).')) }, [
      'status',
      'message_id',
    ]),
    RecordOutcome: {
      oneOf: [
        obj({ status: { const: 'success' }, message_id: str(), status_code: { const: 202 } }, ['status', 'message_id', 'status_code']),
        obj(
          { status: { const: 'error' }, status_code: int(), error: obj({ message: str(), type: ref('ErrorType') }, ['message', 'type']) },
          ['status', 'status_code', 'error'],
        ),
      ],
    },
    BulkOutcome: obj(
      {
        status: { type: 'string', enum: ['success', 'partial'], description: 'partial (with HTTP 207) when any record failed.' },
        records: arrayOf(ref('RecordOutcome'), { description: 'One result per record, in request order.' }),
      },
      ['status', 'records'],
    ),
    Recipient: {
      description: 'A distinct_id, or a user object that is upserted before the trigger runs.',
      oneOf: [str('A distinct_id.', { minLength: 1, maxLength: 512 }), RECIPIENT_USER],
    },
    TriggerRequest: obj(
      {
        workflow: str('The workflow slug.', { minLength: 1 }),
        recipients: arrayOf(
          { anyOf: [ref('Recipient'), ref('ObjectRecipient')] },
          { minItems: 1, maxItems: 1000, description: 'Users, and objects whose subscribers are notified.' },
        ),
        data: { ...JSON_OBJECT, description: 'Template data (`data` in templates).' },
        actor: ref('Recipient'),
        metadata: JSON_OBJECT,
        $idempotency_key: str('Repeated within 24 h, the first result is returned and nothing new is delivered.', { maxLength: 255 }),
        tenant_id: str('Tenant of the notifications (default `default`).', { maxLength: 64 }),
        cancellation_key: str(undefined, { maxLength: 255 }),
      },
      ['workflow', 'recipients'],
      { additionalProperties: false, description: 'WorkflowTriggerRequest. Unknown fields are refused.' },
    ),
    ObjectRecipient: obj(
      {
        object_type: str(undefined, { minLength: 1, maxLength: 256 }),
        id: str(undefined, { minLength: 1, maxLength: 256 }),
      },
      ['object_type', 'id'],
      {
        additionalProperties: true,
        description:
          'An object: its user subscribers, and those of the objects subscribed to it (one level), are notified, each once and ' +
          'with their own preferences; at most 1000 users per trigger in all, or the trigger is refused (400). The object is ' +
          'created or updated with the other fields (as SuprSend does); one without subscribers notifies nobody. The object ' +
          'itself is not a recipient in Herald (no object inbox).',
      },
    ),
    WorkflowRunCancel: obj(
      {
        execution_id: str('The `message_id` the trigger answered.', { maxLength: 255 }),
        idempotency_key: str('The trigger’s `$idempotency_key`.', { maxLength: 255 }),
        cancellation_key: str('The trigger’s `cancellation_key`.', { maxLength: 255 }),
        workflow_slug: str(undefined, { maxLength: 255 }),
        tenant_id: str(undefined, { maxLength: 255 }),
        recipients: arrayOf(str('A distinct_id.', { minLength: 1, maxLength: 512 }), {
          minItems: 1,
          maxItems: 1000,
          description: 'Runs for these users; a run that also has other users goes on for them.',
        }),
      },
      [],
      {
        additionalProperties: false,
        description:
          'Filters, combined with AND; at least one. Matches delayed and scheduled triggers (`delay` / `trigger_at`) that have not delivered.',
      },
    ),
    BroadcastRunCancel: obj(
      {
        execution_id: str('The `message_id` the broadcast answered.', { maxLength: 255 }),
        idempotency_key: str(undefined, { maxLength: 255 }),
        list_id: str(undefined, { maxLength: 255 }),
        tenant_id: str(undefined, { maxLength: 255 }),
      },
      [],
      { additionalProperties: false, description: 'Filters, combined with AND; at least one.' },
    ),
    CancelledRuns: obj(
      {
        execution_ids: arrayOf(str(), {
          description: 'The runs cancelled (the `message_id`s their requests answered); empty when none matched.',
        }),
      },
      ['execution_ids'],
    ),
    ListMembers: obj(
      {
        meta: obj(
          {
            limit: int(),
            count: int('Members on this page.'),
            has_prev: bool(),
            has_next: bool(),
            before: nullable(str('Cursor of the previous page.')),
            after: nullable(str('Cursor of the next page.')),
          },
          ['limit', 'count', 'has_prev', 'has_next', 'before', 'after'],
        ),
        results: arrayOf(
          obj({ id: str('Opaque member id (a cursor).'), distinct_id: str(), created_at: str(undefined, { format: 'date-time' }) }, [
            'id',
            'distinct_id',
            'created_at',
          ]),
        ),
      },
      ['meta', 'results'],
    ),
    LegacyWorkflow: obj(
      {
        name: str('A label for the run.'),
        template: str('The workflow slug.', { minLength: 2 }),
        notification_category: str('Overrides the workflow category.', { minLength: 2 }),
        users: arrayOf(ref('Recipient'), { minItems: 1 }),
        data: JSON_OBJECT,
        delay: { description: 'Run later: whole seconds, or `1d2h30m10s`.', anyOf: [int(undefined, { minimum: 0 }), str()] },
        trigger_at: str('Run at (ISO-8601).', { format: 'date-time' }),
        tenant_id: str(undefined, { maxLength: 64 }),
        brand_id: str('Older name of tenant_id.', { maxLength: 64 }),
        $idempotency_key: str(undefined, { maxLength: 255 }),
        cancellation_key: str('For POST /v1/workflow_run/cancel/ (a Herald extension of this body).', { maxLength: 255 }),
      },
      ['template', 'users'],
      { additionalProperties: true, description: 'The legacy Workflow body (Node SDK `Workflow`).' },
    ),
    Broadcast: obj(
      {
        list_id: str('The list whose members are notified.', { minLength: 1 }),
        template: str('The workflow slug.', { minLength: 2 }),
        notification_category: str(undefined, { minLength: 2 }),
        channels: arrayOf(str(), { description: 'Only these channels.' }),
        data: JSON_OBJECT,
        delay: { anyOf: [int(undefined, { minimum: 0 }), str()] },
        trigger_at: str(undefined, { format: 'date-time' }),
        tenant_id: str(undefined, { maxLength: 64 }),
        brand_id: str(undefined, { maxLength: 64 }),
        $idempotency_key: str(undefined, { maxLength: 255 }),
      },
      ['list_id', 'template'],
      { additionalProperties: true, description: 'SubscriberListBroadcast. Delivered in the background.' },
    ),
    UserOperation: obj(
      {
        $set: { ...JSON_OBJECT, description: `Set properties (or replace channel identities: ${CHANNEL_KEY_LIST}).` },
        $set_once: { ...JSON_OBJECT, description: 'Set properties that are not set yet.' },
        $add: { type: 'object', additionalProperties: { type: 'number' }, description: 'Add to numeric properties.' },
        $append: { ...JSON_OBJECT, description: 'Append to list properties, or add channel identities (`{"$email": "a@b.c"}`).' },
        $remove: { ...JSON_OBJECT, description: 'Remove from list properties, or remove channel identities.' },
        $unset: arrayOf(str(), { description: 'Property or channel keys to remove.' }),
        $id_provider: str('Push provider of a push token being appended (`fcm`, `apns`, …).'),
        $bundle_id: str(),
        $device_id: str(),
      },
      [],
      { additionalProperties: false, description: 'One profile edit, as the SDKs send it.' },
    ),
    TrackEvent: obj(
      {
        distinct_id: str(undefined, { minLength: 1, maxLength: 512 }),
        event: str('The event name.', { minLength: 2 }),
        properties: JSON_OBJECT,
        $insert_id: str('Events are stored once per insert id.', { maxLength: 255 }),
        $time: int('Epoch milliseconds.'),
        tenant_id: str(undefined, { maxLength: 64 }),
        brand_id: str(undefined, { maxLength: 64 }),
        env: str(undefined, { maxLength: 255 }),
      },
      ['distinct_id', 'event'],
      { additionalProperties: true },
    ),
    IdentityEvent: obj(
      {
        distinct_id: str(undefined, { minLength: 1, maxLength: 512 }),
        $user_operations: arrayOf(ref('UserOperation')),
        $insert_id: str(undefined, { maxLength: 255 }),
        tenant_id: str(undefined, { maxLength: 64 }),
        env: str(undefined, { maxLength: 255 }),
      },
      ['distinct_id', '$user_operations'],
      { additionalProperties: true },
    ),
    Event: {
      description: 'A track event (`event`) or an identity event (`$user_operations`).',
      anyOf: [ref('TrackEvent'), ref('IdentityEvent')],
    },
    ClientEvent: obj(
      {
        event: str('`$identify` (names its user in `properties.$identified_id`), or a track event name.'),
        distinct_id: str('Must be the user token’s user.'),
        properties: JSON_OBJECT,
        $insert_id: str(undefined, { maxLength: 255 }),
        tenant_id: str('Must be inside the token’s tenant scope; without it the event is user-level.', { maxLength: 64 }),
        $set: JSON_OBJECT,
        $set_once: JSON_OBJECT,
        $add: JSON_OBJECT,
        $append: JSON_OBJECT,
        $remove: JSON_OBJECT,
        $unset: arrayOf(str()),
      },
      [],
      {
        additionalProperties: true,
        description:
          'An event from a client SDK (web-sdk 4.x): $identify, a profile edit (operation keys at the top level) or a track event.',
      },
    ),
    UserProfile: {
      ...JSON_OBJECT,
      description: `User properties, and channel identities under ${CHANNEL_KEY_LIST}.`,
    },
    UserEdit: {
      description: '`{"operations": [...]}` as users.edit sends it, or a plain profile (treated as an upsert).',
      anyOf: [obj({ operations: arrayOf(ref('UserOperation')) }, ['operations']), ref('UserProfile')],
    },
    UserMerge: obj({ from_user_id: str('The user merged into this one (and then deleted).', { minLength: 1 }) }, ['from_user_id']),
    DistinctIds: obj(
      { distinct_ids: arrayOf(str(undefined, { minLength: 1, maxLength: 512 }), { minItems: 1, maxItems: MAX_DISTINCT_IDS_PER_CALL }) },
      ['distinct_ids'],
    ),
    ObjectIds: obj({ object_ids: arrayOf(str(undefined, { minLength: 1 }), { minItems: 1, maxItems: MAX_BULK_DELETE }) }, ['object_ids']),
    ObjectSubscriptions: obj(
      {
        recipients: arrayOf(
          {
            anyOf: [
              str('A distinct_id.'),
              obj({ distinct_id: str() }, ['distinct_id'], { additionalProperties: true }),
              obj({ object_type: str(), id: str() }, ['object_type', 'id'], { additionalProperties: true }),
            ],
          },
          { minItems: 1, maxItems: MAX_OBJECT_RECIPIENTS },
        ),
        properties: JSON_OBJECT,
      },
      ['recipients'],
    ),
    ListCreate: obj(
      {
        list_id: str('1-64 characters of a-z, 0-9, `_` or `-` (upper case is folded to lower case).', { pattern: '^[A-Za-z0-9_-]{1,64}$' }),
        list_name: str(undefined, { minLength: 1, maxLength: 200 }),
        list_description: str(),
      },
      ['list_id'],
      { additionalProperties: true },
    ),
    Channel: { type: 'string', enum: CHANNELS },
    Tenant: obj(
      {
        tenant_name: str(undefined, { minLength: 1, maxLength: 200 }),
        logo: nullable(str(undefined, { maxLength: 2048 })),
        timezone: nullable(str(undefined, { maxLength: 64 })),
        primary_color: str('A colour such as `#1a2b3c`.'),
        secondary_color: str(),
        tertiary_color: str(),
        social_links: nullable({ type: 'object', additionalProperties: nullable(str()) }),
        embedded_preference_url: nullable(str()),
        hosted_preference_domain: nullable(str()),
        preference_page_url: nullable(str()),
        blocked_channels: arrayOf(ref('Channel')),
        properties: nullable(JSON_OBJECT),
      },
      [],
      { additionalProperties: true, description: 'Tenant (brand) fields; the `/v1/brand` routes use `brand_id` / `brand_name`.' },
    ),
    AdminCategory: obj(
      {
        slug: str(),
        name: str(),
        section: nullable(str()),
        description: nullable(str()),
        default_preference: { type: 'string', enum: ['opt_in', 'opt_out', 'cant_unsubscribe'] },
        created_at: EPOCH_MS('Created (ms since the epoch).'),
        updated_at: EPOCH_MS('Last changed (ms since the epoch).'),
      },
      ['slug', 'name', 'section', 'description', 'default_preference', 'created_at', 'updated_at'],
    ),
    TenantCategoryPatch: obj(
      {
        enabled_for_tenant: nullable(bool()),
        visible_to_subscriber: nullable(bool()),
        preference: nullable({ type: 'string', enum: ['opt_in', 'opt_out', 'cant_unsubscribe', ''] }),
        blocked_channels: arrayOf(ref('Channel')),
        mandatory_channels: arrayOf(ref('Channel')),
        opt_in_channels: arrayOf(ref('Channel')),
        digest_schedule: nullable(JSON_OBJECT),
        properties: nullable({ anyOf: [JSON_OBJECT, { type: 'array' }] }),
      },
      [],
      { additionalProperties: false, description: 'null sets a field back to its default.' },
    ),
    CategoryPreferenceUpdate: obj(
      {
        preference: { type: 'string', enum: ['opt_in', 'opt_out'] },
        opt_out_channels: nullable(arrayOf(ref('Channel'))),
      },
      ['preference'],
      { additionalProperties: true, description: 'null or absent opt_out_channels keeps the earlier channel choices.' },
    ),
    ChannelPreferenceUpdate: obj(
      {
        channel_preferences: arrayOf(obj({ channel: ref('Channel'), is_restricted: bool() }, ['channel', 'is_restricted']), {
          minItems: 1,
        }),
      },
      ['channel_preferences'],
    ),
    InboxStore: obj(
      {
        store_id: str('The store (tab) id.'),
        query: obj(
          {
            read: bool('true: only read, false: only unread, absent: either.'),
            archived: bool('Archived notifications only (absent means not archived).'),
            tags: STRING_OR_LIST,
            categories: STRING_OR_LIST,
          },
          [],
          { additionalProperties: false },
        ),
      },
      ['store_id'],
      { description: 'One store (tab) of the in-app feed, as the web SDK sends it JSON-encoded in the query string.' },
    ),
    NotificationIds: obj({ notification_ids: arrayOf(str(undefined, { minLength: 1 }), { maxItems: MAX_BULK_IDS }) }, ['notification_ids']),
    BulkMessageUpdate: obj(
      {
        messages: arrayOf(
          obj(
            {
              message_id: str(undefined, { minLength: 1 }),
              action: { type: 'string', enum: ['seen', 'read', 'unread', 'interacted', 'archive', 'unarchive'] },
            },
            ['message_id', 'action'],
          ),
          { minItems: 1, maxItems: 1000 },
        ),
      },
      ['messages'],
    ),
    Whoami: obj(
      {
        workspace: str('Workspace slug.'),
        credential: obj({ type: { type: 'string', enum: ['hmac', 'api_key', 'public_key'] }, id: str() }, ['type', 'id']),
        subscriber: nullable(
          obj({ distinct_id: str(), tenant_ids: nullable(arrayOf(str())), signing_key_id: nullable(str()) }, ['distinct_id']),
        ),
      },
      ['workspace', 'credential', 'subscriber'],
    ),
    // Admin API
    AdminRole: { type: 'string', enum: ['viewer', 'developer', 'admin', 'owner'] },
    LoginRequest: obj({ email: str(undefined, { maxLength: 1024 }), password: str(undefined, { maxLength: 1024 }) }, ['email', 'password']),
    LoginResponse: obj(
      {
        account: obj({ id: str(), email: str(), role: ref('AdminRole') }, ['id', 'email', 'role']),
        csrf_token: str(`Send it as \`${CSRF_HEADER}\` on every write made with the session cookie.`),
        session: obj({ authenticated_at: EPOCH_MS('Epoch ms.'), expires_at: EPOCH_MS('Epoch ms.') }, ['authenticated_at', 'expires_at']),
      },
      ['account', 'csrf_token', 'session'],
    ),
    Me: {
      oneOf: [
        obj(
          {
            kind: { const: 'session' },
            account: obj({ id: str(), email: str(), role: ref('AdminRole') }, ['id', 'email', 'role']),
            csrf_token: str(),
            session: obj({ authenticated_at: EPOCH_MS('Epoch ms.'), is_fresh: bool(), fresh_until: EPOCH_MS('Epoch ms.') }),
          },
          ['kind', 'account', 'csrf_token', 'session'],
        ),
        obj(
          {
            kind: { const: 'service_token' },
            service_token: obj({ id: str(), name: str(), role: ref('AdminRole'), workspace_ids: ref('WorkspaceScope') }),
          },
          ['kind', 'service_token'],
        ),
      ],
    },
    ReauthRequest: obj({ password: str(undefined, { maxLength: 1024 }) }, ['password']),
    ReauthResponse: obj({ authenticated_at: EPOCH_MS('Epoch ms.'), fresh_until: EPOCH_MS('Epoch ms.') }, [
      'authenticated_at',
      'fresh_until',
    ]),
    Account: obj(
      {
        id: str(),
        email: str(),
        role: ref('AdminRole'),
        status: { type: 'string', enum: ['active', 'disabled'] },
        created_at: EPOCH_MS('Epoch ms.'),
        created_by: nullable(str()),
        disabled_at: nullable(EPOCH_MS('Epoch ms.')),
        last_login_at: nullable(EPOCH_MS('Epoch ms.')),
      },
      ['id', 'email', 'role', 'status', 'created_at'],
    ),
    AccountCreate: obj({ email: str(), password: str('12-256 characters.', { minLength: 12, maxLength: 256 }), role: ref('AdminRole') }, [
      'email',
      'password',
      'role',
    ]),
    AccountPatch: obj({ role: ref('AdminRole'), disabled: bool('true disables the account and ends its sessions.') }, [], {
      additionalProperties: false,
    }),
    WorkspaceScope: {
      description: '`*` for every workspace (including ones created later), or workspace ids.',
      anyOf: [{ const: '*' }, arrayOf(str())],
    },
    ServiceToken: obj(
      {
        id: str(),
        name: str(),
        display_prefix: str('The first 8 characters of the token.'),
        role: { type: 'string', enum: ['viewer', 'developer', 'admin'] },
        workspace_ids: ref('WorkspaceScope'),
        status: { type: 'string', enum: ['active', 'expired', 'revoked'] },
        created_at: EPOCH_MS('Epoch ms.'),
        created_by: nullable(str()),
        expires_at: nullable(EPOCH_MS('Epoch ms.')),
        last_used_at: nullable(EPOCH_MS('Epoch ms.')),
        revoked_at: nullable(EPOCH_MS('Epoch ms.')),
      },
      ['id', 'name', 'display_prefix', 'role', 'workspace_ids', 'status', 'created_at'],
    ),
    ServiceTokenCreate: obj(
      {
        name: str(undefined, { minLength: 1 }),
        role: { type: 'string', enum: ['viewer', 'developer', 'admin'], description: 'At most your own role.' },
        workspaces: {
          description: 'Workspace slugs or ids, or `*` (the default); at most your own workspaces.',
          anyOf: [{ const: '*' }, arrayOf(str())],
        },
        expires_in: str('A duration such as `90d`, `12h` or `2w`.', { examples: ['90d'] }),
      },
      ['name', 'role'],
      { additionalProperties: false },
    ),
    ServiceTokenCreated: {
      allOf: [ref('ServiceToken'), obj({ token: str('The token (`hst_…`); shown only in this response.') }, ['token'])],
    },
    Workspace: obj(
      {
        id: str(),
        slug: str(),
        name: str(),
        mode: { type: 'string', enum: ['test', 'live'] },
        workspace_key: str('`hwk_<mode>_…`: an identifier, not a secret.'),
        enhanced_security: bool('Client requests must carry a valid user token.'),
        allow_signed_clients: bool(
          'Key+secret signed client SDKs (web-sdk 1.x, Android 1.x, iOS legacy) are accepted even with enhanced security on.',
        ),
        created_at: EPOCH_MS('Epoch ms.'),
      },
      ['id', 'slug', 'name', 'mode', 'workspace_key', 'enhanced_security', 'allow_signed_clients', 'created_at'],
    ),
    WorkspaceCreate: obj(
      {
        slug: str(undefined, { minLength: 1, maxLength: 63 }),
        name: str(undefined, { maxLength: 200 }),
        mode: { type: 'string', enum: ['test', 'live'], description: 'Live workspaces start with enhanced security on.' },
      },
      ['slug', 'mode'],
      { additionalProperties: false },
    ),
    EnhancedSecurityUpdate: obj({ enabled: bool() }, ['enabled'], { additionalProperties: false }),
    SignedClientsUpdate: obj({ enabled: bool() }, ['enabled'], { additionalProperties: false }),
    WorkspaceSecret: obj({ workspace_key: str(), workspace_secret: str('`hws_<mode>_…`.') }, ['workspace_key', 'workspace_secret']),
    SecretRotate: obj(
      {
        grace: str('How long the previous secret stays valid (`24h`, `0` to end it at once; default HERALD_SECRET_GRACE_PERIOD).', {
          maxLength: 20,
        }),
      },
      [],
      { additionalProperties: false },
    ),
    SecretRotated: obj({ workspace_key: str(), previous_valid_until: nullable(EPOCH_MS('Epoch ms.')) }, ['workspace_key'], {
      description: 'The new secret is not in this answer: read it with `GET …/secret` (an audited reveal).',
    }),
    WebhookSecretStatus: obj(
      {
        has_own_secret: bool('false: webhooks are still signed with the workspace secret (a workspace older than webhook secrets).'),
        current: nullable(obj({ id: str(), created_at: EPOCH_MS('Epoch ms.') }, ['id', 'created_at'])),
        previous: arrayOf(
          obj({ id: str(), created_at: EPOCH_MS('Epoch ms.'), valid_until: EPOCH_MS('Epoch ms.') }, ['id', 'created_at', 'valid_until']),
        ),
      },
      ['has_own_secret', 'current', 'previous'],
    ),
    WebhookSecretRolled: obj(
      {
        webhook_secret: str('`hwh_<mode>_…`; shown only in this response.'),
        previous_valid_until: nullable(EPOCH_MS('Until when the previous secret keeps signing (epoch ms).')),
      },
      ['webhook_secret', 'previous_valid_until'],
    ),
    ApiKey: obj(
      {
        id: str(),
        name: str(),
        display_prefix: str('The first 13 characters of the key.'),
        status: { type: 'string', enum: ['active', 'expired', 'revoked'] },
        scope: ref('ApiKeyScope'),
        route_groups: nullable(arrayOf(ref('ApiRouteGroup'))),
        created_at: EPOCH_MS('Epoch ms.'),
        created_by: nullable(str()),
        expires_at: nullable(EPOCH_MS('Epoch ms.')),
        last_used_at: nullable(EPOCH_MS('Epoch ms.')),
        revoked_at: nullable(EPOCH_MS('Epoch ms.')),
      },
      ['id', 'name', 'display_prefix', 'status', 'created_at'],
    ),
    ApiKeyScope: {
      type: 'string',
      enum: [...API_KEY_SCOPES],
      description:
        '`full`: every backend route; `trigger`: triggers, events and broadcasts only; `read`: GET routes only. ' +
        'A request outside the scope gets 403 naming the scope it needs. `/v1/auth/whoami` is open to every key.',
    },
    ApiRouteGroup: { type: 'string', enum: [...API_ROUTE_GROUPS] },
    ApiKeyCreate: obj(
      {
        name: str(undefined, { minLength: 1, maxLength: 200 }),
        expires_in: str('A duration such as `30d`.', { maxLength: 20 }),
        scope: ref('ApiKeyScope'),
        route_groups: {
          ...arrayOf(ref('ApiRouteGroup')),
          description: 'Limits a `full` or `read` key to these route groups (default: every group).',
        },
      },
      ['name'],
      { additionalProperties: false },
    ),
    ApiKeyCreated: { allOf: [ref('ApiKey'), obj({ key: str('The key (`hak_…`); shown only in this response.') }, ['key'])] },
    PublicKey: obj(
      {
        id: str(),
        key: str('`hpk_<mode>_…` (not secret: it ships inside client code).'),
        name: str(),
        allowed_origins: arrayOf(str()),
        status: { type: 'string', enum: ['active', 'revoked'] },
        created_at: EPOCH_MS('Epoch ms.'),
        revoked_at: nullable(EPOCH_MS('Epoch ms.')),
      },
      ['id', 'key', 'name', 'allowed_origins', 'status', 'created_at'],
    ),
    PublicKeyCreate: obj(
      {
        name: str(undefined, { maxLength: 200 }),
        allowed_origins: arrayOf(str('A browser origin such as `https://app.example.com`.', { maxLength: 500 }), { maxItems: 50 }),
      },
      [],
      { additionalProperties: false },
    ),
    SigningKey: obj(
      {
        id: str(),
        kid: str('`hsk_` + RFC 7638 JWK thumbprint; put it in the JWT `kid` header.'),
        name: str(),
        algorithm: { const: 'ES256' },
        source: { type: 'string', enum: ['generated', 'imported'] },
        status: { type: 'string', enum: ['active', 'revoked'] },
        public_key_pem: str('SPKI PEM.'),
        created_at: EPOCH_MS('Epoch ms.'),
        revoked_at: nullable(EPOCH_MS('Epoch ms.')),
      },
      ['id', 'kid', 'name', 'algorithm', 'source', 'status', 'public_key_pem', 'created_at'],
    ),
    SigningKeyCreate: obj({ name: str(undefined, { maxLength: 200 }) }, [], { additionalProperties: false }),
    SigningKeyImport: obj(
      {
        public_key_pem: str('Your own ES256 (P-256) public key, SPKI PEM.', { maxLength: 10_000 }),
        name: str(undefined, { maxLength: 200 }),
      },
      ['public_key_pem'],
      { additionalProperties: false },
    ),
    SigningKeyCreated: {
      allOf: [
        ref('SigningKey'),
        obj(
          {
            pem: str('PKCS#8 PEM of the private key; shown only in this response, never stored.'),
            base64: str('Base64 of that PEM (starts `LS0tLS1CRUdJTi`); shown only in this response.'),
          },
          ['pem', 'base64'],
        ),
      ],
    },
    WorkflowDefinition: {
      ...JSON_OBJECT,
      description:
        'A workflow: `slug`, `name`, `category`, `steps` (`{"type":"inbox","template":{…}}` with Handlebars strings, or `{"type":"webhook","url","headers"}`). Validated completely (schema and every template) before anything is stored. Viewers see webhook header values as `[hidden]`.',
    },
    WorkflowTestTrigger: obj(
      { recipients: arrayOf(ref('Recipient'), { minItems: 1, maxItems: 100 }), data: JSON_OBJECT, tenant_id: str() },
      ['recipients'],
      { additionalProperties: false },
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// Parameters

const pathParam = (name: string, description: string, schema: Schema = str(undefined, { minLength: 1 })): Parameter => ({
  name,
  in: 'path',
  required: true,
  description,
  schema,
});
const queryParam = (name: string, description: string, schema: Schema = str()): Parameter => ({ name, in: 'query', description, schema });
const jsonQueryParam = (name: string, description: string, schema: Schema): Parameter => ({
  name,
  in: 'query',
  description,
  content: { [JSON_TYPE]: { schema } },
});

const PARAMETERS: Record<string, Parameter> = {
  UserId: pathParam('id', 'The user’s distinct_id (percent-encoded).', str(undefined, { minLength: 1, maxLength: 512 })),
  TenantId: pathParam('id', 'The tenant id (no `/`, `?` or `#`).', str(undefined, { minLength: 1, maxLength: 64 })),
  BrandId: pathParam('id', 'The brand (tenant) id.', str(undefined, { minLength: 1, maxLength: 64 })),
  LinkedTenantId: pathParam('tenantId', 'The tenant the user is linked to.', str(undefined, { minLength: 1, maxLength: 64 })),
  CategorySlug: pathParam('category', 'A notification category slug.'),
  ObjectType: pathParam('type', 'The object type (e.g. `teams`).'),
  ObjectId: pathParam('id', 'The object id within its type.', str(undefined, { minLength: 1, maxLength: 256 })),
  ListId: pathParam('listId', 'The subscriber list id.'),
  VersionId: pathParam('versionId', 'A list version id (from start_sync).'),
  WorkspaceKey: pathParam(
    'wsKey',
    'Your own workspace key (`hwk_…`), as the legacy SDK paths carry it; any other key answers 404.',
    str(undefined, { pattern: '^hwk_(test|live)_[0-9A-Za-z]{22}$' }),
  ),
  NotificationId: pathParam('id', 'The in-app notification id (`n_id`).'),
  AccountId: pathParam('id', 'Dashboard account id.'),
  ServiceTokenId: pathParam('id', 'Service token id.'),
  DemoFile: pathParam('file', 'A file of the web SDK bundle the demo page loads.'),
  WorkspaceSlug: pathParam('ws', 'Workspace slug; a workspace outside a service token’s scope answers 404 like a missing one.'),
  ApiKeyId: pathParam('id', 'API key id.'),
  PublicKeyId: pathParam('id', 'Public key id (or the key itself).'),
  SigningKeyKid: pathParam('kid', 'Signing key id (`hsk_…`).'),
  WorkflowSlug: pathParam('slug', 'Workflow slug.'),
  AdminLimit: queryParam('limit', 'Page size (at most 200).', int(undefined, { minimum: 1, maximum: 200 })),
  AdminBefore: queryParam('before', 'Cursor: the page before this entry (from the previous page).'),
  Limit: queryParam('limit', 'Page size (default 20, at most 1000).', int(undefined, { minimum: 1, default: 20 })),
  Offset: queryParam('offset', 'Items to skip.', int(undefined, { minimum: 0, default: 0 })),
  After: queryParam('after', 'Cursor: the page after this item (from the previous page’s meta).'),
  Before: queryParam('before', 'Cursor: the page before this item.'),
  MemberSort: queryParam('sort', '`-id` (default) or `id`: members by their id, descending or ascending.', {
    type: 'string',
    enum: ['-id', 'id'],
  }),
  PreferenceTenant: queryParam('tenant_id', 'Tenant whose preferences apply (default `default`).'),
  ShowOptOutChannels: queryParam(
    'show_opt_out_channels',
    'Show the channels of opted-out categories (backend default true; the client routes default false).',
    { type: 'string', enum: ['true', 'false', '1', '0'] },
  ),
  FeedDistinctId: queryParam('distinct_id', 'The user whose feed this is; must be the user token’s user.'),
  FeedTenantId: queryParam('tenant_id', 'Tenant of the feed (default `default`); must be in the token’s scope.'),
};

const USER_PAGE = [param('Limit'), param('After'), param('Before')];
const OFFSET_PAGE = [param('Limit'), param('Offset')];
const FEED_SCOPE = [param('FeedDistinctId'), param('FeedTenantId')];
const PREFERENCE_QUERY = [param('PreferenceTenant'), param('ShowOptOutChannels')];

// ---------------------------------------------------------------------------------------------
// Responses

const ERROR_STATUSES = [...new Set(ERROR_CODES.map((code) => statusOf(code)))].sort((a, b) => a - b);

function responses(): Record<string, Response> {
  const byStatus: Record<string, Response> = {};
  for (const status of ERROR_STATUSES) {
    const types = ERROR_CODES.filter((code) => statusOf(code) === status);
    byStatus[`Error${status}`] = {
      description: `${STATUS_CODES[status] ?? `HTTP ${status}`}: \`error.type\` is ${types.map((t) => `\`${t}\``).join(', ')}.`,
      content: {
        [JSON_TYPE]: {
          schema: {
            allOf: [ref('ErrorEnvelope'), obj({ code: { const: status }, error: obj({ type: { type: 'string', enum: types } }) })],
          },
        },
      },
    };
  }
  byStatus['Error'] = { description: 'Any other error, in the same envelope.', content: { [JSON_TYPE]: { schema: ref('ErrorEnvelope') } } };
  return byStatus;
}

// ---------------------------------------------------------------------------------------------
// Operations

interface OperationSpec {
  operationId: string;
  summary: string;
  description?: string;
  parameters?: Parameter[];
  body?: Schema;
  bodyDescription?: string;
  /** The success answer: HTTP status (default 200), its description and JSON schema (or another media type). */
  ok?: { status?: number; description?: string; schema?: Schema; mediaType?: string; headers?: Response['headers'] };
  /** Error statuses this route is known to answer, besides those of its surface. */
  errors?: number[];
}

function operation(spec: OperationSpec, tags: Tag[], security: SecurityRequirement[], surfaceErrors: number[]): Operation {
  const ok = spec.ok ?? {};
  const success: Response = { description: ok.description ?? 'OK' };
  if (ok.headers) success.headers = ok.headers;
  if (ok.status !== 204) success.content = { [ok.mediaType ?? JSON_TYPE]: { schema: ok.schema ?? ref('JsonObject') } };
  const result: Operation = {
    operationId: spec.operationId,
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    tags,
    security,
    responses: { [String(ok.status ?? 200)]: success },
  };
  if (spec.parameters && spec.parameters.length > 0) result.parameters = spec.parameters;
  if (spec.body) {
    result.requestBody = {
      required: true,
      content: { [JSON_TYPE]: { schema: spec.body } },
      ...(spec.bodyDescription ? { description: spec.bodyDescription } : {}),
    };
  }
  for (const status of [...new Set([...surfaceErrors, ...(spec.errors ?? [])])].sort((a, b) => a - b)) {
    result.responses[String(status)] = { $ref: `#/components/responses/Error${status}` };
  }
  if (security.length > 0) result.responses['default'] = { $ref: '#/components/responses/Error' };
  return result;
}

const backend = (spec: OperationSpec) => operation(spec, ['Backend'], BACKEND, [400, 401, 404, 413]);
const client = (spec: OperationSpec) => operation(spec, ['Client'], CLIENT, [400, 401, 403, 404]);
const signedClient = (spec: OperationSpec) => operation(spec, ['Client'], SIGNED_CLIENT, [400, 401, 403, 404]);
const shared = (spec: OperationSpec) => operation(spec, ['Backend', 'Client'], SHARED, [400, 401, 403, 413]);
const admin = (spec: OperationSpec, security: SecurityRequirement[] = ADMIN) => operation(spec, ['Admin'], security, [400, 401, 403]);
const open = (tag: Tag, spec: OperationSpec) => operation(spec, [tag], PUBLIC, []);

const OK_SUCCESS = { schema: ref('Success') };
const OK_DELETED = { schema: ref('DeletedCount') };
const ACCEPTED = { status: 202, description: 'Accepted and committed.', schema: ref('Accepted') };
const BULK_ACCEPTED = {
  status: 202,
  description: 'All records accepted (status `success`). With any record failed, the answer is 207 with status `partial`.',
  schema: ref('BulkOutcome'),
};
const BULK_PARTIAL: Response = {
  description: 'Some records failed; see each record.',
  content: { [JSON_TYPE]: { schema: ref('BulkOutcome') } },
};

/** Adds the 207 (some records failed) answer to a bulk operation. */
function withPartial(op: Operation): Operation {
  op.responses['207'] = BULK_PARTIAL;
  return op;
}

function backendPaths(): Record<string, PathItem> {
  const categoryPreference = (id: string, summary: string) => ({
    get: backend({
      operationId: `get${id}`,
      summary: `Get ${summary}`,
      parameters: PREFERENCE_QUERY,
    }),
    patch: backend({
      operationId: `update${id}`,
      summary: `Update ${summary}`,
      parameters: PREFERENCE_QUERY,
      body: ref('CategoryPreferenceUpdate'),
    }),
  });

  const tenantStyle = (base: '/v1/tenant' | '/v1/brand', noun: 'Tenant' | 'Brand', idParam: string): Record<string, PathItem> => ({
    [base]: {
      get: backend({ operationId: `list${noun}s`, summary: `List ${noun.toLowerCase()}s`, parameters: OFFSET_PAGE }),
    },
    [`${base}/{id}`]: {
      parameters: [param(idParam)],
      get: backend({ operationId: `get${noun}`, summary: `Get a ${noun.toLowerCase()}` }),
      post: backend({
        operationId: `upsert${noun}`,
        summary: `Create or update a ${noun.toLowerCase()}`,
        body: ref('Tenant'),
        ...(noun === 'Brand'
          ? { description: 'The same records as `/v1/tenant`, shown and written under `brand_id` / `brand_name`.' }
          : {}),
      }),
      delete: backend({ operationId: `delete${noun}`, summary: `Delete a ${noun.toLowerCase()}`, ok: OK_SUCCESS }),
    },
  });

  return {
    // Ingest
    '/trigger': {
      post: withPartial(
        backend({
          operationId: 'triggerWorkflow',
          summary: 'Trigger a workflow',
          description: `One WorkflowTriggerRequest (answers 202 \`{"status":"success","message_id"}\`), or a list of at most ${MAX_BULK_TRIGGERS} (answers one result per record: 202, or 207 when any failed).`,
          body: { oneOf: [ref('TriggerRequest'), arrayOf(ref('TriggerRequest'), { minItems: 1, maxItems: MAX_BULK_TRIGGERS })] },
          ok: { ...ACCEPTED, schema: { anyOf: [ref('Accepted'), ref('BulkOutcome')] } },
        }),
      ),
    },
    '/{wsKey}/trigger': {
      parameters: [param('WorkspaceKey')],
      post: withPartial(
        backend({
          operationId: 'triggerLegacyWorkflow',
          summary: 'Trigger a workflow (legacy Workflow body)',
          description:
            '`template` names the workflow; `notification_category` overrides its category; `delay` / `trigger_at` schedule it. A list runs each record and answers one result per record.',
          body: { anyOf: [ref('LegacyWorkflow'), arrayOf(ref('LegacyWorkflow'), { minItems: 1, maxItems: MAX_BULK_TRIGGERS })] },
          ok: { ...ACCEPTED, schema: { anyOf: [ref('Accepted'), ref('BulkOutcome')] } },
        }),
      ),
    },
    '/{wsKey}/broadcast': {
      parameters: [param('WorkspaceKey')],
      post: backend({
        operationId: 'broadcastToList',
        summary: 'Broadcast to every member of a list',
        body: ref('Broadcast'),
        ok: ACCEPTED,
      }),
    },
    '/event': {
      post: withPartial(
        backend({
          operationId: 'trackEvent',
          summary: 'Track an event or apply identity operations',
          description: `One event, or a list of at most ${MAX_BULK_EVENTS}. Events are stored once per \`$insert_id\`. Key+secret signed client SDKs (web-sdk 1.x, Android 1.x) send their batches here too, with their own shapes (\`$identify\` with \`properties.$identified_id\`, top-level \`$set\`…); a batch from one of them is answered 202 even when some records fail (Android dequeues on 202 only), with the outcome of each record.`,
          body: { anyOf: [ref('Event'), arrayOf(ref('Event'), { minItems: 1, maxItems: MAX_BULK_EVENTS })] },
          ok: { ...ACCEPTED, schema: { anyOf: [ref('Accepted'), ref('BulkOutcome')] } },
        }),
      ),
    },
    '/v2/bulk/event': {
      post: withPartial(
        backend({
          operationId: 'trackEventsBulk',
          summary: 'Track a list of events',
          body: arrayOf(ref('Event'), { minItems: 1, maxItems: MAX_BULK_EVENTS }),
          ok: BULK_ACCEPTED,
        }),
      ),
    },
    '/v1/workflow_run/cancel': {
      post: backend({
        operationId: 'cancelWorkflowRuns',
        summary: 'Cancel delayed or scheduled workflow runs',
        description:
          'Cancels the runs the filters match (AND) that have not delivered: a cancelled run never delivers. A run being delivered at that moment either delivers fully or not at all. Answers 200 `{"execution_ids": [...]}`.',
        body: ref('WorkflowRunCancel'),
        ok: { schema: ref('CancelledRuns') },
      }),
    },
    '/v1/broadcast_run/cancel': {
      post: backend({
        operationId: 'cancelBroadcastRuns',
        summary: 'Cancel list broadcasts that have not finished',
        description: 'A pending broadcast never delivers; one delivering stops before its next page of 200 members.',
        body: ref('BroadcastRunCancel'),
        ok: { schema: ref('CancelledRuns') },
      }),
    },
    // Users
    '/v1/user': {
      get: backend({ operationId: 'listUsers', summary: 'List users (cursor pages)', parameters: USER_PAGE }),
    },
    '/v1/user/{id}': {
      parameters: [param('UserId')],
      get: backend({ operationId: 'getUser', summary: 'Get a user' }),
      post: backend({ operationId: 'upsertUser', summary: 'Create or update a user', body: ref('UserProfile') }),
      patch: backend({ operationId: 'editUser', summary: 'Edit a user’s profile and channels', body: ref('UserEdit') }),
      delete: backend({ operationId: 'deleteUser', summary: 'Delete a user', ok: OK_SUCCESS }),
    },
    '/v1/user/{id}/merge': {
      parameters: [param('UserId')],
      post: backend({ operationId: 'mergeUser', summary: 'Merge another user into this one', body: ref('UserMerge') }),
    },
    '/v1/bulk/user': {
      delete: backend({
        operationId: 'deleteUsersBulk',
        summary: 'Delete users',
        body: ref('DistinctIds'),
        ok: OK_DELETED,
      }),
    },
    '/v1/user/{id}/subscribed_to/list': {
      parameters: [param('UserId')],
      get: backend({ operationId: 'listUserLists', summary: 'Lists the user belongs to', parameters: [param('Limit'), param('After')] }),
    },
    '/v1/user/{id}/subscribed_to/object': {
      parameters: [param('UserId')],
      get: backend({ operationId: 'listUserObjects', summary: 'Objects the user is subscribed to', parameters: [param('Limit')] }),
    },
    // User preferences
    '/v1/user/{id}/preference': {
      parameters: [param('UserId')],
      get: backend({ operationId: 'getUserPreferences', summary: 'Get a user’s full preferences', parameters: PREFERENCE_QUERY }),
    },
    '/v1/user/{id}/preference/channel_preference': {
      parameters: [param('UserId')],
      get: backend({ operationId: 'getUserChannelPreferences', summary: 'Get a user’s channel preferences', parameters: PREFERENCE_QUERY }),
      patch: backend({
        operationId: 'updateUserChannelPreferences',
        summary: 'Update a user’s channel preferences',
        parameters: PREFERENCE_QUERY,
        body: ref('ChannelPreferenceUpdate'),
      }),
    },
    '/v1/user/{id}/preference/category': {
      parameters: [param('UserId')],
      get: backend({
        operationId: 'listUserCategoryPreferences',
        summary: 'List a user’s category preferences',
        parameters: [...PREFERENCE_QUERY, ...OFFSET_PAGE],
      }),
    },
    '/v1/user/{id}/preference/category/{category}': {
      parameters: [param('UserId'), param('CategorySlug')],
      ...categoryPreference('UserCategoryPreference', 'a user’s preference for one category'),
    },
    // User ↔ tenant links
    '/v1/user/{id}/associated_tenant': {
      parameters: [param('UserId')],
      get: backend({ operationId: 'listUserTenants', summary: 'Tenants the user is linked to', parameters: OFFSET_PAGE }),
    },
    '/v1/user/{id}/tenant/{tenantId}': {
      parameters: [param('UserId'), param('LinkedTenantId')],
      get: backend({ operationId: 'getUserTenant', summary: 'Get a user’s link to a tenant' }),
      post: backend({
        operationId: 'upsertUserTenant',
        summary: 'Link a user to a tenant (with link properties)',
        body: { ...JSON_OBJECT, description: 'Properties of the link, e.g. `{"role": "admin"}`.' },
      }),
      patch: backend({
        operationId: 'editUserTenant',
        summary: 'Edit a user’s link to a tenant',
        body: obj({ operations: arrayOf(ref('UserOperation')) }, [], { additionalProperties: true }),
      }),
      delete: backend({ operationId: 'deleteUserTenant', summary: 'Unlink a user from a tenant', ok: OK_SUCCESS }),
    },
    // Tenants and brands
    ...tenantStyle('/v1/tenant', 'Tenant', 'TenantId'),
    ...tenantStyle('/v1/brand', 'Brand', 'BrandId'),
    '/v1/tenant/{id}/preference/category': {
      parameters: [param('TenantId')],
      get: backend({ operationId: 'listTenantCategories', summary: 'List a tenant’s category settings', parameters: OFFSET_PAGE }),
    },
    '/v1/tenant/{id}/category': {
      parameters: [param('TenantId')],
      get: backend({
        operationId: 'listTenantCategoriesShort',
        summary: 'List a tenant’s category settings (Go SDK path)',
        parameters: OFFSET_PAGE,
      }),
    },
    '/v1/tenant/{id}/preference/category/{category}': {
      parameters: [param('TenantId'), param('CategorySlug')],
      get: backend({ operationId: 'getTenantCategory', summary: 'Get a tenant’s settings for one category' }),
      patch: backend({
        operationId: 'updateTenantCategory',
        summary: 'Update a tenant’s settings for one category',
        body: ref('TenantCategoryPatch'),
      }),
    },
    // Subscriber lists
    '/v1/subscriber_list': {
      get: backend({ operationId: 'listLists', summary: 'List subscriber lists', parameters: OFFSET_PAGE }),
      post: backend({ operationId: 'createList', summary: 'Create (or update) a subscriber list', body: ref('ListCreate') }),
    },
    '/v1/subscriber_list/{listId}': {
      parameters: [param('ListId')],
      get: backend({ operationId: 'getList', summary: 'Get a subscriber list' }),
      delete: backend({ operationId: 'deleteList', summary: 'Delete a subscriber list (Python SDK)', ok: OK_SUCCESS }),
    },
    '/v1/subscriber_list/{listId}/delete': {
      parameters: [param('ListId')],
      patch: backend({ operationId: 'deleteListPatch', summary: 'Delete a subscriber list (Node SDK; body `{}`)', ok: OK_SUCCESS }),
    },
    '/v1/subscriber_list/{listId}/subscriber': {
      parameters: [param('ListId')],
      get: backend({
        operationId: 'listListMembers',
        summary: 'List a list’s members (cursor pages)',
        parameters: [param('Limit'), param('After'), param('Before'), param('MemberSort')],
        ok: { schema: ref('ListMembers') },
      }),
    },
    '/v1/subscriber_list/{listId}/subscriber/add': {
      parameters: [param('ListId')],
      post: backend({ operationId: 'addListMembers', summary: 'Add users to a list', body: ref('DistinctIds') }),
    },
    '/v1/subscriber_list/{listId}/subscriber/remove': {
      parameters: [param('ListId')],
      post: backend({ operationId: 'removeListMembers', summary: 'Remove users from a list', body: ref('DistinctIds') }),
    },
    '/v1/subscriber_list/{listId}/start_sync': {
      parameters: [param('ListId')],
      post: backend({ operationId: 'startListSync', summary: 'Start a new list version (replaces the members at finish_sync)' }),
    },
    '/v1/subscriber_list/{listId}/version/{versionId}': {
      parameters: [param('ListId'), param('VersionId')],
      get: backend({ operationId: 'getListVersion', summary: 'Get a list version' }),
      delete: backend({ operationId: 'deleteListVersion', summary: 'Discard a list version (Python SDK)', ok: OK_SUCCESS }),
    },
    '/v1/subscriber_list/{listId}/version/{versionId}/subscriber/add': {
      parameters: [param('ListId'), param('VersionId')],
      post: backend({ operationId: 'addListVersionMembers', summary: 'Add users to a list version', body: ref('DistinctIds') }),
    },
    '/v1/subscriber_list/{listId}/version/{versionId}/subscriber/remove': {
      parameters: [param('ListId'), param('VersionId')],
      post: backend({ operationId: 'removeListVersionMembers', summary: 'Remove users from a list version', body: ref('DistinctIds') }),
    },
    '/v1/subscriber_list/{listId}/version/{versionId}/finish_sync': {
      parameters: [param('ListId'), param('VersionId')],
      patch: backend({ operationId: 'finishListSync', summary: 'Make a list version the live list' }),
    },
    '/v1/subscriber_list/{listId}/version/{versionId}/delete': {
      parameters: [param('ListId'), param('VersionId')],
      patch: backend({ operationId: 'deleteListVersionPatch', summary: 'Discard a list version (Node SDK)', ok: OK_SUCCESS }),
    },
    // Objects
    '/v1/object/{type}': {
      parameters: [param('ObjectType')],
      get: backend({ operationId: 'listObjects', summary: 'List objects of a type', parameters: USER_PAGE }),
    },
    '/v1/object/{type}/{id}': {
      parameters: [param('ObjectType'), param('ObjectId')],
      get: backend({ operationId: 'getObject', summary: 'Get an object' }),
      post: backend({ operationId: 'upsertObject', summary: 'Create or update an object', body: ref('UserProfile') }),
      patch: backend({ operationId: 'editObject', summary: 'Edit an object', body: ref('UserEdit') }),
      delete: backend({ operationId: 'deleteObject', summary: 'Delete an object', ok: OK_SUCCESS }),
    },
    '/v1/bulk/object/{type}': {
      parameters: [param('ObjectType')],
      delete: backend({ operationId: 'deleteObjectsBulk', summary: 'Delete objects of a type', body: ref('ObjectIds'), ok: OK_DELETED }),
    },
    '/v1/object/{type}/{id}/subscription': {
      parameters: [param('ObjectType'), param('ObjectId')],
      get: backend({ operationId: 'listObjectSubscriptions', summary: 'List an object’s subscribers', parameters: USER_PAGE }),
      post: backend({ operationId: 'addObjectSubscriptions', summary: 'Subscribe users or objects', body: ref('ObjectSubscriptions') }),
      delete: backend({
        operationId: 'removeObjectSubscriptions',
        summary: 'Unsubscribe users or objects',
        body: ref('ObjectSubscriptions'),
        ok: OK_DELETED,
      }),
    },
    '/v1/object/{type}/{id}/subscribed_to/object': {
      parameters: [param('ObjectType'), param('ObjectId')],
      get: backend({ operationId: 'listObjectParents', summary: 'Objects this object is subscribed to', parameters: USER_PAGE }),
    },
    // Messages
    '/v1/message': {
      get: backend({
        operationId: 'listMessages',
        summary: 'List delivered messages',
        description:
          'Unknown filters are refused (400), as are SuprSend filters Herald does not record (`idempotency_key`, `object_type`, `object_id`, `is_campaign`). `recipient_id`, `status` and `category` may repeat (also as `key[]`).',
        parameters: [
          param('Limit'),
          param('After'),
          param('Before'),
          queryParam('recipient_id', 'A distinct_id (repeatable).'),
          queryParam('status', 'Message status (repeatable).'),
          queryParam('category', 'Category slug (repeatable).'),
          queryParam('workflow', 'Workflow slug (`workflow_slug` is accepted too).'),
          queryParam('channel', 'Channel.'),
          queryParam('tenant_id', 'Tenant.'),
          queryParam('execution_id', 'Trigger execution id.'),
          queryParam('message_id', 'Message id.'),
          queryParam('created_at_gte', 'RFC 3339 lower bound.', str(undefined, { format: 'date-time' })),
          queryParam('created_at_lte', 'RFC 3339 upper bound.', str(undefined, { format: 'date-time' })),
        ],
      }),
    },
    '/v1/bulk/message': {
      patch: backend({
        operationId: 'updateMessagesBulk',
        summary: 'Mark messages seen, read, archived, …',
        body: ref('BulkMessageUpdate'),
      }),
    },
  };
}

function sharedPaths(): Record<string, PathItem> {
  const whoami = (method: 'Get' | 'Post') =>
    shared({
      operationId: `whoami${method}`,
      summary: 'Which workspace and credential this request authenticated as',
      description:
        method === 'Post'
          ? 'Same as GET; a signed POST checks that the client’s signing covers the body.'
          : 'Accepts every credential; the first thing to try when wiring up an SDK or a key.',
      ok: { schema: ref('Whoami') },
    });
  return {
    '/v1/auth/whoami': { get: whoami('Get'), post: whoami('Post') },
    '/v2/event': {
      post: shared({
        operationId: 'trackEventV2',
        summary: 'Track an event (backend SDKs signed, or client SDKs with a public key)',
        description:
          'Python and Go backend SDKs send one signed event here (a list goes to `/v2/bulk/event`). The web SDK sends `$identify`, profile edits and track events with its public key (+ user token): the event’s user must be the token’s user and its `tenant_id` in the token’s scope.',
        body: { anyOf: [ref('Event'), ref('ClientEvent')] },
        ok: ACCEPTED,
      }),
    },
  };
}

/** `/v1/subscriber/…`: preferences of the key+secret signed client SDKs (web-sdk 1.x, Android 1.x). */
function signedClientPreferencePaths(): Record<string, PathItem> {
  const query = [param('PreferenceTenant'), queryParam('brandId', 'Tenant, as Android 1.x names it (when tenant_id is absent).')];
  const note =
    'Signed with the workspace key + secret as a client SDK does; refused in enhanced security mode unless the workspace allows key+secret signed client calls (403).';
  return {
    '/v1/subscriber/{id}/full_preference': {
      parameters: [param('UserId')],
      get: signedClient({
        operationId: 'getSignedSubscriberPreferences',
        summary: 'Get the user’s full preferences (web-sdk 1.x, Android 1.x)',
        description: note,
        parameters: query,
      }),
    },
    '/v1/subscriber/{id}/category': {
      parameters: [param('UserId')],
      get: signedClient({
        operationId: 'listSignedSubscriberCategories',
        summary: 'List the user’s category preferences (web-sdk 1.x, Android 1.x)',
        description: note,
        parameters: [...query, ...OFFSET_PAGE],
      }),
    },
    '/v1/subscriber/{id}/category/{category}': {
      parameters: [param('UserId'), param('CategorySlug')],
      get: signedClient({
        operationId: 'getSignedSubscriberCategory',
        summary: 'Get the user’s preference for a category (web-sdk 1.x, Android 1.x)',
        description: note,
        parameters: query,
      }),
      post: signedClient({
        operationId: 'updateSignedSubscriberCategory',
        summary: 'Opt the user in or out of a category (POST, as web-sdk 1.x and Android 1.x send it)',
        description: note,
        parameters: query,
        body: ref('CategoryPreferenceUpdate'),
      }),
    },
    '/v1/subscriber/{id}/channel_preference': {
      parameters: [param('UserId')],
      get: signedClient({
        operationId: 'getSignedSubscriberChannels',
        summary: 'Get the user’s channel preferences (web-sdk 1.x, Android 1.x)',
        description: note,
        parameters: query,
      }),
      post: signedClient({
        operationId: 'updateSignedSubscriberChannels',
        summary: 'Update the user’s channel preferences (POST, as web-sdk 1.x and Android 1.x send it)',
        description: note,
        parameters: query,
        body: ref('ChannelPreferenceUpdate'),
      }),
    },
  };
}

function clientPaths(): Record<string, PathItem> {
  const subject = [param('UserId')];
  const feedAction = (verb: string, summary: string): PathItem => ({
    parameters: [param('NotificationId')],
    patch: client({
      operationId: `markNotification${verb[0]?.toUpperCase()}${verb.slice(1)}`,
      summary,
      parameters: FEED_SCOPE,
    }),
  });
  return {
    '/v2/subscriber/{id}/full_preference': {
      parameters: subject,
      get: client({ operationId: 'getSubscriberPreferences', summary: 'Get the user’s full preferences', parameters: PREFERENCE_QUERY }),
    },
    '/v2/subscriber/{id}/category': {
      parameters: subject,
      get: client({
        operationId: 'listSubscriberCategories',
        summary: 'List the user’s category preferences',
        parameters: [...PREFERENCE_QUERY, ...OFFSET_PAGE],
      }),
    },
    '/v2/subscriber/{id}/category/{category}': {
      parameters: [param('UserId'), param('CategorySlug')],
      get: client({
        operationId: 'getSubscriberCategory',
        summary: 'Get the user’s preference for a category',
        parameters: PREFERENCE_QUERY,
      }),
      patch: client({
        operationId: 'updateSubscriberCategory',
        summary: 'Opt the user in or out of a category',
        parameters: PREFERENCE_QUERY,
        body: ref('CategoryPreferenceUpdate'),
      }),
    },
    '/v2/subscriber/{id}/channel_preference': {
      parameters: subject,
      get: client({
        operationId: 'getSubscriberChannels',
        summary: 'Get the user’s channel preferences',
        parameters: [param('PreferenceTenant')],
      }),
      patch: client({
        operationId: 'updateSubscriberChannels',
        summary: 'Update the user’s channel preferences',
        parameters: PREFERENCE_QUERY,
        body: ref('ChannelPreferenceUpdate'),
      }),
    },
    ...signedClientPreferencePaths(),
    '/v1/feed/notifications': {
      get: client({
        operationId: 'listNotifications',
        summary: 'A page of the in-app feed',
        description: 'Pinned first, then newest first. Keyset pages (`search_after`) as web-sdk 4.x sends them, or page numbers.',
        parameters: [
          ...FEED_SCOPE,
          jsonQueryParam('store', 'The store (tab) to list, JSON-encoded; absent: everything not archived.', ref('InboxStore')),
          queryParam(
            'page_size',
            `Notifications per page (default ${DEFAULT_PAGE_SIZE}, at most ${MAX_PAGE_SIZE}).`,
            int(undefined, { minimum: 1, maximum: MAX_PAGE_SIZE }),
          ),
          jsonQueryParam('search_after', '`[]` for the first page, else `[is_pinned, created_on]` of the last notification shown.', {
            type: 'array',
            maxItems: 3,
          }),
          queryParam('page_no', 'Page number (older SDKs).', int(undefined, { minimum: 1 })),
          queryParam('before', 'Only notifications created before this time (epoch ms), with page_no.', int(undefined, { minimum: 0 })),
        ],
      }),
    },
    '/v1/feed/notifications_count': {
      get: client({
        operationId: 'countNotifications',
        summary: 'Unseen badge count and per-store unread counts',
        parameters: [
          ...FEED_SCOPE,
          jsonQueryParam('stores', 'The stores to count, JSON-encoded.', arrayOf(ref('InboxStore'), { maxItems: 20 })),
        ],
      }),
    },
    '/v1/feed/notifications/{id}': {
      parameters: [param('NotificationId')],
      get: client({ operationId: 'getNotification', summary: 'Get one notification', parameters: FEED_SCOPE }),
    },
    '/v1/feed/notifications/{id}/seen': feedAction('seen', 'Mark a notification seen'),
    '/v1/feed/notifications/{id}/read': feedAction('read', 'Mark a notification read'),
    '/v1/feed/notifications/{id}/unread': feedAction('unread', 'Mark a notification unread'),
    '/v1/feed/notifications/{id}/interacted': feedAction('interacted', 'Mark a notification interacted with'),
    '/v1/feed/notifications/{id}/archive': feedAction('archive', 'Archive a notification'),
    '/v1/feed/bulk/notifications/seen': {
      post: client({
        operationId: 'markNotificationsSeen',
        summary: 'Mark several notifications seen',
        parameters: FEED_SCOPE,
        body: ref('NotificationIds'),
      }),
    },
    '/v1/feed/reset_bell_count': {
      patch: client({ operationId: 'resetBellCount', summary: 'Reset the unseen badge count', parameters: FEED_SCOPE }),
    },
    '/v1/feed/mark_all_read': {
      patch: client({ operationId: 'markAllNotificationsRead', summary: 'Mark every notification read', parameters: FEED_SCOPE }),
    },
  };
}

function adminPaths(): Record<string, PathItem> {
  return {
    '/admin/api/login': {
      post: admin(
        {
          operationId: 'adminLogin',
          summary: 'Sign in to the dashboard',
          description:
            'Sets the session cookie (a new session id every time; any session cookie sent along is deleted). Wrong email and wrong password answer the same 401. After 5 failures for one email or 20 from one IP, 429 with Retry-After. Cross-origin browser requests are refused (403 ORIGIN_NOT_ALLOWED).',
          body: ref('LoginRequest'),
          ok: {
            schema: ref('LoginResponse'),
            headers: { 'Set-Cookie': { description: 'The session cookie (see the `session` security scheme).', schema: str() } },
          },
          errors: [429],
        },
        PUBLIC,
      ),
    },
    '/admin/api/logout': {
      post: admin({ operationId: 'adminLogout', summary: 'End this session', ok: { status: 204, description: 'Signed out.' } }, SESSION),
    },
    '/admin/api/me': {
      get: admin({ operationId: 'adminMe', summary: 'Who is signed in (and the CSRF token again)', ok: { schema: ref('Me') } }),
    },
    '/admin/api/reauth': {
      post: admin(
        {
          operationId: 'adminReauth',
          summary: 'Confirm the password to make the session fresh for 10 minutes',
          body: ref('ReauthRequest'),
          ok: { schema: ref('ReauthResponse') },
          errors: [429],
        },
        SESSION,
      ),
    },
    '/admin/api/accounts': {
      get: admin({
        operationId: 'listAdminAccounts',
        summary: 'List dashboard accounts (owner, admin)',
        ok: { schema: obj({ accounts: arrayOf(ref('Account')) }, ['accounts']) },
      }),
      post: admin(
        {
          operationId: 'createAdminAccount',
          summary: 'Create a dashboard account (owner, admin; fresh session)',
          description: 'Only owners create owners.',
          body: ref('AccountCreate'),
          ok: { status: 201, description: 'Created.', schema: ref('Account') },
          errors: [409],
        },
        SESSION,
      ),
    },
    '/admin/api/accounts/{id}': {
      parameters: [param('AccountId')],
      patch: admin(
        {
          operationId: 'updateAdminAccount',
          summary: 'Change an account’s role or disable it (owner, admin; fresh session)',
          description: 'The last enabled owner can be neither demoted nor disabled; disabling ends the account’s sessions.',
          body: ref('AccountPatch'),
          ok: { schema: ref('Account') },
          errors: [404],
        },
        SESSION,
      ),
    },
    '/admin/api/service-tokens': {
      get: admin({
        operationId: 'listServiceTokens',
        summary: 'List service tokens (owner, admin)',
        ok: { schema: obj({ service_tokens: arrayOf(ref('ServiceToken')) }, ['service_tokens']) },
      }),
      post: admin({
        operationId: 'createServiceToken',
        summary: 'Create a service token (owner, admin; fresh session)',
        description: 'A token can grant at most its creator’s role and workspaces. The token is in this response only.',
        body: ref('ServiceTokenCreate'),
        ok: { status: 201, description: 'Created.', schema: ref('ServiceTokenCreated') },
      }),
    },
    '/admin/api/service-tokens/{id}': {
      parameters: [param('ServiceTokenId')],
      delete: admin({
        operationId: 'revokeServiceToken',
        summary: 'Revoke a service token (owner, admin)',
        ok: { schema: ref('ServiceToken') },
        errors: [404],
      }),
    },
  };
}

function adminWorkspacePaths(): Record<string, PathItem> {
  const ws = [param('WorkspaceSlug')];
  const FRESH = ' Needs a fresh session (see `POST /admin/api/reauth`).';
  return {
    '/admin/api/workspaces': {
      get: admin({
        operationId: 'listWorkspaces',
        summary: 'List the workspaces in reach (viewer)',
        ok: { schema: obj({ workspaces: arrayOf(ref('Workspace')) }, ['workspaces']) },
      }),
      post: admin({
        operationId: 'createWorkspace',
        summary: 'Create a workspace (admin)',
        description: `Not for service tokens limited to some workspaces.${FRESH}`,
        body: ref('WorkspaceCreate'),
        ok: { status: 201, description: 'Created.', schema: ref('Workspace') },
        errors: [409],
      }),
    },
    '/admin/api/workspaces/{ws}': {
      parameters: ws,
      get: admin({ operationId: 'getWorkspace', summary: 'Get a workspace (viewer)', ok: { schema: ref('Workspace') }, errors: [404] }),
    },
    '/admin/api/workspaces/{ws}/enhanced-security': {
      parameters: ws,
      put: admin({
        operationId: 'setEnhancedSecurity',
        summary: 'Turn enhanced security mode on or off (admin)',
        description: `Enforced by every server within a second.${FRESH}`,
        body: ref('EnhancedSecurityUpdate'),
        ok: { schema: ref('Workspace') },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/signed-clients': {
      parameters: ws,
      put: admin({
        operationId: 'setSignedClients',
        summary: 'Allow or refuse key+secret signed client SDKs in enhanced security mode (admin)',
        description: `The switch "allow key+secret signed client calls": web-sdk 1.x, Android 1.x and iOS legacy builds carry the workspace secret inside the app. Audited.${FRESH}`,
        body: ref('SignedClientsUpdate'),
        ok: { schema: ref('Workspace') },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/secret': {
      parameters: ws,
      get: admin({
        operationId: 'revealWorkspaceSecret',
        summary: 'Reveal the workspace key and secret (developer; audited)',
        description: `Answered with \`cache-control: no-store\`.${FRESH}`,
        ok: { schema: ref('WorkspaceSecret') },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/secret/rotate': {
      parameters: ws,
      post: admin({
        operationId: 'rotateWorkspaceSecret',
        summary: 'Issue a new workspace secret (admin)',
        description: `The previous secret stays valid for the grace period; at most two are ever valid.${FRESH}`,
        body: ref('SecretRotate'),
        ok: { schema: ref('SecretRotated') },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/webhook-secret': {
      parameters: ws,
      get: admin({
        operationId: 'getWebhookSecretStatus',
        summary: 'Which webhook signing secrets sign right now (viewer)',
        description: 'Ids and times only: a webhook secret is shown once, when it is made.',
        ok: { schema: ref('WebhookSecretStatus') },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/webhook-secret/roll': {
      parameters: ws,
      post: admin({
        operationId: 'rollWebhookSecret',
        summary: 'Make a new webhook signing secret (admin)',
        description: `The secret is in this response only. The previous one keeps signing (a second \`v1=\` in \`x-herald-signature\`) for the grace period.${FRESH}`,
        body: ref('SecretRotate'),
        ok: { schema: ref('WebhookSecretRolled') },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/api-keys': {
      parameters: ws,
      get: admin({
        operationId: 'listApiKeys',
        summary: 'List API keys (viewer)',
        ok: { schema: obj({ api_keys: arrayOf(ref('ApiKey')) }, ['api_keys']) },
        errors: [404],
      }),
      post: admin({
        operationId: 'createApiKey',
        summary: 'Create an API key (admin)',
        description: `The key is in this response only.${FRESH}`,
        body: ref('ApiKeyCreate'),
        ok: { status: 201, description: 'Created.', schema: ref('ApiKeyCreated') },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/api-keys/{id}': {
      parameters: [param('WorkspaceSlug'), param('ApiKeyId')],
      delete: admin({ operationId: 'revokeApiKey', summary: 'Revoke an API key (admin)', ok: { schema: ref('ApiKey') }, errors: [404] }),
    },
    '/admin/api/workspaces/{ws}/public-keys': {
      parameters: ws,
      get: admin({
        operationId: 'listPublicKeys',
        summary: 'List public keys (viewer)',
        ok: { schema: obj({ public_keys: arrayOf(ref('PublicKey')) }, ['public_keys']) },
        errors: [404],
      }),
      post: admin({
        operationId: 'createPublicKey',
        summary: 'Create a public key (admin)',
        description: `Optional allowed browser origins.${FRESH}`,
        body: ref('PublicKeyCreate'),
        ok: { status: 201, description: 'Created.', schema: ref('PublicKey') },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/public-keys/{id}': {
      parameters: [param('WorkspaceSlug'), param('PublicKeyId')],
      delete: admin({
        operationId: 'revokePublicKey',
        summary: 'Revoke a public key (admin)',
        description: 'Open sockets authenticated with it are closed.',
        ok: { schema: ref('PublicKey') },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/signing-keys': {
      parameters: ws,
      get: admin({
        operationId: 'listSigningKeys',
        summary: 'List signing keys (viewer; public halves only)',
        ok: { schema: obj({ signing_keys: arrayOf(ref('SigningKey')) }, ['signing_keys']) },
        errors: [404],
      }),
      post: admin({
        operationId: 'createSigningKey',
        summary: 'Generate an ES256 signing key pair (admin)',
        description: `The private key is in this response only (PEM and Base64) and is never stored.${FRESH}`,
        body: ref('SigningKeyCreate'),
        ok: { status: 201, description: 'Created.', schema: ref('SigningKeyCreated') },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/signing-keys/import': {
      parameters: ws,
      post: admin({
        operationId: 'importSigningKey',
        summary: 'Register your own ES256 public key (admin)',
        description: FRESH.trim(),
        body: ref('SigningKeyImport'),
        ok: { status: 201, description: 'Imported.', schema: ref('SigningKey') },
        errors: [404, 409],
      }),
    },
    '/admin/api/workspaces/{ws}/signing-keys/{kid}': {
      parameters: [param('WorkspaceSlug'), param('SigningKeyKid')],
      delete: admin({
        operationId: 'revokeSigningKey',
        summary: 'Revoke a signing key (admin)',
        description: 'Tokens it signed stop working on every server within a second.',
        ok: { schema: ref('SigningKey') },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/users': {
      parameters: ws,
      get: admin({
        operationId: 'searchWorkspaceUsers',
        summary: 'Browse a workspace’s users (viewer)',
        parameters: [
          queryParam('search', 'Text to look for in distinct_id and profile.', str(undefined, { maxLength: 200 })),
          queryParam('limit', 'Page size (default 50, at most 200).', int(undefined, { minimum: 1, maximum: 200, default: 50 })),
          queryParam('after', 'Cursor: the distinct_id after which the page starts.', str(undefined, { maxLength: 512 })),
        ],
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/users/{id}': {
      parameters: [param('WorkspaceSlug'), param('UserId')],
      get: admin({
        operationId: 'getWorkspaceUser',
        summary: 'A user with preferences and latest notifications (viewer)',
        parameters: [queryParam('tenant_id', 'Tenant whose preferences to show (default `default`).', str(undefined, { maxLength: 64 }))],
        ok: {
          schema: obj({ user: JSON_OBJECT, preferences: JSON_OBJECT, notifications: arrayOf(JSON_OBJECT) }, [
            'user',
            'preferences',
            'notifications',
          ]),
        },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/workflows': {
      parameters: ws,
      get: admin({
        operationId: 'listWorkflows',
        summary: 'List workflows (viewer)',
        ok: { schema: obj({ workflows: arrayOf(ref('WorkflowDefinition')) }, ['workflows']) },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/workflows/{slug}': {
      parameters: [param('WorkspaceSlug'), param('WorkflowSlug')],
      get: admin({
        operationId: 'getWorkflow',
        summary: 'Get a workflow (viewer)',
        ok: { schema: ref('WorkflowDefinition') },
        errors: [404],
      }),
      put: admin({
        operationId: 'putWorkflow',
        summary: 'Create or replace a workflow (developer)',
        description:
          'A `slug` in the body must match the path (or be left out); `created_at` and `updated_at` (as GET returns them) are ignored. ' +
          'The answer lists `warnings` when something is legal but likely a mistake (a category the workspace does not define).',
        body: ref('WorkflowDefinition'),
        ok: {
          schema: {
            allOf: [ref('WorkflowDefinition'), obj({ warnings: arrayOf(str()) }, [])],
          },
        },
        errors: [404],
      }),
      delete: admin({
        operationId: 'deleteWorkflow',
        summary: 'Delete a workflow (admin)',
        ok: { status: 204, description: 'Deleted.' },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/workflows/{slug}/test': {
      parameters: [param('WorkspaceSlug'), param('WorkflowSlug')],
      post: admin({
        operationId: 'testWorkflow',
        summary: 'Trigger a workflow from the dashboard (developer)',
        description: 'Takes the real delivery path: preferences, inbox, webhooks, realtime push.',
        body: ref('WorkflowTestTrigger'),
        ok: { status: 202, description: 'Accepted and committed.', schema: obj({ message_id: str() }, ['message_id']) },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/request-log': {
      parameters: ws,
      get: admin({
        operationId: 'listRequestLog',
        summary: 'The workspace’s request log, with each rejection’s precise reason (viewer)',
        parameters: [
          param('AdminLimit'),
          param('AdminBefore'),
          queryParam('status', '`errors` for rejected requests only.', { type: 'string', enum: ['all', 'errors'], default: 'all' }),
          queryParam('credential_id', 'Only requests that presented this credential (workspace key, API key prefix, public key id).'),
        ],
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/audit-log': {
      parameters: ws,
      get: admin({
        operationId: 'listWorkspaceAuditLog',
        summary: 'The workspace’s audit log (developer)',
        parameters: [param('AdminLimit'), param('AdminBefore')],
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/messages': {
      parameters: ws,
      get: admin({
        operationId: 'listWorkspaceMessages',
        summary: 'The message log: what was delivered to whom, newest first, with each webhook’s delivery state (viewer)',
        description:
          'Entries are messages as `GET /v1/message` shows them, plus `time` (epoch ms) and `webhook` (target host, attempts, last error and HTTP status, next retry; null for inbox messages). Pass `next` back as `before` for older entries. An unknown filter is a 400.',
        parameters: [
          queryParam('limit', 'Page size (default 50, at most 200).', int(undefined, { minimum: 1, maximum: 200, default: 50 })),
          queryParam('before', 'Cursor: `next` of the previous page.', str(undefined, { maxLength: 200 })),
          queryParam('status', 'Only messages in this status.', {
            type: 'string',
            enum: ['delivered', 'seen', 'read', 'interacted', 'archived', 'queued', 'sent', 'failed'],
          }),
          queryParam('channel', 'Only messages on this channel.', { type: 'string', enum: ['inbox', 'webhook'] }),
          queryParam('recipient', 'Only messages to this distinct_id.', str(undefined, { maxLength: 512 })),
          queryParam('workflow', 'Only messages of this workflow slug.', str(undefined, { maxLength: 128 })),
        ],
        ok: { schema: obj({ entries: arrayOf(JSON_OBJECT), next: nullable(str()) }, ['entries', 'next']) },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/messages/{id}': {
      parameters: [param('WorkspaceSlug'), pathParam('id', 'The message id (`msg_…`).')],
      get: admin({
        operationId: 'getWorkspaceMessage',
        summary: 'One message with its rendered notification or its webhook delivery (viewer)',
        description:
          'Webhook targets show their host only, and the step’s headers never: both may hold the receiver’s credentials. Another workspace’s message answers 404 like a missing one.',
        ok: { schema: JSON_OBJECT },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/categories': {
      parameters: ws,
      get: admin({
        operationId: 'listWorkspaceCategories',
        summary: 'The workspace’s notification categories (viewer)',
        ok: { schema: obj({ categories: arrayOf(ref('AdminCategory')) }, ['categories']) },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/categories/{slug}': {
      parameters: [param('WorkspaceSlug'), pathParam('slug', 'Category slug: 1-100 of a-z, 0-9, `.`, `_`, `-`.')],
      put: admin({
        operationId: 'putWorkspaceCategory',
        summary: 'Create or replace a notification category (developer)',
        description:
          'The checks of `herald category apply`; fields left out take their defaults. A `slug` in the body must match the path (or be left out). Audited.',
        body: obj(
          {
            name: str(undefined, { minLength: 1, maxLength: 200 }),
            section: nullable(str(undefined, { minLength: 1, maxLength: 200 })),
            description: nullable(str(undefined, { minLength: 1, maxLength: 2000 })),
            default_preference: { type: 'string', enum: ['opt_in', 'opt_out', 'cant_unsubscribe'], default: 'opt_in' },
            slug: str(),
          },
          ['name'],
          { additionalProperties: false },
        ),
        ok: { schema: obj({ category: ref('AdminCategory'), created: bool() }, ['category', 'created']) },
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/tenants': {
      parameters: ws,
      get: admin({
        operationId: 'listWorkspaceTenants',
        summary: 'The workspace’s tenants, `default` first (viewer)',
        parameters: [
          queryParam('limit', 'Page size (default 50, at most 200).', int(undefined, { minimum: 1, maximum: 200, default: 50 })),
          param('Offset'),
        ],
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/lists': {
      parameters: ws,
      get: admin({
        operationId: 'listWorkspaceLists',
        summary: 'The workspace’s subscriber lists with member counts (viewer)',
        parameters: [
          queryParam('limit', 'Page size (default 50, at most 200).', int(undefined, { minimum: 1, maximum: 200, default: 50 })),
          param('Offset'),
        ],
        errors: [404],
      }),
    },
    '/admin/api/workspaces/{ws}/lists/{id}/members': {
      parameters: [param('WorkspaceSlug'), pathParam('id', 'The subscriber list id.')],
      get: admin({
        operationId: 'listWorkspaceListMembers',
        summary: 'A list’s members, by distinct_id (viewer)',
        description: 'Another workspace’s list answers 404 like a missing one.',
        parameters: [
          queryParam('limit', 'Page size (default 50, at most 200).', int(undefined, { minimum: 1, maximum: 200, default: 50 })),
          queryParam('after', 'Cursor: `next` of the previous page.', str(undefined, { maxLength: 512 })),
        ],
        ok: {
          schema: obj({ list: JSON_OBJECT, members: arrayOf(str()), next: nullable(str()) }, ['list', 'members', 'next']),
        },
        errors: [404],
      }),
    },
    '/admin/api/audit-log': {
      get: admin({
        operationId: 'listAuditLog',
        summary: 'The installation’s audit log: logins, accounts, service tokens (admin; unscoped principals only)',
        parameters: [param('AdminLimit'), param('AdminBefore')],
      }),
    },
  };
}

function operationalPaths(): Record<string, PathItem> {
  return {
    '/healthz': {
      get: open('Health', {
        operationId: 'liveness',
        summary: 'Liveness',
        ok: { schema: obj({ status: { const: 'ok' } }, ['status']) },
      }),
    },
    '/readyz': {
      get: open('Health', {
        operationId: 'readiness',
        summary: 'Readiness: the database answers',
        ok: { schema: obj({ status: { const: 'ready' }, database: str('`sqlite` or `postgres`.') }, ['status', 'database']) },
        errors: [503],
      }),
    },
    '/metrics': {
      get: open('Health', {
        operationId: 'metrics',
        summary:
          'Prometheus metrics of this process (requests by route and status, auth rejections, deliveries, queues, sockets). With HERALD_METRICS_TOKEN set, send it as `Authorization: Bearer <token>`',
        ok: { mediaType: 'text/plain', schema: str('Prometheus text exposition format 0.0.4.') },
        errors: [401],
      }),
    },
    '/openapi.json': {
      get: open('Health', {
        operationId: 'openapiDocument',
        summary: 'This OpenAPI document',
        ok: { schema: { type: 'object', description: 'OpenAPI 3.1.' } },
      }),
    },
    '/': {
      get: open('Demo', {
        operationId: 'rootRedirect',
        summary: 'Redirects to the dashboard (/dashboard/)',
        ok: { mediaType: 'text/html', schema: str() },
      }),
    },
    '/dashboard': {
      get: open('Demo', {
        operationId: 'dashboardIndex',
        summary: 'The dashboard web app (sign in with a dashboard account; it calls /admin/api/)',
        ok: { mediaType: 'text/html', schema: str() },
      }),
    },
    '/dashboard/{path}': {
      parameters: [
        {
          name: 'path',
          in: 'path',
          required: true,
          description: 'Any path under /dashboard/: a built asset, or a page of the app (answered with index.html).',
          schema: str(),
        },
      ],
      get: open('Demo', {
        operationId: 'dashboardFile',
        summary: 'Dashboard assets and client-side pages',
        ok: { mediaType: 'text/html', schema: str() },
        errors: [404],
      }),
    },
    '/demo/inbox': {
      get: open('Demo', {
        operationId: 'demoInboxPage',
        summary: 'Demo inbox page (settings in the URL fragment: public_key, distinct_id, token)',
        ok: { mediaType: 'text/html', schema: str() },
      }),
    },
    '/demo/inbox.js': {
      get: open('Demo', {
        operationId: 'demoInboxScript',
        summary: 'Script of the demo inbox page',
        ok: { mediaType: 'text/javascript', schema: str() },
      }),
    },
    '/demo/vendor/{file}': {
      parameters: [param('DemoFile')],
      get: open('Demo', {
        operationId: 'demoVendorFile',
        summary: 'Web SDK bundle file for the demo page',
        ok: { mediaType: 'text/javascript', schema: str() },
        errors: [404],
      }),
    },
  };
}

/** The whole document. Pure: the same value on every call (the version comes from package.json). */
export function buildOpenApiDocument(): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Herald',
      version: packageVersion(),
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
      description: [
        'Herald is a self-hosted notification hub that speaks the SuprSend wire protocol, so the SuprSend SDKs work against it by changing only their host.',
        '',
        '- **Backend** routes take a workspace key + secret signature (`hmac`) or `Authorization: Bearer <API key>` (`apiKey`); the credential decides the workspace.',
        '- **Client** routes (browser and mobile SDKs) take a public key (`publicKey`) and, for a signed-in user, a user token (`userToken`); in enhanced security mode the token is required. The realtime feed is socket.io v4 at `/socket.io/` (not described here).',
        '- **Shared** routes (`/v1/auth/whoami`, `/v2/event`) take every one of those credentials.',
        '- **Admin** routes (`/admin/api/…`) take a dashboard session cookie (`session`, with `x-csrf-token` on writes) or `Authorization: ServiceToken <token>` (`serviceToken`), nothing else.',
        '',
        'Every path also accepts a trailing slash (`/trigger/` and `/trigger` are the same route; the SDKs send the slash). Path ids arrive percent-encoded.',
        '',
        'Errors use the SuprSend envelope `{"status":"error","code":401,"message":"…","error":{"type":"SIGNATURE_INVALID","message":"…"}}`; `error.type` is one of the stable codes of the `ErrorType` schema. Request bodies are JSON, at most `HERALD_BODY_LIMIT_BYTES` (default 5 MiB; larger: 413).',
      ].join('\n'),
    },
    servers: [{ url: '/', description: 'This Herald server' }],
    tags: [
      { name: 'Backend', description: 'For your servers: the SuprSend backend SDKs and plain REST callers.' },
      { name: 'Client', description: 'For browsers and apps: the SuprSend client SDKs, acting for one user.' },
      { name: 'Admin', description: 'The dashboard and admin automation.' },
      { name: 'Health', description: 'Liveness, readiness and this document; no credentials.' },
      { name: 'Demo', description: 'The demo inbox page; no credentials.' },
    ],
    paths: { ...operationalPaths(), ...sharedPaths(), ...backendPaths(), ...clientPaths(), ...adminPaths(), ...adminWorkspacePaths() },
    components: {
      securitySchemes: SECURITY_SCHEMES,
      schemas: schemas(),
      parameters: PARAMETERS,
      responses: responses(),
    },
  };
}

/** `GET /openapi.json`: no credentials (it holds none), built once at start. */
export function registerOpenApiRoute(app: FastifyInstance): void {
  const body = JSON.stringify(buildOpenApiDocument());
  app.get('/openapi.json', async (_request, reply) =>
    reply.type('application/json; charset=utf-8').header('cache-control', `public, max-age=${OPENAPI_MAX_AGE_S}`).send(body),
  );
}
