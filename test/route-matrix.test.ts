import assert from 'node:assert/strict';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { SignJWT } from 'jose';
import { createAdminGroupDeps } from '../src/admin/admin-group.js';
import type { CredentialKind } from '../src/auth/principal.js';
import { fixedClock } from '../src/lib/clock.js';
import { CategoryService } from '../src/preferences/categories.service.js';
import { openHerald, type Herald } from '../src/runtime.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { hmacHeaders } from './helpers/http.js';
import { buildAppWithRoutes, keyOf, workspaceDigest, WORKSPACE_DATA_TABLES, type Method, type Route } from './helpers/routes.js';

/**
 * The credential × route matrix, generated from the routes the app actually registers (an
 * onRoute observer passed to buildApp; routeGroup and adminGroup tag each route's config with
 * what it accepts). Every route must be classified: a route group's, the admin group's, or listed
 * here as public with a reason; a route added later that is none of these fails the first test.
 * For every authenticated route: no credential is a 401; a credential of a kind the route does
 * not accept is a 401; the `production` workspace's credential of an accepted kind, aimed at
 * `staging`'s resources, answers exactly as it does for resources that exist nowhere and leaks
 * nothing; on client routes (enhanced security on) a token for another user or scoped to another
 * tenant is a 403; admin routes refuse a request without a session (401) and a service token
 * scoped to another workspace (404, as for a missing one). No request ever gets a 5xx, and none
 * of the rejected requests writes anything to `staging`. A valid credential of every accepted kind
 * passes authentication on every route, so the rejections above cannot come from somewhere else.
 */

/** Routes that take no credential, each with the reason. HEAD twins of these GET routes are public too. */
const PUBLIC_ROUTES: Record<string, string> = {
  'GET /healthz': 'liveness probe for load balancers; answers only {"status":"ok"}',
  'GET /readyz': 'readiness probe; reports database and realtime state, no workspace data',
  'GET /metrics': 'Prometheus scrape; guarded by HERALD_METRICS_TOKEN when set, never by workspace credentials',
  'GET /demo/inbox': 'static demo page; the page itself asks the visitor for a public key',
  'GET /demo/inbox.js': 'static script of the demo page',
  'GET /demo/vendor/:file': 'vendored web-SDK files for the demo page, from a fixed allowlist',
  'GET /': 'a redirect to /dashboard/',
  'GET /dashboard/': 'the dashboard shell; all of its data comes from /admin/api (session or service token)',
  'GET /dashboard/*': 'the dashboard SPA fallback (index.html)',
  'GET /dashboard/assets/*': 'hashed dashboard assets (only registered when dist/web is built)',
  'GET /openapi.json': 'the API description, public by design',
  'OPTIONS *': 'CORS pre-flights, which browsers send without credentials (Fetch standard)',
};

/** Public entries that exist only in some setups (a built dashboard). */
const OPTIONAL_PUBLIC_ROUTES = new Set(['GET /dashboard/assets/*']);

/** Admin routes marked `adminPublic` (reachable without a session), each with the reason. */
const ADMIN_PUBLIC_ROUTES: Record<string, string> = {
  'POST /admin/api/login': 'signing in is how a session starts (writes still get the Origin check)',
};

/** Routes that act on the caller itself, not on a user or tenant the request names. */
const SUBJECTLESS_CLIENT_ROUTES: Record<string, string> = {
  'GET /v1/auth/whoami': 'reports the presented credential (and token subject) back; names no user',
  'HEAD /v1/auth/whoami': 'HEAD twin of GET /v1/auth/whoami',
  'POST /v1/auth/whoami': 'as GET, to check that signing covers a body',
};

const ALL_KINDS: readonly CredentialKind[] = ['hmac', 'api_key', 'public_key'];
const CATEGORY = 'promotional';
const OBJECT_TYPE = 'teams';
const WORKFLOW = 'matrix';
const MARKER = `staging-only-${randomBytes(6).toString('hex')}`;

type RouteClass =
  | { kind: 'credentials'; accepts: readonly CredentialKind[] }
  | { kind: 'admin' }
  | { kind: 'admin-public'; reason: string }
  | { kind: 'public'; reason: string };

function classify(route: Route): RouteClass | string {
  const config = route.config;
  const key = keyOf(route);
  const publicReason = PUBLIC_ROUTES[key] ?? (route.method === 'HEAD' ? PUBLIC_ROUTES[`GET ${route.url}`] : undefined);
  if (config?.adminGroup === true) {
    if (config.adminPublic !== true) return { kind: 'admin' };
    const reason = ADMIN_PUBLIC_ROUTES[key];
    return reason === undefined ? `${key}: adminPublic but not listed in ADMIN_PUBLIC_ROUTES` : { kind: 'admin-public', reason };
  }
  if (config?.acceptsCredentials !== undefined) {
    if (publicReason !== undefined) return `${key}: listed as public but registered in a route group`;
    if (config.acceptsCredentials.length === 0) return `${key}: a route group that accepts no credential kind`;
    return { kind: 'credentials', accepts: config.acceptsCredentials };
  }
  if (publicReason !== undefined) return { kind: 'public', reason: publicReason };
  return `${key}: registered outside routeGroup/adminGroup and not listed in PUBLIC_ROUTES`;
}

