import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { InjectOptions, LightMyRequestResponse as InjectResponse } from 'fastify';
import { createAdminGroupDeps, type AdminGroupDeps } from '../src/admin/admin-group.js';
import { roleAtLeast, ROLES, type Role } from '../src/admin/admin-principal.js';
import { UserService } from '../src/users/users.service.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import type { Workspace } from '../src/workspaces/workspaces.service.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

const PASSWORD = 'correct horse battery staple';
const ORIGIN = 'http://localhost';
const CLI_ACTOR = { type: 'cli' as const, id: null, label: 'cli:test', ip: null };
const STALE_MS = 11 * 60_000;
/** The request log is flushed every second and revocations reach the credential cache within one poll. */
const WAIT_LIMIT_MS = 5_000;

/** Shapes of every secret Herald issues (as in test/credentials.test.ts and src/credentials/redact.ts). */
const SECRET_SHAPES: ReadonlyArray<readonly [string, RegExp]> = [
  ['workspace secret', /hws_(test|live)_[0-9A-Za-z]{46}/],
  ['API key', /hak_(test|live)_[0-9A-Za-z]{36}/],
  ['service token', /hst_[0-9A-Za-z]{36}/],
  ['private key PEM', /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/],
  ['base64 of a PEM', /LS0tLS1CRUdJTi/],
  ['JWT', /eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+/],
];

const HOOK_HEADER_VALUE = 'Bearer receiver-credential-42';

interface Session {
  cookie: string;
  csrf: string;
  ip: string;
}

interface Call {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  payload?: unknown;
}

/** Per-role things a route acts on (a key to revoke, a workflow to delete, a unique slug). */
interface Fixtures {
  role: Role;
  apiKeyId: string;
  publicKeyId: string;
  signingKid: string;
  workflowToDelete: string;
  importPem: string;
}

interface RouteCase {
  name: string;
  minRole: Role;
  isFresh: boolean;
  isWrite: boolean;
  success: number;
  call(f: Fixtures): Call;
}

const WS = '/admin/api/workspaces/staging';

function publicPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** Every route of the dashboard API, with the least role it needs. */
const ROUTES: RouteCase[] = [
  {
    name: 'list workspaces',
    minRole: 'viewer',
    isFresh: false,
    isWrite: false,
    success: 200,
    call: () => ({ method: 'GET', url: '/admin/api/workspaces' }),
  },
  {
    name: 'create workspace',
    minRole: 'admin',
    isFresh: true,
    isWrite: true,
    success: 201,
    call: (f) => ({ method: 'POST', url: '/admin/api/workspaces', payload: { slug: `matrix-${f.role}`, mode: 'test' } }),
  },
  { name: 'get workspace', minRole: 'viewer', isFresh: false, isWrite: false, success: 200, call: () => ({ method: 'GET', url: WS }) },
  {
    name: 'reveal secret',
    minRole: 'developer',
    isFresh: true,
    isWrite: false,
    success: 200,
    call: () => ({ method: 'GET', url: `${WS}/secret` }),
  },
  {
    name: 'rotate secret',
    minRole: 'admin',
    isFresh: true,
    isWrite: true,
    success: 200,
    call: () => ({ method: 'POST', url: `${WS}/secret/rotate`, payload: { grace: '24h' } }),
  },
  {
    name: 'toggle enhanced security',
    minRole: 'admin',
    isFresh: true,
    isWrite: true,
    success: 200,
    call: () => ({ method: 'PUT', url: `${WS}/enhanced-security`, payload: { enabled: false } }),
  },
  {
    name: 'list API keys',
    minRole: 'viewer',
    isFresh: false,
    isWrite: false,
    success: 200,
    call: () => ({ method: 'GET', url: `${WS}/api-keys` }),
  },
  {
    name: 'create API key',
    minRole: 'admin',
    isFresh: true,
    isWrite: true,
    success: 201,
    call: (f) => ({ method: 'POST', url: `${WS}/api-keys`, payload: { name: `matrix ${f.role}`, expires_in: '30d' } }),
  },
  {
    name: 'revoke API key',
    minRole: 'admin',
    isFresh: false,
    isWrite: true,
    success: 200,
    call: (f) => ({ method: 'DELETE', url: `${WS}/api-keys/${f.apiKeyId}` }),
  },
  {
    name: 'list public keys',
    minRole: 'viewer',
    isFresh: false,
    isWrite: false,
    success: 200,
    call: () => ({ method: 'GET', url: `${WS}/public-keys` }),
  },
  {
    name: 'create public key',
    minRole: 'admin',
    isFresh: true,
    isWrite: true,
    success: 201,
    call: () => ({ method: 'POST', url: `${WS}/public-keys`, payload: { name: 'web', allowed_origins: ['https://app.example.com'] } }),
  },
  {
    name: 'revoke public key',
    minRole: 'admin',
    isFresh: false,
    isWrite: true,
    success: 200,
    call: (f) => ({ method: 'DELETE', url: `${WS}/public-keys/${f.publicKeyId}` }),
  },
  {
    name: 'list signing keys',
    minRole: 'viewer',
    isFresh: false,
    isWrite: false,
    success: 200,
    call: () => ({ method: 'GET', url: `${WS}/signing-keys` }),
  },
  {
    name: 'create signing key',
    minRole: 'admin',
    isFresh: true,
    isWrite: true,
    success: 201,
    call: () => ({ method: 'POST', url: `${WS}/signing-keys`, payload: { name: 'tokens' } }),
  },
  {
    name: 'import signing key',
    minRole: 'admin',
    isFresh: true,
    isWrite: true,
    success: 201,
    call: (f) => ({ method: 'POST', url: `${WS}/signing-keys/import`, payload: { public_key_pem: f.importPem, name: 'mine' } }),
  },
  {
    name: 'revoke signing key',
    minRole: 'admin',
    isFresh: false,
    isWrite: true,
    success: 200,
    call: (f) => ({ method: 'DELETE', url: `${WS}/signing-keys/${f.signingKid}` }),
  },
  {
    name: 'search users',
    minRole: 'viewer',
    isFresh: false,
    isWrite: false,
    success: 200,
    call: () => ({ method: 'GET', url: `${WS}/users?search=ali` }),
  },
  {
    name: 'get user',
    minRole: 'viewer',
    isFresh: false,
    isWrite: false,
    success: 200,
    call: () => ({ method: 'GET', url: `${WS}/users/alice` }),
  },
  {
    name: 'list workflows',
    minRole: 'viewer',
    isFresh: false,
    isWrite: false,
    success: 200,
    call: () => ({ method: 'GET', url: `${WS}/workflows` }),
  },
  {
    name: 'get workflow',
    minRole: 'viewer',
    isFresh: false,
    isWrite: false,
    success: 200,
    call: () => ({ method: 'GET', url: `${WS}/workflows/with-hook` }),
  },
  {
    name: 'put workflow',
    minRole: 'developer',
    isFresh: false,
    isWrite: true,
    success: 200,
    call: (f) => ({
      method: 'PUT',
      url: `${WS}/workflows/matrix-${f.role}`,
      payload: { category: 'transactional', steps: [{ type: 'inbox', template: { text: 'Hi {{recipient.name}}' } }] },
    }),
  },
  {
    name: 'delete workflow',
    minRole: 'admin',
    isFresh: false,
    isWrite: true,
    success: 204,
    call: (f) => ({ method: 'DELETE', url: `${WS}/workflows/${f.workflowToDelete}` }),
  },
  {
    name: 'test trigger',
    minRole: 'developer',
    isFresh: false,
    isWrite: true,
    success: 202,
    call: () => ({ method: 'POST', url: `${WS}/workflows/welcome/test`, payload: { recipients: ['alice'], data: { order: 7 } } }),
  },
  {
    name: 'request log',
    minRole: 'viewer',
    isFresh: false,
    isWrite: false,
    success: 200,
    call: () => ({ method: 'GET', url: `${WS}/request-log?limit=20` }),
  },
  {
    name: 'workspace audit log',
    minRole: 'developer',
    isFresh: false,
    isWrite: false,
    success: 200,
    call: () => ({ method: 'GET', url: `${WS}/audit-log?limit=20` }),
  },
  {
    name: 'account audit log',
    minRole: 'admin',
    isFresh: false,
    isWrite: false,
    success: 200,
    call: () => ({ method: 'GET', url: '/admin/api/audit-log' }),
  },
];

function errorType(res: InjectResponse): string {
  return (res.json() as { error: { type: string } }).error.type;
}

