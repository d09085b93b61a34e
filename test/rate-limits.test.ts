import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPrivateKey } from 'node:crypto';
import type { InjectOptions } from 'fastify';
import { SignJWT } from 'jose';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { hmacHeaders } from './helpers/http.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

/**
 * API rate limits (src/http/rate-limits.ts): per backend credential, per client user, and failed
 * authentications per address; 429 with Retry-After; shared through Redis by several processes.
 */

const REDIS_URL = process.env['HERALD_TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const LIMITS = { HERALD_RATE_LIMIT_BACKEND: '5', HERALD_RATE_LIMIT_CLIENT: '3', HERALD_RATE_LIMIT_AUTH_FAILURES: '4' };

function assertLimited(response: { statusCode: number; headers: Record<string, unknown>; body: string }, what: RegExp): void {
  assert.equal(response.statusCode, 429, response.body);
  assert.ok(Number(response.headers['retry-after']) >= 1, 'Retry-After says when to come back');
  const error = (JSON.parse(response.body) as { error: { type: string; message: string } }).error;
  assert.equal(error.type, 'RATE_LIMITED');
  assert.match(error.message, what);
}

describe('rate limits in one process', { timeout: 60_000 }, () => {
  let t: TestEnv;
  let h: InProcess;

  before(async () => {
    t = await createTestEnv('sqlite', LIMITS);
    h = await startInProcess(t);
  });

  after(async () => {
    await h?.close();
    await t?.cleanup();
  });

  const whoami = (headers: Record<string, string>, remoteAddress = '198.51.100.1') =>
    h.app.inject({ method: 'GET', url: '/v1/auth/whoami', headers, remoteAddress } as InjectOptions);

  test('a backend credential gets its budget per minute, then 429; another credential has its own', async () => {
    const signed = () => hmacHeaders(h.staging.workspaceKey, h.staging.secret, 'GET', '/v1/auth/whoami', undefined);
    for (let i = 0; i < 5; i++) assert.equal((await whoami(signed())).statusCode, 200);
    assertLimited(await whoami(signed()), /requests with this credential/);
    const key = await h.herald.apiKeys.create(await h.herald.workspaces.get('staging'), { name: 'own budget' });
    assert.equal((await whoami({ authorization: `Bearer ${key.key}` })).statusCode, 200);
  });

  test('a client gets its budget per user, or per address without a user token; others have their own', async () => {
    const workspace = await h.herald.workspaces.get('staging');
    const publicKey = (await h.herald.publicKeys.create(workspace, { name: 'limits' })).key;
    const signing = await h.herald.signingKeys.create(workspace, { name: 'limits' });
    const token = (user: string) =>
      new SignJWT({ entity_type: 'subscriber', entity_id: user })
        .setProtectedHeader({ alg: 'ES256', kid: signing.kid })
        .setExpirationTime('1h')
        .sign(createPrivateKey(signing.pem));
    const count = async (user: string, remoteAddress: string, withToken: boolean) =>
      h.app.inject({
        method: 'GET',
        url: `/v1/feed/notifications_count?distinct_id=${user}`,
        headers: { authorization: publicKey, ...(withToken ? { 'x-ss-signature': await token(user) } : {}) },
        remoteAddress,
      } as InjectOptions);
    for (let i = 0; i < 3; i++) assert.equal((await count('limit-alice', '198.51.100.20', true)).statusCode, 200);
    assertLimited(await count('limit-alice', '198.51.100.21', true), /requests for this user/);
    assert.equal((await count('limit-bob', '198.51.100.20', true)).statusCode, 200, 'another user has a budget of their own');
    // Without a user token nothing says who the user is: the address is counted instead.
    for (let i = 0; i < 3; i++) assert.equal((await count('limit-carol', '198.51.100.30', false)).statusCode, 200);
    assertLimited(await count('limit-dan', '198.51.100.30', false), /requests for this user/);
    assert.equal((await count('limit-carol', '198.51.100.31', false)).statusCode, 200);
  });

  test('an address that keeps failing authentication is refused before its credentials are looked at', async () => {
    const bad = { authorization: 'Bearer hak_test_000000000000000000000000000000AAAAAA' };
    for (let i = 0; i < 5; i++) assert.equal((await whoami(bad, '198.51.100.9')).statusCode, 401);
    const key = await h.herald.apiKeys.create(await h.herald.workspaces.get('staging'), { name: 'from a blocked address' });
    assertLimited(await whoami({ authorization: `Bearer ${key.key}` }, '198.51.100.9'), /failed authentications from this address/);
    assert.equal(
      (await whoami({ authorization: `Bearer ${key.key}` }, '198.51.100.10')).statusCode,
      200,
      'other addresses are not affected',
    );
  });
});

describe('rate limits shared by two processes through Redis', { skip: !enginesUnderTest().includes('postgres'), timeout: 60_000 }, () => {
  let t: TestEnv;
  const processes: InProcess[] = [];

  before(async () => {
    t = await createTestEnv('postgres', { ...LIMITS, HERALD_RATE_LIMIT_BACKEND: '6', HERALD_REDIS_URL: REDIS_URL });
    processes.push(await startInProcess(t), await startInProcess(t));
  });

  after(async () => {
    for (const h of processes) await h.close();
    await t?.cleanup();
  });

  test('one credential’s budget is counted across both', async () => {
    const [a, b] = processes as [InProcess, InProcess];
    const call = (h: InProcess) =>
      h.app.inject({
        method: 'GET',
        url: '/v1/auth/whoami',
        headers: hmacHeaders(a.staging.workspaceKey, a.staging.secret, 'GET', '/v1/auth/whoami', undefined),
      });
    for (let i = 0; i < 3; i++) {
      assert.equal((await call(a)).statusCode, 200);
      assert.equal((await call(b)).statusCode, 200);
    }
    assertLimited(await call(a), /requests with this credential/);
    assertLimited(await call(b), /requests with this credential/);
  });
});