/** Everything a route's path, query and body may name. */
interface Ids {
  user: string;
  tenant: string;
  list: string;
  version: string;
  object: string;
  notification: string;
  message: string;
  wsKey: string;
  ws: string;
  account: string;
  serviceToken: string;
  apiKey: string;
  publicKey: string;
  kid: string;
}

/** A plausible value for each path parameter, by `<previous segment>/:<name>` (or `:<name>`). */
const PARAMS: Record<string, (ids: Ids) => string> = {
  'user/:id': (ids) => ids.user,
  'subscriber/:id': (ids) => ids.user,
  'tenant/:id': (ids) => ids.tenant,
  'brand/:id': (ids) => ids.tenant,
  'tenant/:tenantId': (ids) => ids.tenant,
  'category/:category': () => CATEGORY,
  'subscriber_list/:listId': (ids) => ids.list,
  'version/:versionId': (ids) => ids.version,
  'object/:type': () => OBJECT_TYPE,
  ':type/:id': (ids) => ids.object,
  'notifications/:id': (ids) => ids.notification,
  ':wsKey': (ids) => ids.wsKey,
  'workspaces/:ws': (ids) => ids.ws,
  'accounts/:id': (ids) => ids.account,
  'service-tokens/:id': (ids) => ids.serviceToken,
  'api-keys/:id': (ids) => ids.apiKey,
  'public-keys/:id': (ids) => ids.publicKey,
  'signing-keys/:kid': (ids) => ids.kid,
  'users/:id': (ids) => ids.user,
  'messages/:id': (ids) => ids.message,
  'workflows/:slug': () => WORKFLOW,
  'categories/:slug': () => CATEGORY,
  'lists/:id': (ids) => ids.list,
  'vendor/:file': () => 'no-such-file.js',
  '*': () => 'some/page',
};

function paramResolver(segments: string[], index: number): ((ids: Ids) => string) | undefined {
  const segment = segments[index] as string;
  return PARAMS[`${segments[index - 1] ?? ''}/${segment}`] ?? PARAMS[segment];
}

/** Path parameters no entry of PARAMS covers (the route table test names them). */
function unknownParams(url: string): string[] {
  const segments = url.split('/');
  return segments.flatMap((s, i) => ((s.startsWith(':') || s === '*') && !paramResolver(segments, i) ? [s] : []));
}

function fillPath(url: string, ids: Ids): string {
  const segments = url.split('/');
  return segments
    .map((s, i) => (s.startsWith(':') || s === '*' ? encodeURIComponent(paramResolver(segments, i)?.(ids) ?? 'x') : s))
    .join('/');
}

let insertCounter = 0;
const insertId = () => `ins-${process.pid}-${(insertCounter += 1)}`;

/** Request bodies that get past validation, so the checks behind them (subject, tenant, lookups) run. Default `{}`. */
const SAMPLE_BODIES: Record<string, (ids: Ids) => unknown> = {
  'POST /v2/event': (ids) => ({
    event: 'matrix_clicked',
    distinct_id: ids.user,
    tenant_id: ids.tenant,
    $insert_id: insertId(),
    properties: {},
  }),
  'POST /event': (ids) => ({
    event: 'matrix_clicked',
    distinct_id: ids.user,
    tenant_id: ids.tenant,
    $insert_id: insertId(),
    properties: {},
  }),
  'POST /v2/bulk/event': (ids) => [{ event: 'matrix_clicked', distinct_id: ids.user, $insert_id: insertId(), properties: {} }],
  'POST /trigger': (ids) => ({ workflow: WORKFLOW, recipients: [ids.user], data: {} }),
  'POST /:wsKey/trigger': (ids) => ({ template: WORKFLOW, users: [{ distinct_id: ids.user }] }),
  'POST /:wsKey/broadcast': (ids) => ({ list_id: ids.list, template: WORKFLOW }),
  'POST /v1/workflow_run/cancel': (ids) => ({ cancellation_key: ids.user }),
  'POST /v1/broadcast_run/cancel': (ids) => ({ list_id: ids.list }),
  'PATCH /v1/user/:id': () => ({ operations: [{ $set: { plan: 'pro' } }] }),
  'POST /v1/user/:id/merge': (ids) => ({ from_user_id: `${ids.user}-from` }),
  'DELETE /v1/bulk/user': (ids) => ({ distinct_ids: [ids.user] }),
  'POST /v1/tenant/:id': () => ({ tenant_name: 'Matrix' }),
  'POST /v1/brand/:id': () => ({ brand_name: 'Matrix' }),
  'PATCH /v1/tenant/:id/preference/category/:category': () => ({ preference: 'opt_out' }),
  'POST /v1/subscriber_list': (ids) => ({ list_id: ids.list, list_name: 'Matrix' }),
  'POST /v1/subscriber_list/:listId/subscriber/add': (ids) => ({ distinct_ids: [ids.user] }),
  'POST /v1/subscriber_list/:listId/subscriber/remove': (ids) => ({ distinct_ids: [ids.user] }),
  'POST /v1/subscriber_list/:listId/version/:versionId/subscriber/add': (ids) => ({ distinct_ids: [ids.user] }),
  'POST /v1/subscriber_list/:listId/version/:versionId/subscriber/remove': (ids) => ({ distinct_ids: [ids.user] }),
  'PATCH /v1/user/:id/preference/channel_preference': () => ({ channel_preferences: [{ channel: 'email', is_restricted: true }] }),
  'PATCH /v1/user/:id/preference/category/:category': () => ({ preference: 'opt_out' }),
  'PATCH /v1/user/:id/tenant/:tenantId': () => ({ operations: [{ $set: { plan: 'pro' } }] }),
  'PATCH /v1/object/:type/:id': () => ({ operations: [{ $set: { plan: 'pro' } }] }),
  'DELETE /v1/bulk/object/:type': (ids) => ({ object_ids: [ids.object] }),
  'POST /v1/object/:type/:id/subscription': (ids) => ({ recipients: [ids.user] }),
  'DELETE /v1/object/:type/:id/subscription': (ids) => ({ recipients: [ids.user] }),
  'PATCH /v1/bulk/message': (ids) => ({ messages: [{ message_id: ids.message, action: 'read' }] }),
  'PATCH /v2/subscriber/:id/category/:category': () => ({ preference: 'opt_out', opt_out_channels: null }),
  'POST /v1/subscriber/:id/category/:category': () => ({ preference: 'opt_out', opt_out_channels: [] }),
  'POST /v1/subscriber/:id/channel_preference': () => ({ channel_preferences: [{ channel: 'email', is_restricted: true }] }),
  'PATCH /v2/subscriber/:id/channel_preference': () => ({ channel_preferences: [{ channel: 'email', is_restricted: true }] }),
  'POST /v1/feed/bulk/notifications/seen': (ids) => ({ notification_ids: [ids.notification] }),
};

