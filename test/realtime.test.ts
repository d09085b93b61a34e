import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SuprSend, type Feed } from '@suprsend/web-sdk';
import { SignJWT } from 'jose';
import { io as connectSocket, type Socket as ClientSocket } from 'socket.io-client';
import { CLOCK_LEEWAY_S } from '../src/auth/user-token.js';
import type { JsonObject } from '../src/lib/json.js';
import { AUTH_ERROR_MESSAGE } from '../src/realtime/socket-server.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { suprsendClient, WorkflowTriggerRequest } from './helpers/sdk.js';
import { waitFor } from './helpers/webhook-receiver.js';

/**
 * The in-app feed socket (reference/client-sdk-protocol.md §2.2, §2.3, §6.1): the unmodified web
 * SDK and raw socket.io clients against a real server, deliveries triggered through the unmodified
 * Node SDK, on both engines, and across two processes sharing Redis.
 */

const WORKFLOW = 'realtime-note';
const REDIS_URL = 'redis://127.0.0.1:6379';
/** How long a socket that must get nothing is watched after the recipient got its event. */
const QUIET_MS = 400;
const EVENT_TIMEOUT_MS = 10_000;

type Backend = ReturnType<typeof suprsendClient>;
/** Strings, and numbers where apps pass identify(12345)'s id through. */
type HandshakeAuth = Record<string, string | number | undefined>;

interface TokenClaims {
  user: string;
  tenant?: string;
  /** Epoch seconds. */
  exp: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function mintToken(pem: string, kid: string, claims: TokenClaims): Promise<string> {
  return new SignJWT({
    entity_type: 'subscriber',
    entity_id: claims.user,
    ...(claims.tenant === undefined ? {} : { scope: { tenant_id: claims.tenant } }),
  })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuedAt(claims.exp - 7200)
    .setExpirationTime(claims.exp)
    .sign(createPrivateKey(pem));
}

const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

/** The SDK keeps its socket private; listening on that very socket shows what the SDK receives. */
function socketOf(feed: Feed): ClientSocket {
  return (feed as unknown as { socket: ClientSocket }).socket;
}

/** Payloads of one event as they arrive. */
function collect(socket: ClientSocket, event: string): JsonObject[] {
  const seen: JsonObject[] = [];
  socket.on(event, (payload: JsonObject) => seen.push(payload));
  return seen;
}

/** Resolves on connect; rejects with the server's connect_error message. */
function connected(socket: ClientSocket): Promise<void> {
  if (socket.connected) return Promise.resolve();
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', (error: Error) => reject(new Error(`connect_error: ${error.message}`)));
  });
}

/** Resolves with the connect_error message; rejects if the handshake is accepted. */
function rejection(socket: ClientSocket): Promise<string> {
  return new Promise((resolve, reject) => {
    socket.once('connect_error', (error: Error) => resolve(error.message));
    socket.once('connect', () => reject(new Error('the handshake was accepted')));
  });
}