let nextIp = 1;
function freshIp(): string {
  nextIp += 1;
  return `10.20.${Math.floor(nextIp / 250)}.${nextIp % 250}`;
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_LIMIT_MS;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (const engine of enginesUnderTest()) {
  describe(`admin API on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;
    let deps: AdminGroupDeps;
    let staging: Workspace;
    let production: Workspace;
    const emails: Record<Role, string> = {
      owner: 'owner@example.com',
      admin: 'admin@example.com',
      developer: 'dev@example.com',
      viewer: 'viewer@example.com',
    };
    const accountIds = {} as Record<Role, string>;
    /** Secrets handed out by fixtures: none may reach a viewer. */
    const knownSecrets: string[] = [];

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      deps = createAdminGroupDeps(h.herald);
      for (const role of ROLES) {
        const account = await deps.accounts.create({ email: emails[role], password: PASSWORD, role }, { kind: 'cli' }, CLI_ACTOR);
        accountIds[role] = account.id;
      }
      staging = await h.herald.workspaces.get('staging');
      production = await h.herald.workspaces.get('production');
      await new UserService(h.herald).upsert(staging.id, 'alice', { name: 'Alice Liddell', $email: ['alice@example.com'] });
      await new WorkflowService(h.herald).apply(staging.id, [
        {
          slug: 'welcome',
          name: 'Welcome',
          category: 'transactional',
          steps: [{ type: 'inbox', template: { header: 'Welcome {{recipient.name}}', text: 'Order {{data.order}}' } }],
        },
        {
          slug: 'with-hook',
          category: 'transactional',
          steps: [{ type: 'webhook', url: 'http://127.0.0.1:9/never-called', headers: { authorization: HOOK_HEADER_VALUE } }],
        },
      ]);
      const apiKey = await h.herald.apiKeys.create(staging, { name: 'fixture' });
      const signing = await h.herald.signingKeys.create(staging, { name: 'fixture' });
      knownSecrets.push(h.staging.secret, apiKey.key, signing.pem, signing.base64, HOOK_HEADER_VALUE);
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    function call(options: InjectOptions & { session?: Session; token?: string; ip?: string }): Promise<InjectResponse> {
      const { session, token, ip, ...rest } = options;
      const headers: Record<string, string> = { origin: ORIGIN, ...(rest.headers as Record<string, string> | undefined) };
      if (session) {
        headers['cookie'] = session.cookie;
        headers['x-csrf-token'] = session.csrf;
      }
      if (token !== undefined) headers['authorization'] = `ServiceToken ${token}`;
      return h.app.inject({ ...rest, headers, remoteAddress: ip ?? session?.ip ?? '127.0.0.1' });
    }

    async function signIn(role: Role, ip = freshIp()): Promise<Session> {
      const res = await call({ method: 'POST', url: '/admin/api/login', payload: { email: emails[role], password: PASSWORD }, ip });
      assert.equal(res.statusCode, 200, res.body);
      const cookie = res.cookies.find((c) => c.name === 'herald_session');
      assert.ok(cookie);
      return { cookie: `herald_session=${cookie.value}`, csrf: (res.json() as { csrf_token: string }).csrf_token, ip };
    }

    /** Everything a write could change, to prove a refused one changed nothing. */
    async function snapshot(): Promise<string> {
      const db = h.herald.db;
      const state = {
        workspaces: await db.selectFrom('workspaces').select(['id', 'enhanced_security']).orderBy('id').execute(),
        secrets: await db.selectFrom('workspace_secrets').select(['id', 'expires_at']).orderBy('id').execute(),
        apiKeys: await db.selectFrom('api_keys').select(['id', 'revoked_at']).orderBy('id').execute(),
        publicKeys: await db.selectFrom('public_keys').select(['id', 'revoked_at']).orderBy('id').execute(),
        signingKeys: await db.selectFrom('signing_keys').select(['id', 'revoked_at']).orderBy('id').execute(),
        workflows: await db.selectFrom('workflows').select(['workspace_id', 'slug', 'updated_at']).orderBy('slug').execute(),
        notifications: await db.selectFrom('notifications').select('id').orderBy('id').execute(),
        audit: await db.selectFrom('audit_log').select('id').orderBy('id').execute(),
      };
      return JSON.stringify(state);
    }

    async function fixturesFor(role: Role): Promise<Fixtures> {
      const apiKey = await h.herald.apiKeys.create(staging, { name: `to revoke ${role}` });
      knownSecrets.push(apiKey.key);
      const publicKey = await h.herald.publicKeys.create(staging, { name: `to revoke ${role}` });
      const signing = await h.herald.signingKeys.create(staging, { name: `to revoke ${role}` });
      knownSecrets.push(signing.pem, signing.base64);
      const workflowToDelete = `doomed-${role}`;
      await new WorkflowService(h.herald).apply(staging.id, [
        { slug: workflowToDelete, category: 'transactional', steps: [{ type: 'inbox', template: { text: 'x' } }] },
      ]);
      return { role, apiKeyId: apiKey.id, publicKeyId: publicKey.id, signingKid: signing.kid, workflowToDelete, importPem: publicPem() };
    }

    function assertNoSecret(text: string, where: string): void {
      for (const [what, shape] of SECRET_SHAPES) assert.ok(!shape.test(text), `${what} in ${where}: ${text.slice(0, 300)}`);
      for (const secret of knownSecrets) assert.ok(!text.includes(secret), `a known secret in ${where}`);
    }

    test('role matrix: every route answers each role by its least role; refused writes change nothing', async () => {
      for (const role of ROLES) {
        const session = await signIn(role);
        const fixtures = await fixturesFor(role);
        const before = await snapshot();
        for (const route of ROUTES) {
          const { method, url, payload } = route.call(fixtures);
          const res = await call({ method, url, payload: payload as InjectOptions['payload'], session });
          if (roleAtLeast(role, route.minRole)) {
            assert.equal(res.statusCode, route.success, `${role} ${route.name}: ${res.body}`);
          } else {
            assert.equal(res.statusCode, 403, `${role} ${route.name}: ${res.body}`);
            assert.equal(errorType(res), 'FORBIDDEN');
          }
          if (role === 'viewer') assertNoSecret(res.body, `the answer to a viewer's ${route.name}`);
        }
        const afterRun = await snapshot();
        if (role === 'viewer') assert.equal(afterRun, before, 'a viewer changed something');
        else assert.notEqual(afterRun, before);
      }
      // Reads a viewer may make hold no secret even after everything above (rotations, new keys).
      knownSecrets.push(await h.herald.workspaceSecrets.reveal(staging.id));
      const viewer = await signIn('viewer');
      const fixtures = await fixturesFor('viewer');
      for (const route of ROUTES.filter((r) => !r.isWrite)) {
        const { method, url } = route.call(fixtures);
        const res = await call({ method, url, session: viewer });
        assertNoSecret(res.body, `a viewer's ${route.name}`);
      }
    });

    test('viewers never see secrets: no key, secret, private key or webhook credential in any read', async () => {
      const viewer = await signIn('viewer');
      const keys = await call({ method: 'GET', url: `${WS}/api-keys`, session: viewer });
      const list = (keys.json() as { api_keys: Array<Record<string, unknown>> }).api_keys;
      assert.ok(list.length > 0);
      for (const key of list) {
        assert.equal(key['key'], undefined);
        assert.equal(key['key_hash'], undefined);
        assert.equal(typeof key['display_prefix'], 'string');
      }
      const signing = (await call({ method: 'GET', url: `${WS}/signing-keys`, session: viewer })).json() as {
        signing_keys: Array<Record<string, unknown>>;
      };
      for (const key of signing.signing_keys) {
        assert.equal(key['pem'], undefined);
        assert.equal(key['base64'], undefined);
        assert.match(String(key['public_key_pem']), /^-----BEGIN PUBLIC KEY-----/);
      }
      const hook = await call({ method: 'GET', url: `${WS}/workflows/with-hook`, session: viewer });
      assert.equal(hook.statusCode, 200);
      assert.ok(!hook.body.includes(HOOK_HEADER_VALUE));
      assert.match(hook.body, /"authorization":"\[hidden\]"/);
      const developer = await signIn('developer');
      const shown = await call({ method: 'GET', url: `${WS}/workflows/with-hook`, session: developer });
      assert.ok(shown.body.includes(HOOK_HEADER_VALUE), 'developers, who edit workflows, see webhook headers');
      // Credentials in the URL itself (Slack's secret is its path; others use the query or user info).
      const slackSecret = 'T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';
      await new WorkflowService(h.herald).apply(staging.id, [
        {
          slug: 'slack-hook',
          category: 'transactional',
          steps: [{ type: 'webhook', url: `https://hooks.slack.example/services/${slackSecret}` }],
        },
        {
          slug: 'query-hook',
          category: 'transactional',
          steps: [{ type: 'webhook', url: 'https://user:pw@hooks.example/in?token=s3cr3t' }],
        },
      ]);
      for (const slug of ['slack-hook', 'query-hook']) {
        const viewed = await call({ method: 'GET', url: `${WS}/workflows/${slug}`, session: viewer });
        assert.equal(viewed.statusCode, 200);
        for (const leaked of [slackSecret, 's3cr3t', 'pw@']) assert.ok(!viewed.body.includes(leaked), `${slug} shows ${leaked}`);
        assert.match(viewed.body, /"url":"https:\/\/hooks\.(slack\.)?example\/\[hidden\]"/);
        const edited = await call({ method: 'GET', url: `${WS}/workflows/${slug}`, session: developer });
        assert.ok(!edited.body.includes('[hidden]'), 'developers see the whole URL');
      }
      const listed = await call({ method: 'GET', url: `${WS}/workflows`, session: viewer });
      assert.ok(!listed.body.includes(slackSecret) && !listed.body.includes('s3cr3t'));

      const secret = await call({ method: 'GET', url: `${WS}/secret`, session: viewer });
      assert.equal(secret.statusCode, 403);
      assertNoSecret(secret.body, 'a refused reveal');
      const workspace = await call({ method: 'GET', url: WS, session: viewer });
      assert.equal(workspace.statusCode, 200);
      assert.equal((workspace.json() as { workspace_key: string }).workspace_key, staging.workspaceKey);
      assert.equal((workspace.json() as Record<string, unknown>)['workspace_secret'], undefined);
    });

    test('fresh login: secrets and credential creation need a password within 10 minutes; reauth restores it', async () => {
      const owner = await signIn('owner');
      const fixtures = await fixturesFor('owner');
      h.clock.advance(STALE_MS);
      const before = await snapshot();
      for (const route of ROUTES.filter((r) => r.isFresh)) {
        const { method, url, payload } = route.call({ ...fixtures, role: 'owner' });
        const res = await call({ method, url, payload: payload as InjectOptions['payload'], session: owner });
        assert.equal(res.statusCode, 403, `${route.name}: ${res.body}`);
        assert.equal(errorType(res), 'SESSION_NOT_FRESH', route.name);
      }
      assert.equal(await snapshot(), before, 'a stale session changed something');
      // Reads and revocations do not ask for the password again.
      assert.equal((await call({ method: 'GET', url: `${WS}/api-keys`, session: owner })).statusCode, 200);
      assert.equal((await call({ method: 'DELETE', url: `${WS}/api-keys/${fixtures.apiKeyId}`, session: owner })).statusCode, 200);

      const reauth = await call({ method: 'POST', url: '/admin/api/reauth', payload: { password: PASSWORD }, session: owner });
      assert.equal(reauth.statusCode, 200, reauth.body);
      const created = await call({ method: 'POST', url: `${WS}/api-keys`, payload: { name: 'after reauth' }, session: owner });
      assert.equal(created.statusCode, 201, created.body);
      const revealed = await call({ method: 'GET', url: `${WS}/secret`, session: owner });
      assert.equal(revealed.statusCode, 200);
      assert.equal(revealed.headers['cache-control'], 'no-store');
    });

    test('service-token scope: a workspace outside it is a 404 identical to a missing one, and nothing changes', async () => {
      const viewer = await deps.serviceTokens.create(
        { name: 'scoped viewer', role: 'viewer', workspaces: ['staging'] },
        { kind: 'cli' },
        CLI_ACTOR,
      );
      const admin = await deps.serviceTokens.create(
        { name: 'scoped admin', role: 'admin', workspaces: ['staging'] },
        { kind: 'cli' },
        CLI_ACTOR,
      );

      const listed = (await call({ method: 'GET', url: '/admin/api/workspaces', token: viewer.token })).json() as {
        workspaces: Array<{ slug: string }>;
      };
      assert.deepEqual(
        listed.workspaces.map((w) => w.slug),
        ['staging'],
      );

      const compare = async (token: string, method: Call['method'], suffix: string, payload?: unknown) => {
        const outside = await call({
          method,
          url: `/admin/api/workspaces/production${suffix}`,
          token,
          payload: payload as InjectOptions['payload'],
        });
        const missing = await call({
          method,
          url: `/admin/api/workspaces/no-such-ws${suffix}`,
          token,
          payload: payload as InjectOptions['payload'],
        });
        assert.equal(outside.statusCode, 404, `${method} production${suffix}: ${outside.body}`);
        assert.equal(missing.statusCode, 404);
        assert.equal(outside.body.replaceAll('production', '<ws>'), missing.body.replaceAll('no-such-ws', '<ws>'), `${method} ${suffix}`);
      };
      for (const suffix of ['', '/api-keys', '/public-keys', '/signing-keys', '/users', '/users/alice', '/workflows', '/request-log']) {
        await compare(viewer.token, 'GET', suffix);
      }
      const productionKey = await h.herald.apiKeys.create(production, { name: 'prod' });
      knownSecrets.push(productionKey.key);
      const before = await snapshot();
      await compare(admin.token, 'GET', '/secret');
      await compare(admin.token, 'GET', '/audit-log');
      await compare(admin.token, 'POST', '/api-keys', { name: 'sneaky' });
      await compare(admin.token, 'DELETE', `/api-keys/${productionKey.id}`);
      await compare(admin.token, 'POST', '/secret/rotate', {});
      await compare(admin.token, 'PUT', '/enhanced-security', { enabled: false });
      await compare(admin.token, 'POST', '/workflows/welcome/test', { recipients: ['alice'] });
      assert.equal(await snapshot(), before, 'a token reached a workspace outside its scope');

      // Installation-wide things are for unscoped principals.
      const create = await call({
        method: 'POST',
        url: '/admin/api/workspaces',
        token: admin.token,
        payload: { slug: 'by-token', mode: 'test' },
      });
      assert.equal(create.statusCode, 403);
      assert.equal((await call({ method: 'GET', url: '/admin/api/audit-log', token: admin.token })).statusCode, 403);
      // Dashboard accounts (emails, roles, last sign-in) belong to the installation too.
      const accounts = await call({ method: 'GET', url: '/admin/api/accounts', token: admin.token });
      assert.equal(accounts.statusCode, 403, accounts.body);
      assert.doesNotMatch(accounts.body, /@/);
      const invite = await call({
        method: 'POST',
        url: '/admin/api/accounts',
        token: admin.token,
        payload: { email: 'mallory@example.com', password: 'correct horse battery staple', role: 'owner' },
      });
      assert.equal(invite.statusCode, 403, invite.body);
      // Inside its scope the token works, without a password (tokens are always fresh).
      const inside = await call({ method: 'POST', url: `${WS}/public-keys`, token: admin.token, payload: {} });
      assert.equal(inside.statusCode, 201, inside.body);
    });

    test('audit: create, reveal, rotate, revoke and toggle are recorded with the account or token and the IP', async () => {
      const ip = '10.99.1.2';
      const admin = await signIn('admin', ip);
      const start = (await h.herald.audit.list(staging.id, { limit: 1 })).entries[0]?.id ?? 0;
      const ok = async (res: Promise<InjectResponse>, status: number) => {
        const done = await res;
        assert.equal(done.statusCode, status, done.body);
        return done.json() as Record<string, unknown>;
      };
      const key = await ok(call({ method: 'POST', url: `${WS}/api-keys`, payload: { name: 'audited' }, session: admin }), 201);
      await ok(call({ method: 'GET', url: `${WS}/secret`, session: admin }), 200);
      const rotated = await ok(call({ method: 'POST', url: `${WS}/secret/rotate`, payload: { grace: '0' }, session: admin }), 200);
      assert.equal(rotated['workspace_secret'], undefined, 'rotation does not hand the secret out unaudited');
      await ok(call({ method: 'DELETE', url: `${WS}/api-keys/${String(key['id'])}`, session: admin }), 200);
      await ok(call({ method: 'PUT', url: `${WS}/enhanced-security`, payload: { enabled: true }, session: admin }), 200);
      await ok(call({ method: 'PUT', url: `${WS}/enhanced-security`, payload: { enabled: false }, session: admin }), 200);
      const pk = await ok(call({ method: 'POST', url: `${WS}/public-keys`, payload: {}, session: admin }), 201);
      await ok(call({ method: 'DELETE', url: `${WS}/public-keys/${String(pk['id'])}`, session: admin }), 200);
      const sk = await ok(call({ method: 'POST', url: `${WS}/signing-keys`, payload: {}, session: admin }), 201);
      await ok(call({ method: 'DELETE', url: `${WS}/signing-keys/${String(sk['kid'])}`, session: admin }), 200);
      await ok(call({ method: 'POST', url: `${WS}/signing-keys/import`, payload: { public_key_pem: publicPem() }, session: admin }), 201);
      const created = await ok(
        call({ method: 'POST', url: '/admin/api/workspaces', payload: { slug: 'audited', mode: 'live' }, session: admin }),
        201,
      );
      assert.equal(created['enhanced_security'], true);

      // Through the API, as a developer reads the workspace's audit log.
      const developer = await signIn('developer');
      const page = (await call({ method: 'GET', url: `${WS}/audit-log?limit=200`, session: developer })).json() as {
        entries: Array<{
          id: number;
          action: string;
          actor: { type: string; id: string | null; label: string };
          ip: string | null;
          target: { id: string } | null;
        }>;
      };
      const mine = page.entries.filter((e) => e.id > start).reverse();
      assert.deepEqual(
        mine.map((e) => e.action),
        [
          'api_key.created',
          'workspace_secret.revealed',
          'workspace_secret.rotated',
          'api_key.revoked',
          'enhanced_security.enabled',
          'enhanced_security.disabled',
          'public_key.created',
          'public_key.revoked',
          'signing_key.created',
          'signing_key.revoked',
          'signing_key.imported',
        ],
      );
      for (const entry of mine) {
        assert.deepEqual(entry.actor, { type: 'account', id: accountIds.admin, label: emails.admin }, entry.action);
        assert.equal(entry.ip, ip, entry.action);
      }
      assert.equal(mine[0]?.target?.id, key['id']);
      assertNoSecret(JSON.stringify(page), 'the audit log');
      const newWorkspace = await h.herald.workspaces.get('audited');
      const creation = (await h.herald.audit.list(newWorkspace.id)).entries.find((e) => e.action === 'workspace.created');
      assert.equal(creation?.actor.id, accountIds.admin);
      assert.equal(creation?.ip, ip);

      // A service token is the actor of what it does.
      const token = await deps.serviceTokens.create({ name: 'deployer', role: 'admin' }, { kind: 'cli' }, CLI_ACTOR);
      await ok(call({ method: 'POST', url: `${WS}/api-keys`, payload: { name: 'by token' }, token: token.token, ip: '10.99.1.3' }), 201);
      const latest = (await h.herald.audit.list(staging.id, { limit: 1 })).entries[0];
      assert.equal(latest?.action, 'api_key.created');
      assert.deepEqual(latest?.actor, { type: 'service_token', id: token.id, label: 'deployer' });
      assert.equal(latest?.ip, '10.99.1.3');

      // Account-level entries (logins) are for admins, through their own route.
      const accountLog = (await call({ method: 'GET', url: '/admin/api/audit-log?limit=200', session: admin })).json() as {
        entries: Array<{ action: string; workspace_id: string | null }>;
      };
      assert.ok(accountLog.entries.some((e) => e.action === 'login.succeeded'));
      assert.ok(accountLog.entries.every((e) => e.workspace_id === null));
      assert.equal((await call({ method: 'GET', url: '/admin/api/audit-log', session: developer })).statusCode, 403);
    });

    test('API key flow: create, use over HTTP, see it in the request log, revoke, next call 401 with the precise reason', async () => {
      const admin = await signIn('admin');
      const created = await call({ method: 'POST', url: `${WS}/api-keys`, payload: { name: 'flow', expires_in: '7d' }, session: admin });
      assert.equal(created.statusCode, 201, created.body);
      const { id, key } = created.json() as { id: string; key: string };
      assert.match(key, /^hak_test_[0-9A-Za-z]{36}$/);
      knownSecrets.push(key);

      const whoami = () => fetch(`${h.baseUrl}/v1/auth/whoami`, { headers: { authorization: `Bearer ${key}` } });
      const first = await whoami();
      assert.equal(first.status, 200, await first.text());

      type Page = {
        entries: Array<{
          status: number;
          path: string;
          credential: { type: string; id: string };
          error: { code: string; reason: string } | null;
        }>;
      };
      const logFor = async (query: string) => {
        const res = await call({ method: 'GET', url: `${WS}/request-log?credential_id=${id}${query}`, session: admin });
        assert.equal(res.statusCode, 200, res.body);
        return res.json() as Page;
      };
      const used = await waitFor('the call in the request log', async () => (await logFor('')).entries.find((e) => e.status === 200));
      assert.equal(used.path, '/v1/auth/whoami');
      assert.deepEqual(used.credential, { type: 'api_key', id });

      const listed = (await call({ method: 'GET', url: `${WS}/api-keys`, session: admin })).json() as {
        api_keys: Array<{ id: string; status: string }>;
      };
      assert.equal(listed.api_keys.find((k) => k.id === id)?.status, 'active');
      const revoked = await call({ method: 'DELETE', url: `${WS}/api-keys/${id}`, session: admin });
      assert.equal(revoked.statusCode, 200);
      assert.equal((revoked.json() as { status: string }).status, 'revoked');

      // Every server drops its cached credentials within one change-feed poll.
      await new Promise((resolve) => setTimeout(resolve, t.config.invalidationPollMs * 4));
      const refused = await whoami();
      assert.equal(refused.status, 401);
      assert.equal(((await refused.json()) as { error: { type: string } }).error.type, 'KEY_REVOKED');

      const rejection = await waitFor('the rejection in the request log', async () => (await logFor('&status=errors')).entries[0]);
      assert.equal(rejection.status, 401);
      assert.equal(rejection.error?.code, 'KEY_REVOKED');
      assert.match(rejection.error?.reason ?? '', new RegExp(`^API key ${id} revoked \\d+ (ms|s) ago$`));
      assert.ok((await logFor('&status=errors')).entries.every((e) => e.status >= 400));
      assertNoSecret(JSON.stringify(await logFor('')), 'the request log');
    });

    test('test trigger delivers an inbox notification through the real pipeline', async () => {
      const developer = await signIn('developer');
      const put = await call({
        method: 'PUT',
        url: `${WS}/workflows/order-shipped`,
        payload: {
          slug: 'order-shipped',
          name: 'Order shipped',
          category: 'transactional',
          steps: [{ type: 'inbox', template: { header: 'Order {{data.order_id}} shipped', text: 'Hi {{recipient.name}}' } }],
        },
        session: developer,
      });
      assert.equal(put.statusCode, 200, put.body);
      assert.equal((put.json() as { name: string }).name, 'Order shipped');

      const fired = await call({
        method: 'POST',
        url: `${WS}/workflows/order-shipped/test`,
        payload: { recipients: [{ distinct_id: 'carol', name: 'Carol', $email: ['carol@example.com'] }], data: { order_id: 'A-17' } },
        session: developer,
      });
      assert.equal(fired.statusCode, 202, fired.body);
      const { message_id } = fired.json() as { message_id: string };
      assert.equal(typeof message_id, 'string');

      const user = await call({ method: 'GET', url: `${WS}/users/carol`, session: developer });
      assert.equal(user.statusCode, 200, user.body);
      const detail = user.json() as {
        user: { distinct_id: string; properties: Record<string, unknown>; $email: Array<{ value: string }> };
        preferences: { sections: unknown[]; channel_preferences: unknown[] };
        notifications: Array<{ n_id: string; n_category: string; tenant_id: string; message: { header: string; text: string } }>;
      };
      assert.equal(detail.user.distinct_id, 'carol');
      assert.equal(detail.user.properties['name'], 'Carol');
      assert.equal(detail.user.$email[0]?.value, 'carol@example.com');
      assert.ok(Array.isArray(detail.preferences.sections) && Array.isArray(detail.preferences.channel_preferences));
      assert.equal(detail.notifications.length, 1);
      assert.equal(detail.notifications[0]?.message.header, 'Order A-17 shipped');
      assert.equal(detail.notifications[0]?.message.text, 'Hi Carol');
      assert.equal(detail.notifications[0]?.n_category, 'transactional');
      assert.equal(detail.notifications[0]?.tenant_id, 'default');

      const missing = await call({
        method: 'POST',
        url: `${WS}/workflows/nope/test`,
        payload: { recipients: ['carol'] },
        session: developer,
      });
      assert.equal(missing.statusCode, 404);
    });

    test('users: search by distinct_id prefix and by email or name substring, paged by distinct_id', async () => {
      const users = new UserService(h.herald);
      await users.upsert(staging.id, 'bob-1', { name: 'Robert Tables', $email: ['bob@corp.example'] });
      await users.upsert(staging.id, 'bob-2', { name: 'Bobby 100%_sure' });
      await users.upsert(staging.id, 'zed', { name: 'Zed', $email: ['z@EXAMPLE.org'] });
      const viewer = await signIn('viewer');
      const search = async (query: string) => {
        const res = await call({ method: 'GET', url: `${WS}/users?${query}`, session: viewer });
        assert.equal(res.statusCode, 200, res.body);
        const body = res.json() as { users: Array<{ distinct_id: string }>; next: string | null };
        return { ids: body.users.map((u) => u.distinct_id), next: body.next };
      };
      assert.deepEqual((await search('search=bob-')).ids, ['bob-1', 'bob-2']);
      assert.deepEqual((await search('search=corp.EXAMPLE')).ids, ['bob-1'], 'email, case-insensitive');
      assert.deepEqual((await search('search=liddell')).ids, ['alice'], 'name, case-insensitive');
      assert.deepEqual((await search(`search=${encodeURIComponent('100%_')}`)).ids, ['bob-2'], 'LIKE wildcards are literal');
      assert.deepEqual((await search('search=%25')).ids, ['bob-2']);
      assert.deepEqual((await search('search=example.org')).ids, ['zed']);
      assert.deepEqual((await search('search=nobody-matches')).ids, []);
      const first = await search('search=b&limit=1');
      assert.deepEqual(first, { ids: ['bob-1'], next: 'bob-1' });
      assert.deepEqual(await search('search=b&limit=1&after=bob-1'), { ids: ['bob-2'], next: null }, 'the last page says so');
      assert.deepEqual(await search('search=b&limit=1&after=bob-2'), { ids: [], next: null });
      const all = await search('limit=200');
      assert.ok(all.ids.includes('alice') && all.ids.includes('zed'));
      assert.equal((await call({ method: 'GET', url: `${WS}/users/nobody`, session: viewer })).statusCode, 404);
    });

    test('a workflow as read can be saved back unchanged (created_at and updated_at are ignored)', async () => {
      const developer = await signIn('developer');
      const read = await call({ method: 'GET', url: `${WS}/workflows/welcome`, session: developer });
      assert.equal(read.statusCode, 200, read.body);
      const workflow = read.json() as { created_at: number; updated_at: number };
      assert.ok(workflow.created_at > 0 && workflow.updated_at > 0);
      const saved = await call({ method: 'PUT', url: `${WS}/workflows/welcome`, payload: workflow, session: developer });
      assert.equal(saved.statusCode, 200, saved.body);
      assert.equal((saved.json() as { created_at: number }).created_at, workflow.created_at);
      const typo = await call({ method: 'PUT', url: `${WS}/workflows/welcome`, payload: { ...workflow, stepz: [] }, session: developer });
      assert.equal(typo.statusCode, 400, 'other unknown keys are still refused');
    });

    test('bad input is a 400 with a clear message, and changes nothing', async () => {
      const owner = await signIn('owner');
      const before = await snapshot();
      const cases: Array<[Call, RegExp]> = [
        [{ method: 'POST', url: `${WS}/api-keys`, payload: {} }, /name/],
        [{ method: 'POST', url: `${WS}/api-keys`, payload: { name: '  ' } }, /name must be 1-100 characters/],
        [{ method: 'POST', url: `${WS}/api-keys`, payload: { name: 'x', expires_in: 'soon' } }, /expires_in must be a duration/],
        [{ method: 'POST', url: `${WS}/api-keys`, payload: { name: 'x', expires_in: '0' } }, /expires_in must be a duration/],
        [{ method: 'POST', url: `${WS}/api-keys`, payload: { name: 'x', scope: 'all' } }, /scope|unrecognized/i],
        [{ method: 'POST', url: `${WS}/public-keys`, payload: { allowed_origins: ['not an origin'] } }, /is not an origin/],
        [{ method: 'POST', url: `${WS}/signing-keys/import`, payload: { public_key_pem: 'nope' } }, /./],
        [{ method: 'POST', url: `${WS}/secret/rotate`, payload: { grace: 'a day' } }, /grace must be a duration/],
        [{ method: 'PUT', url: `${WS}/enhanced-security`, payload: { enabled: 'yes' } }, /enabled must be true or false/],
        [{ method: 'POST', url: '/admin/api/workspaces', payload: { slug: 'Bad Slug', mode: 'test' } }, /invalid workspace slug/],
        [{ method: 'POST', url: '/admin/api/workspaces', payload: { slug: 'fine' } }, /mode/],
        [{ method: 'PUT', url: `${WS}/workflows/a`, payload: { slug: 'b', category: 'c', steps: [] } }, /differs from the path/],
        [{ method: 'PUT', url: `${WS}/workflows/a`, payload: { category: 'c', steps: [] } }, /invalid workflow/],
        [
          {
            method: 'PUT',
            url: `${WS}/workflows/a`,
            payload: { category: 'c', steps: [{ type: 'inbox', template: { text: '{{#if}}' } }] },
          },
          /invalid workflow/,
        ],
        [{ method: 'POST', url: `${WS}/workflows/welcome/test`, payload: { recipients: [] } }, /recipients/],
        [{ method: 'POST', url: `${WS}/workflows/welcome/test`, payload: { recipients: [42.5] } }, /recipients\[0\]/],
        [{ method: 'GET', url: `${WS}/request-log?limit=abc` }, /limit must be a whole number/],
        [{ method: 'GET', url: `${WS}/request-log?status=bad` }, /status must be "all" or "errors"/],
        [{ method: 'GET', url: `${WS}/request-log?before=yesterday` }, /before must be a cursor/],
        [{ method: 'GET', url: `${WS}/users?limit=0` }, /limit must be a whole number/],
      ];
      for (const [request, message] of cases) {
        const res = await call({ ...request, payload: request.payload as InjectOptions['payload'], session: owner });
        assert.equal(res.statusCode, 400, `${request.method} ${request.url} ${JSON.stringify(request.payload)}: ${res.body}`);
        assert.match((res.json() as { message: string }).message, message, `${request.method} ${request.url}`);
      }
      const duplicate = await call({
        method: 'POST',
        url: '/admin/api/workspaces',
        payload: { slug: 'staging', mode: 'test' },
        session: owner,
      });
      assert.equal(duplicate.statusCode, 409);
      assert.match((duplicate.json() as { message: string }).message, /already exists/);
      assert.equal(await snapshot(), before, 'a refused request changed something');
      const unknownKey = await call({ method: 'DELETE', url: `${WS}/api-keys/ak_doesNotExist`, session: owner });
      assert.equal(unknownKey.statusCode, 404);
    });
  });
}