interface Call {
  method: Method;
  url: string;
  body: string | undefined;
}

function buildCall(route: Route, ids: Ids, kind: CredentialKind | 'admin'): Call {
  const query = kind === 'public_key' ? `?distinct_id=${encodeURIComponent(ids.user)}&tenant_id=${encodeURIComponent(ids.tenant)}` : '';
  const hasBody = route.method !== 'GET' && route.method !== 'HEAD';
  return {
    method: route.method,
    url: fillPath(route.url, ids) + query,
    body: hasBody ? JSON.stringify(SAMPLE_BODIES[keyOf(route)]?.(ids) ?? {}) : undefined,
  };
}

function idsFor(prefix: string, base: Partial<Ids> = {}): Ids {
  return {
    user: `${prefix}-user`,
    tenant: `${prefix}-tenant`,
    list: `${prefix}-list`,
    version: `${prefix}-version`,
    object: `${prefix}-object`,
    notification: `${prefix}-notification`,
    message: `${prefix}-message`,
    wsKey: `${prefix}-wskey`,
    ws: `${prefix}-ws`,
    account: `${prefix}-account`,
    serviceToken: `${prefix}-servicetoken`,
    apiKey: `${prefix}-apikey`,
    publicKey: `${prefix}-publickey`,
    kid: `${prefix}-kid`,
    ...base,
  };
}

/** The response text with every id of `sets` replaced by its name, so two answers about different ids compare. */
function normalise(text: string, sets: Ids[]): string {
  const pairs = sets.flatMap((ids) => Object.entries(ids) as Array<[string, string]>).sort((a, b) => b[1].length - a[1].length);
  let out = text;
  for (const [name, value] of pairs) {
    for (const form of new Set([value, encodeURIComponent(value)])) out = out.replaceAll(form, `<${name}>`);
  }
  return out;
}

/** The key paths and value types of a JSON value (for 2xx answers whose generated ids differ). */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shapeOf);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, shapeOf(v)]),
    );
  }
  return typeof value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
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

function errorOf(response: LightMyRequestResponse): { type: string; message: string } | undefined {
  const body = parseJson(response.body) as { error?: { type?: unknown; message?: unknown } } | string;
  if (typeof body !== 'object' || body === null || typeof body.error?.type !== 'string' || typeof body.error.message !== 'string') {
    return undefined;
  }
  return { type: body.error.type, message: body.error.message };
}

/** Failures of one check, all reported at once with the route each happened on. */
class Failures {
  readonly items: string[] = [];
  add(route: Route | string, what: string): void {
    this.items.push(`${typeof route === 'string' ? route : keyOf(route)}: ${what}`);
  }
  expectStatus(route: Route, label: string, response: LightMyRequestResponse, expected: number[], errorType?: string): void {
    if (!expected.includes(response.statusCode)) {
      this.add(route, `${label}: expected ${expected.join(' or ')}, got ${response.statusCode} ${response.body.slice(0, 300)}`);
      return;
    }
    if (route.method === 'HEAD') return;
    const error = errorOf(response);
    if (response.statusCode >= 400 && (error === undefined || error.message === '')) {
      this.add(route, `${label}: ${response.statusCode} without a JSON error body: ${response.body.slice(0, 300)}`);
    } else if (errorType !== undefined && error?.type !== errorType) {
      this.add(route, `${label}: expected error type ${errorType}, got ${error?.type}`);
    }
  }
  assertNone(what: string): void {
    assert.equal(this.items.length, 0, `${what}:\n  ${this.items.join('\n  ')}`);
  }
}

/** Staging's rows in the tables a client or backend request could change (background tables left out). */
const DATA_TABLES = [...WORKSPACE_DATA_TABLES, 'api_keys', 'public_keys', 'signing_keys', 'workspaces'] as const;

