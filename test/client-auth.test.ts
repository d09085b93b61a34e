import assert from 'node:assert/strict';
import { createPrivateKey, createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { suprsendClient, WorkflowTriggerRequest } from './helpers/sdk.js';

/**
 * The shared auth battery: every client route, every way a client credential can be wrong.
 * Each rejection must have the right status and error type, leak nothing, and write nothing.
 */

interface ClientRoute {
  name: string;
  method: 'GET' | 'POST' | 'PATCH';
  /** Path and query for user `u` in tenant `t`. */
  url: (u: string, t: string, notificationId: string) => string;
  body?: (u: string, t: string, notificationId: string) => unknown;
  /** Whether the route takes a tenant (so a token scoped elsewhere is a 403). */
  hasTenant: boolean;
}

const ROUTES: ClientRoute[] = [
  {
    name: 'track event',
    method: 'POST',
    url: () => '/v2/event',
    body: (u, t) => ({ event: 'clicked_button', distinct_id: u, tenant_id: t, $insert_id: `ins-${Math.random()}`, properties: {} }),
    hasTenant: true,
  },
  {
    name: 'profile edit',
    method: 'POST',
    url: () => '/v2/event',
    body: (u) => ({ distinct_id: u, $insert_id: `ins-${Math.random()}`, $set: { plan: 'hacked' } }),
    hasTenant: false,
  },
  { name: 'full preferences', method: 'GET', url: (u, t) => `/v2/subscriber/${u}/full_preference/?tenant_id=${t}`, hasTenant: true },
  { name: 'categories', method: 'GET', url: (u, t) => `/v2/subscriber/${u}/category/?tenant_id=${t}`, hasTenant: true },
  { name: 'category', method: 'GET', url: (u, t) => `/v2/subscriber/${u}/category/promotional/?tenant_id=${t}`, hasTenant: true },
  {
    name: 'update category',
    method: 'PATCH',
    url: (u, t) => `/v2/subscriber/${u}/category/promotional/?tenant_id=${t}`,
    body: () => ({ preference: 'opt_out', opt_out_channels: null }),
    hasTenant: true,
  },
  { name: 'channel preferences', method: 'GET', url: (u, t) => `/v2/subscriber/${u}/channel_preference/?tenant_id=${t}`, hasTenant: true },
  {
    name: 'update channel preferences',
    method: 'PATCH',
    url: (u, t) => `/v2/subscriber/${u}/channel_preference/?tenant_id=${t}`,
    body: () => ({ channel_preferences: [{ channel: 'email', is_restricted: true }] }),
    hasTenant: true,
  },
  {
    name: 'feed',
    method: 'GET',
    url: (u, t) => `/v1/feed/notifications?distinct_id=${u}&tenant_id=${t}&page_size=20&search_after=[]`,
    hasTenant: true,
  },
  { name: 'count', method: 'GET', url: (u, t) => `/v1/feed/notifications_count?distinct_id=${u}&tenant_id=${t}`, hasTenant: true },
  { name: 'notification', method: 'GET', url: (u, t, n) => `/v1/feed/notifications/${n}?distinct_id=${u}&tenant_id=${t}`, hasTenant: true },
  {
    name: 'mark read',
    method: 'PATCH',
    url: (u, t, n) => `/v1/feed/notifications/${n}/read?distinct_id=${u}&tenant_id=${t}`,
    body: () => ({}),
    hasTenant: true,
  },
  {
    name: 'archive',
    method: 'PATCH',
    url: (u, t, n) => `/v1/feed/notifications/${n}/archive?distinct_id=${u}&tenant_id=${t}`,
    body: () => ({}),
    hasTenant: true,
  },
  {
    name: 'bulk seen',
    method: 'POST',
    url: (u, t) => `/v1/feed/bulk/notifications/seen?distinct_id=${u}&tenant_id=${t}`,
    body: (_u, _t, n) => ({ notification_ids: [n] }),
    hasTenant: true,
  },
  {
    name: 'reset bell',
    method: 'PATCH',
    url: (u, t) => `/v1/feed/reset_bell_count?distinct_id=${u}&tenant_id=${t}`,
    body: () => ({}),
    hasTenant: true,
  },
  {
    name: 'mark all read',
    method: 'PATCH',
    url: (u, t) => `/v1/feed/mark_all_read?distinct_id=${u}&tenant_id=${t}`,
    body: () => ({}),
    hasTenant: true,
  },
];

for (const engine of enginesUnderTest()) {
  describe(`client auth battery on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;
    let publicKey: string;
    let revokedPublicKey: string;
    let notificationId: string;
    const tokens: Record<string, string> = {};

    const sign = (pem: string, kid: string | undefined, claims: Record<string, unknown>, expOffsetS = 3600) =>
      new SignJWT({ entity_type: 'subscriber', entity_id: 'alice', ...claims })
        .setProtectedHeader(kid ? { alg: 'ES256', kid } : { alg: 'ES256' })
        .setIssuedAt(Math.floor(h.clock.now() / 1000) - 60)
        .setExpirationTime(Math.floor(h.clock.now() / 1000) + expOffsetS)
        .sign(createPrivateKey(pem));

    /** Everything a client request could write, as one digest. */
    const snapshot = async () => {
      const parts: unknown[] = [];
      for (const table of ['events', 'user_preferences', 'user_channel_preferences', 'notifications', 'users', 'inbox_badges'] as const) {
        try {
          parts.push(await h.herald.db.selectFrom(table).selectAll().execute());
        } catch {
          parts.push(null);
        }
      }
      return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
    };

    const call = (route: ClientRoute, headers: Record<string, string>, user = 'alice', tenant = 'default') =>
      h.app.inject({
        method: route.method,
        url: route.url(user, tenant, notificationId),
        headers: { 'content-type': 'application/json', ...headers },
        ...(route.body ? { payload: JSON.stringify(route.body(user, tenant, notificationId)) } : {}),
      });

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      const staging = await h.herald.workspaces.get('staging');
      const production = await h.herald.workspaces.get('production');
      publicKey = (await h.herald.publicKeys.create(staging, {})).key;
      const revoked = await h.herald.publicKeys.create(staging, {});
      revokedPublicKey = revoked.key;
      await h.herald.publicKeys.revoke(staging, revoked.id);
      const signing = await h.herald.signingKeys.create(staging, {});
      const revokedSigning = await h.herald.signingKeys.create(staging, {});
      const foreign = await h.herald.signingKeys.create(production, {});
      const { CategoryService } = await import('../src/preferences/categories.service.js');
      await new CategoryService(h.herald).apply(staging.id, [{ slug: 'promotional', name: 'Promotions' }]);
      await new WorkflowService(h.herald).apply(staging.id, [
        { slug: 'hello', category: 'promotional', steps: [{ type: 'inbox', template: { text: 'Hello' } }] },
      ]);
      const backend = suprsendClient(h.staging.workspaceKey, h.staging.secret, h.baseUrl);
      await backend.workflows.trigger(new WorkflowTriggerRequest({ workflow: 'hello', recipients: ['alice', 'bob'], data: {} }));
      const row = await h.herald.db.selectFrom('notifications').select('id').where('distinct_id', '=', 'alice').executeTakeFirstOrThrow();
      notificationId = row.id;

      tokens['valid'] = await sign(signing.pem, signing.kid, {});
      tokens['expired'] = await sign(signing.pem, signing.kid, {}, -600);
      tokens['otherWorkspace'] = await sign(foreign.pem, undefined, {});
      tokens['revokedKey'] = await sign(revokedSigning.pem, revokedSigning.kid, {});
      tokens['otherUser'] = await sign(signing.pem, signing.kid, { entity_id: 'bob' });
      tokens['otherTenant'] = await sign(signing.pem, signing.kid, { scope: { tenant_id: 'acme' } });
      tokens['hs256'] = await new SignJWT({ entity_type: 'subscriber', entity_id: 'alice' })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime(Math.floor(h.clock.now() / 1000) + 3600)
        .sign(new TextEncoder().encode('a-shared-secret-that-is-long-enough'));
      await h.herald.signingKeys.revoke(staging, revokedSigning.kid);
      await h.herald.workspaces.setEnhancedSecurity('staging', true);
      await new Promise((resolve) => setTimeout(resolve, t.config.invalidationPollMs * 4));
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    test('a valid token reaches every route', async () => {
      for (const route of ROUTES) {
        const response = await call(route, { authorization: publicKey, 'x-ss-signature': tokens['valid'] as string });
        assert.ok(response.statusCode < 300, `${route.name}: ${response.statusCode} ${response.body}`);
      }
    });

    test('every wrong credential is rejected with the right status, leaks nothing and writes nothing', async () => {
      const cases: Array<{
        name: string;
        headers: Record<string, string>;
        status: number;
        type: string;
        tenant?: string;
        onlyWithTenant?: boolean;
      }> = [
        { name: 'no key', headers: {}, status: 401, type: 'UNAUTHENTICATED' },
        {
          name: 'unknown key',
          headers: { authorization: 'hpk_test_AAAAAAAAAAAAAAAAAAAAAAAA', 'x-ss-signature': tokens['valid'] as string },
          status: 401,
          type: 'UNAUTHENTICATED',
        },
        {
          name: 'revoked key',
          headers: { authorization: revokedPublicKey, 'x-ss-signature': tokens['valid'] as string },
          status: 401,
          type: 'KEY_REVOKED',
        },
        { name: 'no token in enhanced mode', headers: { authorization: publicKey }, status: 401, type: 'UNAUTHENTICATED' },
        {
          name: 'expired token',
          headers: { authorization: publicKey, 'x-ss-signature': tokens['expired'] as string },
          status: 401,
          type: 'TOKEN_EXPIRED',
        },
        {
          name: 'wrong algorithm',
          headers: { authorization: publicKey, 'x-ss-signature': tokens['hs256'] as string },
          status: 401,
          type: 'TOKEN_INVALID',
        },
        {
          name: "other workspace's signing key",
          headers: { authorization: publicKey, 'x-ss-signature': tokens['otherWorkspace'] as string },
          status: 401,
          type: 'TOKEN_INVALID',
        },
        {
          name: 'revoked signing key',
          headers: { authorization: publicKey, 'x-ss-signature': tokens['revokedKey'] as string },
          status: 401,
          type: 'TOKEN_INVALID',
        },
        {
          name: 'entity mismatch',
          headers: { authorization: publicKey, 'x-ss-signature': tokens['otherUser'] as string },
          status: 403,
          type: 'SUBSCRIBER_MISMATCH',
        },
        {
          name: 'tenant mismatch',
          headers: { authorization: publicKey, 'x-ss-signature': tokens['otherTenant'] as string },
          status: 403,
          type: 'TENANT_NOT_IN_SCOPE',
          onlyWithTenant: true,
        },
      ];
      const before = await snapshot();
      for (const c of cases) {
        for (const route of ROUTES) {
          if (c.onlyWithTenant && !route.hasTenant) continue;
          const response = await call(route, c.headers);
          assert.equal(response.statusCode, c.status, `${c.name} on ${route.name}: ${response.body}`);
          const body = response.json() as { status: string; error: { type: string; message: string }; results?: unknown };
          assert.equal(body.status, 'error');
          assert.equal(body.error.type, c.type, `${c.name} on ${route.name}`);
          assert.equal(body.results, undefined);
          assert.ok(!response.body.includes(notificationId), `${c.name} on ${route.name} leaked a notification id`);
          assert.ok(!response.body.includes('bob'), `${c.name} on ${route.name} leaked another user`);
        }
      }
      assert.equal(await snapshot(), before, 'a rejected request wrote something');
    });

    test('browser pre-flights are answered on client routes only', async () => {
      const preflight = (url: string) =>
        h.app.inject({
          method: 'OPTIONS',
          url,
          headers: {
            origin: 'https://app.example.com',
            'access-control-request-method': 'GET',
            'access-control-request-headers': 'authorization,x-ss-signature,content-type',
          },
        });
      const client = await preflight('/v1/feed/notifications?distinct_id=alice');
      assert.equal(client.statusCode, 204);
      assert.equal(client.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.match(String(client.headers['access-control-allow-headers']), /x-ss-signature/);
      const backend = await preflight('/v1/user/alice');
      assert.equal(backend.headers['access-control-allow-origin'], undefined, 'backend routes are not callable from browser pages');
    });

    test('an event without tenant_id is user-level and accepted for any scope; one naming a tenant outside it is refused', async () => {
      const route = ROUTES[0] as ClientRoute;
      const scoped = { authorization: publicKey, 'x-ss-signature': tokens['otherTenant'] as string };
      const userLevel = await h.app.inject({
        method: 'POST',
        url: '/v2/event',
        headers: { 'content-type': 'application/json', ...scoped },
        payload: JSON.stringify({ event: '$identify', $insert_id: 'identify-1', properties: { $identified_id: 'alice' } }),
      });
      assert.equal(userLevel.statusCode, 202, userLevel.body);
      const outside = await call(route, scoped, 'alice', 'default');
      assert.equal(outside.statusCode, 403);
      const inside = await call(route, scoped, 'alice', 'acme');
      assert.equal(inside.statusCode, 202, inside.body);
    });
  });
}