function disconnection(socket: ClientSocket, timeoutMs = EVENT_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not disconnected within ${timeoutMs} ms`)), timeoutMs);
    socket.once('disconnect', (reason: string) => {
      clearTimeout(timer);
      resolve(reason);
    });
  });
}

/** A raw socket.io client with exactly the web SDK's options, minus reconnection (each test decides). */
function openSocket(baseUrl: string, auth: HandshakeAuth, opened: ClientSocket[], extraHeaders?: Record<string, string>): ClientSocket {
  const socket = connectSocket(baseUrl, {
    transports: ['websocket'],
    auth: { schema: '1', ...auth },
    reconnection: false,
    forceNew: true,
    ...(extraHeaders ? { extraHeaders } : {}),
  });
  opened.push(socket);
  return socket;
}

async function trigger(backend: Backend, recipient: string, tenantId?: string): Promise<void> {
  const request = new WorkflowTriggerRequest(
    { workflow: WORKFLOW, recipients: [recipient], data: {} },
    tenantId === undefined ? {} : { tenant_id: tenantId },
  );
  const result = await backend.workflows.trigger(request);
  assert.equal(result.success, true, JSON.stringify(result));
}

async function notificationIdsOf(h: InProcess, workspaceId: string, distinctId: string, tenantId: string): Promise<string[]> {
  const rows = await h.herald.db
    .selectFrom('notifications')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('distinct_id', '=', distinctId)
    .where('tenant_id', '=', tenantId)
    .execute();
  return rows.map((row) => row.id);
}

async function applyWorkflow(h: InProcess, workspaceId: string): Promise<void> {
  await new WorkflowService(h.herald).apply(workspaceId, [
    { slug: WORKFLOW, category: 'transactional', steps: [{ type: 'inbox', template: { text: 'Something happened' } }] },
  ]);
}

for (const engine of enginesUnderTest()) {
  describe(`realtime feed socket on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;
    let backend: Backend;
    let publicKey: string;
    let signing: { kid: string; pem: string };
    const opened: ClientSocket[] = [];
    const sdkClients: SuprSend[] = [];

    const settle = () => pause(t.config.invalidationPollMs * 3);
    const token = (user: string, tenant?: string, exp = inAnHour()) =>
      mintToken(signing.pem, signing.kid, { user, ...(tenant === undefined ? {} : { tenant }), exp });
    const open = (auth: HandshakeAuth, extraHeaders?: Record<string, string>) => openSocket(h.baseUrl, auth, opened, extraHeaders);
    const sdkClient = () => {
      const client = new SuprSend(publicKey, { host: h.baseUrl });
      sdkClients.push(client);
      return client;
    };

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      const staging = await h.herald.workspaces.get('staging');
      publicKey = (await h.herald.publicKeys.create(staging, {})).key;
      signing = await h.herald.signingKeys.create(staging, {});
      await applyWorkflow(h, staging.id);
      backend = suprsendClient(h.staging.workspaceKey, h.staging.secret, h.baseUrl);
      await settle();
    });

    after(async () => {
      for (const client of sdkClients) client.feeds.removeAll();
      for (const socket of opened) socket.disconnect();
      await h?.close();
      await t?.cleanup();
    });

    test('the unmodified web SDK receives new_notification for a trigger sent through the Node SDK', async () => {
      const client = sdkClient();
      const identified = await client.identify('sdk-alice', await token('sdk-alice', 'acme'));
      assert.equal(identified.status, 'success', JSON.stringify(identified));
      const feed = client.feeds.initialize({ tenantId: 'acme', host: { apiHost: h.baseUrl, socketHost: h.baseUrl } });
      feed.initializeSocketConnection();
      const socket = socketOf(feed);
      const received = collect(socket, 'new_notification');
      await connected(socket);

      await trigger(backend, 'sdk-alice', 'acme');
      await waitFor(() => received.length > 0, EVENT_TIMEOUT_MS);
      const ids = await notificationIdsOf(h, h.staging.id, 'sdk-alice', 'acme');
      assert.equal(ids.length, 1);
      assert.deepEqual(received, [{ n_id: ids[0] }]);
    });

    test('a raw client with the same auth object connects; the rejections all carry the exact message', async () => {
      const ok = open({
        authorization: publicKey,
        'x-ss-signature': await token('raw-alice', 'acme'),
        distinct_id: 'raw-alice',
        tenant_id: 'acme',
      });
      await connected(ok);

      const now = Math.floor(h.clock.now() / 1000);
      const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      const badSignature = await mintToken(stranger, signing.kid, { user: 'raw-alice', tenant: 'acme', exp: inAnHour() });
      const cases: Array<[string, HandshakeAuth]> = [
        ['garbage token', { 'x-ss-signature': 'not-a-jwt', distinct_id: 'raw-alice', tenant_id: 'acme' }],
        ['signed by another key', { 'x-ss-signature': badSignature, distinct_id: 'raw-alice', tenant_id: 'acme' }],
        [
          'expired token',
          { 'x-ss-signature': await token('raw-alice', 'acme', now - CLOCK_LEEWAY_S - 60), distinct_id: 'raw-alice', tenant_id: 'acme' },
        ],
        ['token for another user', { 'x-ss-signature': await token('raw-bob', 'acme'), distinct_id: 'raw-alice', tenant_id: 'acme' }],
        ['tenant outside the scope', { 'x-ss-signature': await token('raw-alice', 'acme'), distinct_id: 'raw-alice', tenant_id: 'globex' }],
        ['no tenant means default, outside the scope', { 'x-ss-signature': await token('raw-alice', 'acme'), distinct_id: 'raw-alice' }],
      ];
      for (const [label, auth] of cases) {
        assert.equal(await rejection(open({ authorization: publicKey, ...auth })), AUTH_ERROR_MESSAGE, label);
      }

      const unknown = `${publicKey.slice(0, -4)}zzzz`;
      assert.equal(await rejection(open({ authorization: unknown, distinct_id: 'raw-alice' })), AUTH_ERROR_MESSAGE, 'unknown public key');
      assert.equal(await rejection(open({ distinct_id: 'raw-alice' })), AUTH_ERROR_MESSAGE, 'no public key');
      assert.ok(ok.connected, 'the valid socket is unaffected');
    });

    test('handshake ids that are not clean text are refused, and the server keeps serving', async () => {
      // A lone surrogate once made the room name throw inside socket.io's connection handler,
      // which ended the process; U+0000 cannot be stored by PostgreSQL; ids have length limits.
      const cases: Array<[string, HandshakeAuth]> = [
        ['lone surrogate in distinct_id', { distinct_id: 'x\ud800' }],
        ['lone surrogate in tenant_id', { distinct_id: 'clean-user', tenant_id: 'x\udfff' }],
        ['U+0000 in distinct_id', { distinct_id: 'x\u0000y' }],
        ['over-long distinct_id', { distinct_id: 'x'.repeat(513) }],
        ['over-long tenant_id', { distinct_id: 'clean-user', tenant_id: 't'.repeat(65) }],
        // identify(12345) is that id's decimal text; a number with no exact text is refused.
        ['fractional numeric distinct_id', { distinct_id: 1.5 }],
        ['unsafe numeric distinct_id', { distinct_id: 1e20 }],
      ];
      for (const [label, auth] of cases) {
        assert.equal(await rejection(open({ authorization: publicKey, ...auth })), AUTH_ERROR_MESSAGE, label);
      }
      const victim = open({ authorization: publicKey, distinct_id: 'surrogate-victim' });
      const received = collect(victim, 'new_notification');
      await connected(victim);

      // The same ids in a trigger are refused before anything is stored, for every recipient.
      const result = (await backend.workflows.trigger(
        new WorkflowTriggerRequest({ workflow: WORKFLOW, recipients: ['x\ud800', 'surrogate-victim'], data: {} }),
      )) as unknown as { success: boolean; status_code: number; message: string };
      assert.equal(result.status_code, 400, JSON.stringify(result));
      assert.match(result.message, /lone UTF-16 surrogate/);
      assert.deepEqual(await notificationIdsOf(h, h.staging.id, 'surrogate-victim', 'default'), []);

      await trigger(backend, 'surrogate-victim');
      await waitFor(() => received.length > 0, EVENT_TIMEOUT_MS);
      assert.deepEqual(received, [{ n_id: (await notificationIdsOf(h, h.staging.id, 'surrogate-victim', 'default'))[0] }]);

      const numeric = open({ authorization: publicKey, distinct_id: 4242 });
      const numericReceived = collect(numeric, 'new_notification');
      await connected(numeric);
      await trigger(backend, '4242');
      await waitFor(() => numericReceived.length > 0, EVENT_TIMEOUT_MS);
      assert.deepEqual(numericReceived, [{ n_id: (await notificationIdsOf(h, h.staging.id, '4242', 'default'))[0] }]);
    });

    test('a revoked public key and a public key used from a disallowed origin are refused', async () => {
      const staging = await h.herald.workspaces.get('staging');
      const revoked = await h.herald.publicKeys.create(staging, {});
      const restricted = await h.herald.publicKeys.create(staging, { allowedOrigins: ['https://app.example.com'] });
      await h.herald.publicKeys.revoke(staging, revoked.id);
      await settle();
      assert.equal(await rejection(open({ authorization: revoked.key, distinct_id: 'pk-alice' })), AUTH_ERROR_MESSAGE);
      assert.equal(
        await rejection(open({ authorization: restricted.key, distinct_id: 'pk-alice' }, { origin: 'https://evil.example.com' })),
        AUTH_ERROR_MESSAGE,
      );
      await connected(open({ authorization: restricted.key, distinct_id: 'pk-alice' }, { origin: 'https://app.example.com' }));
    });

    test('enhanced security: a handshake without a token is refused, and open token-less sockets are closed', async () => {
      const tokenless = open({ authorization: publicKey, distinct_id: 'es-alice', tenant_id: 'acme' });
      await connected(tokenless);
      const withToken = open({
        authorization: publicKey,
        'x-ss-signature': await token('es-alice', 'acme'),
        distinct_id: 'es-alice',
        tenant_id: 'acme',
      });
      await connected(withToken);
      const closed = disconnection(tokenless);
      await h.herald.workspaces.setEnhancedSecurity('staging', true);
      try {
        assert.equal(await closed, 'io server disconnect');
        assert.equal(await rejection(open({ authorization: publicKey, distinct_id: 'es-alice', tenant_id: 'acme' })), AUTH_ERROR_MESSAGE);
        assert.ok(withToken.connected, 'a socket with a valid token stays');
      } finally {
        await h.herald.workspaces.setEnhancedSecurity('staging', false);
        await settle();
      }
    });

    test('an expired token is refreshed by the SDK (refreshUserToken) and the socket reconnects with the new one', async () => {
      const user = 'refresh-alice';
      // Valid when identify() sends $identify, expired (for the SDK and the server) when the socket connects.
      const shortExp = Math.floor(Date.now() / 1000) + 2;
      const shortLived = await token(user, undefined, shortExp);
      const fresh = await token(user);
      const refreshCalls: string[] = [];
      const client = sdkClient();
      const identified = await client.identify(user, shortLived, {
        refreshUserToken: async (oldToken: string) => {
          refreshCalls.push(oldToken);
          return fresh;
        },
      });
      assert.equal(identified.status, 'success', JSON.stringify(identified));
      await waitFor(() => Date.now() > shortExp * 1000 + 50, 5_000);
      const serverNow = h.clock.now();
      h.clock.set((shortExp + CLOCK_LEEWAY_S + 1) * 1000);
      try {
        const feed = client.feeds.initialize({ host: { apiHost: h.baseUrl, socketHost: h.baseUrl } });
        feed.initializeSocketConnection();
        const socket = socketOf(feed);
        const errors: string[] = [];
        socket.on('connect_error', (error: Error) => errors.push(error.message));
        const received = collect(socket, 'new_notification');
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));

        assert.deepEqual(errors, [AUTH_ERROR_MESSAGE]);
        assert.deepEqual(refreshCalls, [shortLived]);
        assert.ok(typeof socket.auth === 'object');
        assert.equal(socket.auth['x-ss-signature'], fresh, 'the socket reconnected with the refreshed token');
        assert.equal(client.userToken, fresh);

        await trigger(backend, user);
        await waitFor(() => received.length > 0, EVENT_TIMEOUT_MS);
        assert.deepEqual(received, [{ n_id: (await notificationIdsOf(h, h.staging.id, user, 'default'))[0] }]);
      } finally {
        h.clock.set(serverNow);
      }
    });

    test('each socket gets only its own user, tenant and workspace', async () => {
      const production = await h.herald.workspaces.get('production');
      const prodPublicKey = (await h.herald.publicKeys.create(production, {})).key;
      const prodSigning = await h.herald.signingKeys.create(production, {});
      await settle();

      const socketFor = async (user: string, tenant: string) =>
        open({ authorization: publicKey, 'x-ss-signature': await token(user, tenant), distinct_id: user, tenant_id: tenant });
      const target = await socketFor('iso-alice', 'acme');
      const observers = {
        otherTenant: await socketFor('iso-alice', 'globex'),
        otherUser: await socketFor('iso-bob', 'acme'),
        otherWorkspace: open({
          authorization: prodPublicKey,
          'x-ss-signature': await mintToken(prodSigning.pem, prodSigning.kid, { user: 'iso-alice', tenant: 'acme', exp: inAnHour() }),
          distinct_id: 'iso-alice',
          tenant_id: 'acme',
        }),
        // Without escaping, both of these would be room "<workspace>:t:x:y".
        colonUser: await socketFor('x:y', 't'),
        colonTenant: await socketFor('y', 't:x'),
      };
      const sockets = [target, ...Object.values(observers)];
      await Promise.all(sockets.map((socket) => connected(socket)));
      const received = new Map(sockets.map((socket) => [socket, collect(socket, 'new_notification')]));

      await trigger(backend, 'iso-alice', 'acme');
      await waitFor(() => (received.get(target)?.length ?? 0) > 0, EVENT_TIMEOUT_MS);
      await pause(QUIET_MS);
      assert.equal(received.get(target)?.length, 1);
      for (const [name, socket] of Object.entries(observers)) assert.deepEqual(received.get(socket), [], name);

      await trigger(backend, 'x:y', 't');
      await waitFor(() => (received.get(observers.colonUser)?.length ?? 0) > 0, EVENT_TIMEOUT_MS);
      await pause(QUIET_MS);
      assert.deepEqual(received.get(observers.colonTenant), [], 'ids containing ":" do not share a room');
      assert.equal(received.get(target)?.length, 1);
    });

    test('revoking a signing key disconnects the sockets it authenticated, and only those', async () => {
      const staging = await h.herald.workspaces.get('staging');
      const second = await h.herald.signingKeys.create(staging, {});
      const restricted = await h.herald.publicKeys.create(staging, {});
      await settle();
      const doomed = open({
        authorization: publicKey,
        'x-ss-signature': await mintToken(second.pem, second.kid, { user: 'rev-alice', exp: inAnHour() }),
        distinct_id: 'rev-alice',
      });
      const survivor = open({ authorization: publicKey, 'x-ss-signature': await token('rev-alice'), distinct_id: 'rev-alice' });
      const byPublicKey = open({ authorization: restricted.key, distinct_id: 'rev-bob' });
      await Promise.all([connected(doomed), connected(survivor), connected(byPublicKey)]);

      const gone = disconnection(doomed);
      await h.herald.signingKeys.revoke(staging, second.kid);
      assert.equal(await gone, 'io server disconnect');
      await pause(QUIET_MS);
      assert.ok(survivor.connected, 'a socket verified by another signing key stays');
      assert.ok(byPublicKey.connected);

      const goneToo = disconnection(byPublicKey);
      await h.herald.publicKeys.revoke(staging, restricted.id);
      assert.equal(await goneToo, 'io server disconnect', 'revoking the public key disconnects its sockets');
      assert.ok(survivor.connected);
    });

    test('a token that expires while its socket is open does not end the socket at the next credential change', async () => {
      // The SDK refreshes only on connect_error; a server-side disconnect would end its feed for good.
      const serverNowS = Math.floor(h.clock.now() / 1000);
      const aging = open({
        authorization: publicKey,
        'x-ss-signature': await token('aging-alice', undefined, serverNowS + 60),
        distinct_id: 'aging-alice',
      });
      await connected(aging);
      const serverNow = h.clock.now();
      h.clock.advance((120 + CLOCK_LEEWAY_S) * 1000);
      try {
        const staging = await h.herald.workspaces.get('staging');
        const other = await h.herald.signingKeys.create(staging, {});
        await h.herald.signingKeys.revoke(staging, other.kid);
        await settle();
        assert.ok(aging.connected);
        const received = collect(aging, 'new_notification');
        await trigger(backend, 'aging-alice');
        await waitFor(() => received.length > 0, EVENT_TIMEOUT_MS);
      } finally {
        h.clock.set(serverNow);
      }
    });
  });

  describe(`realtime across two processes over Redis on ${engine}`, () => {
    let t: TestEnv;
    let first: InProcess;
    let second: InProcess;
    /** Same database, no Redis: the control that shows Redis is what carries the event. */
    let loner: InProcess;
    const opened: ClientSocket[] = [];

    before(async () => {
      t = await createTestEnv(engine, { HERALD_REDIS_URL: REDIS_URL });
      first = await startInProcess(t);
      second = await startInProcess(t);
      loner = await startInProcess({ ...t, config: { ...t.config, redisUrl: undefined } });
      await applyWorkflow(first, first.staging.id);
    });

    after(async () => {
      for (const socket of opened) socket.disconnect();
      await loner?.close();
      await second?.close();
      await first?.close();
      await t?.cleanup();
    });

    test('a trigger accepted by one process reaches a socket connected to the other', async () => {
      const staging = await first.herald.workspaces.get('staging');
      const publicKey = (await first.herald.publicKeys.create(staging, {})).key;
      const signing = await first.herald.signingKeys.create(staging, {});
      await pause(t.config.invalidationPollMs * 3);
      // A user id of its own per run: the Redis server is shared with every other test run.
      const user = `mp-${randomBytes(4).toString('hex')}`;
      const auth = {
        authorization: publicKey,
        'x-ss-signature': await mintToken(signing.pem, signing.kid, { user, tenant: 'acme', exp: inAnHour() }),
        distinct_id: user,
        tenant_id: 'acme',
      };
      const socket = openSocket(second.baseUrl, auth, opened);
      const unreachable = openSocket(loner.baseUrl, auth, opened);
      const received = collect(socket, 'new_notification');
      const missed = collect(unreachable, 'new_notification');
      await Promise.all([connected(socket), connected(unreachable)]);

      await trigger(suprsendClient(first.staging.workspaceKey, first.staging.secret, first.baseUrl), user, 'acme');
      await waitFor(() => received.length > 0, EVENT_TIMEOUT_MS);
      await pause(QUIET_MS);
      assert.deepEqual(received, [{ n_id: (await notificationIdsOf(first, staging.id, user, 'acme'))[0] }], 'delivered exactly once');
      assert.deepEqual(missed, [], 'a process without Redis only reaches its own sockets');
    });
  });
}