for (const engine of enginesUnderTest()) {
  describe(`credential × route matrix on ${engine}`, () => {
    let t: TestEnv;
    let herald: Herald;
    let app: FastifyInstance;
    const clock = fixedClock(Date.now());
    const routes: Route[] = [];
    const classes = new Map<string, RouteClass>();
    const serverErrors: string[] = [];
    let staging: WorkspaceCredentials;
    let production: WorkspaceCredentials;
    let adminWorkspace: string;
    const admin = {
      ownerId: '',
      /** Admin role, scoped to `production` only. */
      productionToken: '',
      /** A token scoped to `staging`, and an account: targets of the routes that take an id. */
      stagingTokenId: '',
      viewerAccountId: '',
    };
    let seq = 0;

    const routesOf = (kind: RouteClass['kind']) => routes.filter((r) => classes.get(keyOf(r))?.kind === kind);
    const credentialRoutes = () =>
      routes.flatMap((r) => {
        const c = classes.get(keyOf(r));
        return c?.kind === 'credentials' ? [{ route: r, accepts: c.accepts }] : [];
      });

    const tokenCache = new Map<string, string>();
    async function userToken(ws: WorkspaceCredentials, user: string, tenant: string): Promise<string> {
      const cacheKey = `${ws.slug}\u0001${user}\u0001${tenant}`;
      const cached = tokenCache.get(cacheKey);
      if (cached !== undefined) return cached;
      const token = await new SignJWT({ entity_type: 'subscriber', entity_id: user, scope: { tenant_id: tenant } })
        .setProtectedHeader({ alg: 'ES256', kid: ws.kid })
        .setIssuedAt(Math.floor(clock.now() / 1000) - 60)
        .setExpirationTime(Math.floor(clock.now() / 1000) + 3600)
        .sign(createPrivateKey(ws.signingPem));
      tokenCache.set(cacheKey, token);
      return token;
    }

    /** Headers presenting `ws`'s credential of `kind` for `call`; client tokens are for `user` in `tenant`. */
    async function credentialHeaders(
      kind: CredentialKind,
      ws: WorkspaceCredentials,
      call: Call,
      subject: { user: string; tenant: string },
    ): Promise<Record<string, string>> {
      switch (kind) {
        case 'hmac': {
          const target = new URL(call.url, 'http://localhost');
          const date = new Date(clock.now()).toUTCString();
          return hmacHeaders(ws.workspaceKey, ws.secret, call.method, target.pathname + target.search, call.body, date);
        }
        case 'api_key':
          return { authorization: `Bearer ${ws.apiKey}` };
        case 'public_key':
          return { authorization: ws.publicKey, 'x-ss-signature': await userToken(ws, subject.user, subject.tenant) };
      }
    }

    async function send(call: Call, headers: Record<string, string>): Promise<LightMyRequestResponse> {
      const response = await app.inject({
        method: call.method as InjectOptions['method'],
        url: call.url,
        headers: { ...(call.body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(call.body === undefined ? {} : { payload: call.body }),
      });
      if (response.statusCode >= 500)
        serverErrors.push(`${call.method} ${call.url}: ${response.statusCode} ${response.body.slice(0, 300)}`);
      return response;
    }

    const signedAsStaging = async (method: Method, url: string, body?: unknown) => {
      const call: Call = { method, url, body: body === undefined ? undefined : JSON.stringify(body) };
      const response = await send(call, await credentialHeaders('hmac', staging, call, { user: '', tenant: '' }));
      assert.ok(response.statusCode < 300, `seeding ${method} ${url}: ${response.statusCode} ${response.body}`);
      return response.json() as Record<string, unknown>;
    };

    async function adminSession(): Promise<Record<string, string>> {
      const deps = createAdminGroupDeps(herald);
      const session = await deps.sessions.issue(admin.ownerId, { ip: '127.0.0.1', userAgent: 'route-matrix' }, undefined);
      return { cookie: `herald_session=${session.token}`, 'x-csrf-token': session.csrfToken };
    }

    async function workspaceCredentials(slug: string): Promise<WorkspaceCredentials> {
      const workspace = await herald.workspaces.get(slug);
      const signing = await herald.signingKeys.create(workspace, {});
      return {
        id: workspace.id,
        slug,
        workspaceKey: workspace.workspaceKey,
        secret: await herald.workspaceSecrets.reveal(workspace.id),
        apiKey: (await herald.apiKeys.create(workspace, { name: 'matrix' })).key,
        publicKey: (await herald.publicKeys.create(workspace, {})).key,
        signingPem: signing.pem,
        kid: signing.kid,
      };
    }

    /** Digest of staging's rows in DATA_TABLES. */
    const stagingDigest = () => workspaceDigest(herald, DATA_TABLES, staging.id, (key, value) => (key === 'last_used_at' ? null : value));

    /** Creates, in staging, what `route` names (with `ids`), each holding MARKER. Returns ids with the generated ones filled in. */
    async function seedStaging(route: Route, ids: Ids): Promise<Ids> {
      const url = route.url;
      const hasSampleBody = SAMPLE_BODIES[keyOf(route)] !== undefined;
      const seeded = { ...ids, wsKey: staging.workspaceKey };
      await signedAsStaging('POST', `/v1/user/${ids.user}`, { name: MARKER, secret_note: MARKER });
      await signedAsStaging('POST', `/v1/tenant/${ids.tenant}`, { tenant_name: MARKER, properties: { note: MARKER } });
      if (url.includes('preference') || url.includes('/category')) {
        await signedAsStaging('PATCH', `/v1/user/${ids.user}/preference/category/${CATEGORY}`, { preference: 'opt_out' });
        await signedAsStaging('PATCH', `/v1/tenant/${ids.tenant}/preference/category/${CATEGORY}`, { preference: 'opt_out' });
        await signedAsStaging('PATCH', `/v1/user/${ids.user}/preference/channel_preference?tenant_id=${ids.tenant}`, {
          channel_preferences: [{ channel: 'email', is_restricted: true }],
        });
      }
      if (url.startsWith('/v1/subscriber/')) {
        // The signed client SDKs name no tenant here (default): seed the default tenant's channels too.
        await signedAsStaging('PATCH', `/v1/user/${ids.user}/preference/channel_preference`, {
          channel_preferences: [{ channel: 'email', is_restricted: true }],
        });
      }
      if (url.includes('subscriber_list') || url.includes('broadcast') || url.includes('subscribed_to/list')) {
        await signedAsStaging('POST', '/v1/subscriber_list', { list_id: ids.list, list_name: MARKER, list_description: MARKER });
        await signedAsStaging('POST', `/v1/subscriber_list/${ids.list}/subscriber/add`, { distinct_ids: [ids.user] });
        if (url.includes(':versionId')) {
          const draft = await signedAsStaging('POST', `/v1/subscriber_list/${ids.list}/start_sync`, {});
          seeded.version = String(draft['version_id']);
          await signedAsStaging('POST', `/v1/subscriber_list/${ids.list}/version/${seeded.version}/subscriber/add`, {
            distinct_ids: [ids.user],
          });
        }
      }
      if (url.includes('_run/cancel')) {
        // A run of staging's that has not delivered yet (an hour ahead of the test clock), for the cancel routes to find or not.
        await signedAsStaging('POST', `/${staging.workspaceKey}/trigger`, {
          template: WORKFLOW,
          users: [{ distinct_id: ids.user }],
          delay: 3600,
          cancellation_key: ids.user,
        });
        if (url.includes('broadcast_run')) {
          await signedAsStaging('POST', `/${staging.workspaceKey}/broadcast`, { list_id: ids.list, template: WORKFLOW, delay: 3600 });
        }
      }
      if (url.includes('/object') || url.includes('subscribed_to/object')) {
        await signedAsStaging('POST', `/v1/object/${OBJECT_TYPE}/${ids.object}`, { name: MARKER });
        await signedAsStaging('POST', `/v1/object/${OBJECT_TYPE}/${ids.object}/subscription`, { recipients: [ids.user] });
      }
      if (url.includes(':tenantId') || url.includes('associated_tenant')) {
        await signedAsStaging('POST', `/v1/user/${ids.user}/tenant/${ids.tenant}`, {});
      }
      if (url.includes('/feed') || url.includes('/message') || (hasSampleBody && url.includes('notifications'))) {
        await signedAsStaging('POST', '/trigger', {
          workflow: WORKFLOW,
          recipients: [ids.user],
          tenant_id: ids.tenant,
          data: { note: MARKER },
        });
        const row = await herald.db
          .selectFrom('notifications')
          .select('id')
          .where('workspace_id', '=', staging.id)
          .where('distinct_id', '=', ids.user)
          .executeTakeFirstOrThrow();
        seeded.notification = row.id;
        const message = await herald.db
          .selectFrom('messages')
          .select('id')
          .where('workspace_id', '=', staging.id)
          .where('notification_id', '=', row.id)
          .executeTakeFirst();
        if (message) seeded.message = message.id;
      }
      return seeded;
    }

    before(async () => {
      t = await createTestEnv(engine);
      herald = await openHerald(t.config, { clock });
      // Before the app serves anything, so no cache holds the old setting.
      await herald.workspaces.setEnhancedSecurity('staging', true);
      await herald.workspaces.setEnhancedSecurity('production', true);
      // The /v1/subscriber/ routes of key+secret signed client SDKs answer 403 in enhanced security
      // unless the workspace allows them (test/signed-clients.test.ts covers the refusal).
      await herald.workspaces.setSignedClients('staging', true);
      await herald.workspaces.setSignedClients('production', true);
      adminWorkspace = (await herald.workspaces.create({ slug: 'matrix-admin', mode: 'test' })).slug;
      for (const slug of ['staging', 'production', adminWorkspace]) {
        const workspace = await herald.workspaces.get(slug);
        await new CategoryService(herald).apply(workspace.id, [{ slug: CATEGORY, name: 'Promotions' }]);
        await new WorkflowService(herald).apply(workspace.id, [
          { slug: WORKFLOW, category: CATEGORY, steps: [{ type: 'inbox', template: { text: 'Hello {{data.note}}' } }] },
        ]);
      }
      staging = await workspaceCredentials('staging');
      production = await workspaceCredentials('production');

      const deps = createAdminGroupDeps(herald);
      const cli = { type: 'cli' as const, id: null, label: 'cli:route-matrix', ip: null };
      const password = 'correct horse battery staple';
      admin.ownerId = (await deps.accounts.create({ email: 'owner@example.com', password, role: 'owner' }, { kind: 'cli' }, cli)).id;
      admin.viewerAccountId = (
        await deps.accounts.create({ email: 'viewer@example.com', password, role: 'viewer' }, { kind: 'cli' }, cli)
      ).id;
      admin.productionToken = (
        await deps.serviceTokens.create({ name: 'production-admin', role: 'admin', workspaces: ['production'] }, { kind: 'cli' }, cli)
      ).token;
      admin.stagingTokenId = (
        await deps.serviceTokens.create({ name: `staging ${MARKER}`, role: 'viewer', workspaces: ['staging'] }, { kind: 'cli' }, cli)
      ).id;

      const built = await buildAppWithRoutes(herald);
      app = built.app;
      routes.push(...built.routes);
      for (const route of routes) {
        const c = classify(route);
        if (typeof c !== 'string') classes.set(keyOf(route), c);
      }
    });

    after(async () => {
      await app?.close();
      await herald?.close();
      await t?.cleanup();
    });

    test('every registered route is classified: a route group, the admin group, or listed public with a reason', (context) => {
      assert.ok(routes.length > 100, `only ${routes.length} routes seen: is the onRoute observer wired?`);
      const problems = routes.flatMap((route) => {
        const c = classify(route);
        const unknown = unknownParams(route.url);
        return [
          ...(typeof c === 'string' ? [c] : []),
          ...(unknown.length > 0 ? [`${keyOf(route)}: no plausible value for ${unknown.join(', ')} (add it to PARAMS)`] : []),
        ];
      });
      assert.deepEqual(problems, [], `unclassified routes:\n  ${problems.join('\n  ')}`);
      const registered = new Set(routes.map(keyOf));
      const stale = [...Object.keys(PUBLIC_ROUTES), ...Object.keys(ADMIN_PUBLIC_ROUTES), ...Object.keys(SUBJECTLESS_CLIENT_ROUTES)].filter(
        (key) => !registered.has(key) && !OPTIONAL_PUBLIC_ROUTES.has(key),
      );
      assert.deepEqual(stale, [], 'listed routes that are not registered (remove them from the lists)');
      const counts: Record<string, number> = {};
      for (const route of routes) {
        const c = classes.get(keyOf(route)) as RouteClass;
        const name = c.kind === 'credentials' ? `credentials[${[...c.accepts].sort().join(',')}]` : c.kind;
        counts[name] = (counts[name] ?? 0) + 1;
      }
      // Each class the app has today is present: a route group renamed or dropped shows up here.
      for (const name of [
        'credentials[api_key,hmac]',
        'credentials[public_key]',
        'credentials[api_key,hmac,public_key]',
        'credentials[hmac]',
        'admin',
        'public',
      ]) {
        assert.ok((counts[name] ?? 0) > 0, `no route in class ${name}: ${JSON.stringify(counts)}`);
      }
      context.diagnostic(`route classes: ${JSON.stringify(counts)}`);
    });

    test('public routes answer without a credential (never 401, never 5xx)', async () => {
      const failures = new Failures();
      for (const route of routesOf('public')) {
        const call = buildCall(route, idsFor('public'), 'admin');
        const headers: Record<string, string> =
          route.method === 'OPTIONS'
            ? { origin: 'https://app.example.com', 'access-control-request-method': 'GET' }
            : { authorization: 'Bearer not-a-key' };
        const response = await send({ ...call, url: route.method === 'OPTIONS' ? '/v1/feed/notifications' : call.url }, headers);
        // Run from source without `npm run build`, the dashboard answers 503 by design (it has nothing to serve).
        const isUnbuiltDashboard = route.url.startsWith('/dashboard') && response.statusCode === 503 && response.body.includes('not built');
        if (response.statusCode === 401 || (response.statusCode >= 500 && !isUnbuiltDashboard)) {
          failures.add(route, `answered ${response.statusCode} without credentials: ${response.body.slice(0, 200)}`);
        }
      }
      failures.assertNone('public routes');
      assert.deepEqual(serverErrors, []);
    });

    test('no credential: every authenticated route answers 401', async () => {
      const failures = new Failures();
      const before = await stagingDigest();
      for (const { route, accepts } of credentialRoutes()) {
        const call = buildCall(route, idsFor('anon'), accepts.includes('public_key') ? 'public_key' : 'hmac');
        failures.expectStatus(route, 'no Authorization', await send(call, {}), [401], 'UNAUTHENTICATED');
        failures.expectStatus(route, 'empty Authorization', await send(call, { authorization: '' }), [401], 'UNAUTHENTICATED');
      }
      for (const route of routesOf('admin')) {
        const call = buildCall(route, idsFor('anon', { ws: 'staging' }), 'admin');
        failures.expectStatus(route, 'no session', await send(call, {}), [401], 'UNAUTHENTICATED');
        failures.expectStatus(route, 'unknown session', await send(call, { cookie: `herald_session=${'A'.repeat(43)}` }), [401]);
      }
      failures.assertNone('requests without a credential');
      assert.equal(await stagingDigest(), before, 'a request without a credential wrote to staging');
      assert.deepEqual(serverErrors, []);
    });

    test('a credential of a kind the route does not accept answers 401', async () => {
      const failures = new Failures();
      const before = await stagingDigest();
      const serviceToken = { authorization: `ServiceToken ${admin.productionToken}` };
      const session = await adminSession();
      for (const { route, accepts } of credentialRoutes()) {
        const ids = idsFor('kind');
        for (const kind of ALL_KINDS.filter((k) => !accepts.includes(k))) {
          const call = buildCall(route, ids, kind);
          const headers = await credentialHeaders(kind, staging, call, { user: ids.user, tenant: ids.tenant });
          failures.expectStatus(route, `staging ${kind}`, await send(call, headers), [401], 'UNAUTHENTICATED');
        }
        const call = buildCall(route, ids, accepts[0] as CredentialKind);
        failures.expectStatus(route, 'admin service token', await send(call, serviceToken), [401]);
        failures.expectStatus(route, 'admin session cookie', await send(call, session), [401], 'UNAUTHENTICATED');
      }
      for (const route of routesOf('admin')) {
        const ids = idsFor('kind', { ws: 'staging' });
        const call = buildCall(route, ids, 'admin');
        for (const kind of ALL_KINDS) {
          const headers = await credentialHeaders(kind, staging, call, { user: ids.user, tenant: ids.tenant });
          failures.expectStatus(route, `staging ${kind}`, await send(call, headers), [401], 'UNAUTHENTICATED');
        }
      }
      failures.assertNone('credentials of the wrong kind');
      assert.equal(await stagingDigest(), before, 'a request with the wrong kind of credential wrote to staging');
      assert.deepEqual(serverErrors, []);
    });

    test('client routes (enhanced security): no token 401, another user 403, another tenant 403', async () => {
      const failures = new Failures();
      const clientRoutes = credentialRoutes().filter(({ accepts }) => accepts.includes('public_key'));
      assert.ok(clientRoutes.length > 10);
      const ids = await seedStaging({ method: 'PATCH', url: '/v1/feed/notifications/:id/read', config: {} }, idsFor('client'));
      const before = await stagingDigest();
      for (const { route } of clientRoutes) {
        const call = buildCall(route, ids, 'public_key');
        failures.expectStatus(route, 'public key without a user token', await send(call, { authorization: staging.publicKey }), [401]);
        const subjectless = SUBJECTLESS_CLIENT_ROUTES[keyOf(route)] !== undefined;
        const otherUser = await send(
          call,
          await credentialHeaders('public_key', staging, call, { user: 'someone-else', tenant: ids.tenant }),
        );
        const otherTenant = await send(call, await credentialHeaders('public_key', staging, call, { user: ids.user, tenant: 'elsewhere' }));
        if (subjectless) {
          failures.expectStatus(route, 'token for another user (subjectless route)', otherUser, [200]);
          if (route.method !== 'HEAD' && !otherUser.body.includes('someone-else')) failures.add(route, 'does not name the token subject');
          failures.expectStatus(route, 'token for another tenant (subjectless route)', otherTenant, [200]);
        } else {
          failures.expectStatus(route, 'token for another user', otherUser, [403], 'SUBSCRIBER_MISMATCH');
          failures.expectStatus(route, 'token scoped to another tenant', otherTenant, [403], 'TENANT_NOT_IN_SCOPE');
        }
        for (const response of [otherUser, otherTenant]) {
          if (response.statusCode >= 400 && response.body.includes(MARKER)) failures.add(route, 'a rejection leaked staging data');
        }
      }
      failures.assertNone('client subject checks');
      assert.equal(await stagingDigest(), before, 'a refused client request wrote to staging');
      assert.deepEqual(serverErrors, []);
    });

    test("another workspace's credential answers as for a resource that exists nowhere, and leaks nothing", async (context) => {
      const failures = new Failures();
      const cases: Array<{ route: Route; kind: CredentialKind; seeded: Ids; missing: Ids }> = [];
      for (const { route, accepts } of credentialRoutes()) {
        for (const kind of accepts) {
          seq += 1;
          const tag = `x${seq}${kind[0]}`;
          cases.push({ route, kind, seeded: await seedStaging(route, idsFor(`s${tag}`)), missing: idsFor(`m${tag}`) });
        }
      }
      const before = await stagingDigest();
      for (const { route, kind, seeded, missing } of cases) {
        const answers: LightMyRequestResponse[] = [];
        for (const ids of [seeded, missing]) {
          const call = buildCall(route, ids, kind);
          answers.push(await send(call, await credentialHeaders(kind, production, call, { user: ids.user, tenant: ids.tenant })));
        }
        const [foreign, nowhere] = answers as [LightMyRequestResponse, LightMyRequestResponse];
        const label = `production ${kind}`;
        const foreignText = normalise(foreign.body, [seeded, missing]);
        const nowhereText = normalise(nowhere.body, [seeded, missing]);
        if (route.method === 'GET') {
          // The control: staging's own credential sees the resource, so production's answer above proves something.
          const call = buildCall(route, seeded, kind);
          const own = await send(call, await credentialHeaders(kind, staging, call, { user: seeded.user, tenant: seeded.tenant }));
          if (own.statusCode === foreign.statusCode && normalise(own.body, [seeded, missing]) === foreignText) {
            failures.add(route, `control: staging's own ${kind} gets the same answer as production's; seed what this route reads`);
          }
        }
        for (const secret of [MARKER, staging.id, staging.workspaceKey, seeded.notification, seeded.message, seeded.version]) {
          if (foreignText.includes(secret))
            failures.add(route, `${label}: the answer holds staging data (${secret}): ${foreignText.slice(0, 300)}`);
        }
        if (foreign.statusCode !== nowhere.statusCode) {
          failures.add(route, `${label}: ${foreign.statusCode} for staging's resource but ${nowhere.statusCode} for a missing one`);
        } else if (foreign.statusCode >= 300 && foreignText !== nowhereText) {
          failures.add(
            route,
            `${label}: answers differ:\n    staging's: ${foreignText.slice(0, 300)}\n    missing:   ${nowhereText.slice(0, 300)}`,
          );
        } else if (foreign.statusCode < 300 && foreignText !== nowhereText) {
          const [a, b] = [shapeOf(parseJson(foreignText)), shapeOf(parseJson(nowhereText))];
          if (JSON.stringify(a) !== JSON.stringify(b)) {
            failures.add(
              route,
              `${label}: 2xx answers of different shape:\n    staging's: ${foreignText.slice(0, 300)}\n    missing:   ${nowhereText.slice(0, 300)}`,
            );
          }
        }
        if (route.method !== 'HEAD' && foreign.statusCode >= 400 && errorOf(foreign) === undefined) {
          failures.add(route, `${label}: ${foreign.statusCode} without a JSON error body`);
        }
      }
      failures.assertNone("requests with another workspace's credential");
      assert.equal(await stagingDigest(), before, "a request with production's credential changed staging");
      assert.deepEqual(serverErrors, []);
      context.diagnostic(`cross-workspace cases (route × accepted kind): ${cases.length}`);
    });

    test('admin routes: a service token scoped to another workspace gets 404 as for a missing one, and sees nothing of it', async () => {
      const failures = new Failures();
      const apiKeys = await herald.apiKeys.list(staging.id);
      const publicKeys = await herald.publicKeys.list(staging.id);
      const seeded = idsFor('adm', {
        ws: 'staging',
        user: (await seedStaging({ method: 'GET', url: '/v1/user/:id', config: {} }, idsFor('adminview'))).user,
        list: (await seedStaging({ method: 'GET', url: '/v1/subscriber_list/:listId', config: {} }, idsFor('adminlist'))).list,
        message: (await seedStaging({ method: 'GET', url: '/v1/message', config: {} }, idsFor('adminmessage'))).message,
        account: admin.viewerAccountId,
        serviceToken: admin.stagingTokenId,
        apiKey: apiKeys[0]?.id ?? 'none',
        publicKey: publicKeys[0]?.id ?? 'none',
        kid: staging.kid,
      });
      const missing = idsFor('admmissing', { ws: 'no-such-workspace' });
      const headers = { authorization: `ServiceToken ${admin.productionToken}` };
      const before = await stagingDigest();
      for (const route of routesOf('admin')) {
        const foreign = await send(buildCall(route, seeded, 'admin'), headers);
        const nowhere = await send(buildCall(route, missing, 'admin'), headers);
        const foreignText = normalise(foreign.body, [seeded, missing]);
        const nowhereText = normalise(nowhere.body, [seeded, missing]);
        if (route.method === 'GET' && route.url.includes(':ws')) {
          const own = await send(buildCall(route, seeded, 'admin'), await adminSession());
          if (own.statusCode !== 200)
            failures.add(route, `control: the owner cannot read staging's resource: ${own.statusCode} ${own.body}`);
        }
        if (route.url.includes(':ws')) failures.expectStatus(route, 'production token on staging', foreign, [403, 404]);
        for (const secret of [MARKER, staging.id, staging.workspaceKey]) {
          if (foreignText.includes(secret)) failures.add(route, `the answer holds staging data (${secret}): ${foreignText.slice(0, 300)}`);
        }
        if (foreign.statusCode !== nowhere.statusCode || (foreign.statusCode >= 300 && foreignText !== nowhereText)) {
          failures.add(
            route,
            `staging's answer differs from a missing one's:\n    staging's: ${foreign.statusCode} ${foreignText.slice(0, 300)}\n    missing:   ${nowhere.statusCode} ${nowhereText.slice(0, 300)}`,
          );
        }
      }
      failures.assertNone('admin routes with a token of another workspace');
      assert.equal(await stagingDigest(), before, "a production token's request changed staging");
      assert.deepEqual(serverErrors, []);
    });

    test('a valid credential of every accepted kind passes authentication on every route', async () => {
      const failures = new Failures();
      for (const { route, accepts } of credentialRoutes()) {
        for (const kind of accepts) {
          seq += 1;
          const ids = idsFor(`ok${seq}${kind[0]}`);
          const call = buildCall(route, ids, kind);
          const response = await send(call, await credentialHeaders(kind, staging, call, { user: ids.user, tenant: ids.tenant }));
          if (response.statusCode === 401 || response.statusCode === 403) {
            failures.add(route, `staging ${kind}: ${response.statusCode} ${response.body.slice(0, 300)}`);
          }
        }
      }
      const workspace = await herald.workspaces.get(adminWorkspace);
      const ids = idsFor('okadmin', {
        ws: adminWorkspace,
        apiKey: (await herald.apiKeys.create(workspace, { name: 'doomed' })).id,
        publicKey: (await herald.publicKeys.create(workspace, {})).id,
        kid: (await herald.signingKeys.create(workspace, {})).kid,
        account: admin.viewerAccountId,
        serviceToken: admin.stagingTokenId,
      });
      for (const route of [...routesOf('admin'), ...routesOf('admin-public')]) {
        const response = await send(buildCall(route, ids, 'admin'), await adminSession());
        const isLogin = route.url === '/admin/api/login';
        if ((response.statusCode === 401 && !isLogin) || response.statusCode === 403) {
          failures.add(route, `owner session: ${response.statusCode} ${response.body.slice(0, 300)}`);
        }
      }
      failures.assertNone('valid credentials refused');
      assert.deepEqual(serverErrors, []);
    });
  });
}
