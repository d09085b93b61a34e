import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

const CONTENT_TYPE = 'application/json; charset=utf-8';

function sign(
  key: string,
  secret: string,
  method: string,
  target: string,
  body: string | Buffer | undefined,
  date: string,
): Record<string, string> {
  const md5 = body === undefined || body.length === 0 ? '' : createHash('md5').update(body).digest('hex');
  const signature = createHmac('sha256', secret).update(`${method}\n${md5}\n${CONTENT_TYPE}\n${date}\n${target}`).digest('base64');
  return { 'content-type': CONTENT_TYPE, date, authorization: `${key}:${signature}` };
}

function errorType(body: string): string {
  return (JSON.parse(body) as { error: { type: string } }).error.type;
}

for (const engine of enginesUnderTest()) {
  describe(`request authentication on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;
    let workspaceKey: string;
    let secret: string;

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      const staging = await h.herald.workspaces.get('staging');
      workspaceKey = staging.workspaceKey;
      secret = await h.herald.workspaceSecrets.reveal(staging.id);
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    const now = () => new Date(h.clock.now()).toUTCString();

    test('a key with one character changed is rejected by its checksum without a database lookup', async () => {
      const staging = await h.herald.workspaces.get('staging');
      const { key } = await h.herald.apiKeys.create(staging, { name: 'checksum' });
      const position = 15;
      const tampered = key.slice(0, position) + (key[position] === 'A' ? 'B' : 'A') + key.slice(position + 1);

      const before = h.queries();
      const rejected = await h.app.inject({ method: 'GET', url: '/v1/auth/whoami', headers: { authorization: `Bearer ${tampered}` } });
      assert.deepEqual(h.statementsSince(before), [], 'no SQL may run for a key that fails its checksum');
      assert.equal(rejected.statusCode, 401);
      assert.match(rejected.json().message as string, /checksum mismatch/);

      // The counter does see lookups: a well-formed key is looked up.
      const accepted = await h.app.inject({ method: 'GET', url: '/v1/auth/whoami', headers: { authorization: `Bearer ${key}` } });
      assert.equal(accepted.statusCode, 200);
      assert.ok(h.statementsSince(before).length > 0);
    });

    test('an expired API key is rejected with KEY_EXPIRED', async () => {
      const staging = await h.herald.workspaces.get('staging');
      const { key } = await h.herald.apiKeys.create(staging, { name: 'short-lived', expiresInMs: 3_600_000 });
      const call = () => h.app.inject({ method: 'GET', url: '/v1/auth/whoami', headers: { authorization: `Bearer ${key}` } });
      assert.equal((await call()).statusCode, 200);
      h.clock.advance(3_600_001);
      try {
        const response = await call();
        assert.equal(response.statusCode, 401);
        assert.equal(errorType(response.body), 'KEY_EXPIRED');
      } finally {
        h.clock.advance(-3_600_001);
      }
    });

    test('HMAC signatures verify over the raw body bytes and raw target, however the JSON is formatted', async () => {
      // Python's json.dumps(ensure_ascii=False): spaced separators and raw UTF-8.
      const bodies = ['{"workflow":"w","data":{"city":"Zürich"}}', '{"workflow": "w", "data": {"city": "Zürich"}}'];
      for (const body of bodies) {
        const target = '/v1/auth/whoami?b=2&a=1';
        const response = await h.app.inject({
          method: 'POST',
          url: target,
          payload: body,
          headers: sign(workspaceKey, secret, 'POST', target, Buffer.from(body), now()),
        });
        assert.equal(response.statusCode, 200, response.body);
        assert.deepEqual(response.json().credential, { type: 'hmac', id: workspaceKey });
      }
      // Bodiless request with Content-Length: 0, as the Go and Python SDKs send DELETEs.
      const empty = sign(workspaceKey, secret, 'POST', '/v1/auth/whoami', undefined, now());
      const response = await h.app.inject({
        method: 'POST',
        url: '/v1/auth/whoami',
        payload: '',
        headers: { ...empty, 'content-length': '0' },
      });
      assert.equal(response.statusCode, 200, response.body);
    });

    test('tampered body, path or date, and a wrong secret, are each rejected', async () => {
      const body = '{"a":1}';
      const date = now();
      const headers = sign(workspaceKey, secret, 'POST', '/v1/auth/whoami', body, date);
      const cases = [
        { name: 'body', url: '/v1/auth/whoami', payload: '{"a":2}', headers },
        { name: 'path', url: '/v1/auth/whoami?x=1', payload: body, headers },
        {
          name: 'date',
          url: '/v1/auth/whoami',
          payload: body,
          headers: { ...headers, date: new Date(h.clock.now() - 1000).toUTCString() },
        },
        {
          name: 'secret',
          url: '/v1/auth/whoami',
          payload: body,
          headers: sign(workspaceKey, `${secret}x`, 'POST', '/v1/auth/whoami', body, date),
        },
      ];
      for (const c of cases) {
        const response = await h.app.inject({ method: 'POST', url: c.url, payload: c.payload, headers: c.headers });
        assert.equal(response.statusCode, 401, c.name);
        assert.equal(errorType(response.body), 'SIGNATURE_INVALID', c.name);
        assert.equal(response.json().status, 'error');
      }
      const unknownKey = await h.app.inject({
        method: 'GET',
        url: '/v1/auth/whoami',
        headers: sign('hwk_test_AAAAAAAAAAAAAAAAAAAAAA', secret, 'GET', '/v1/auth/whoami', undefined, now()),
      });
      assert.equal(unknownKey.statusCode, 401);
    });

    test('Date must be within the skew window; RFC 1123 and ISO-8601 are both accepted', async () => {
      const iso = new Date(h.clock.now()).toISOString();
      const ok = await h.app.inject({
        method: 'GET',
        url: '/v1/auth/whoami',
        headers: sign(workspaceKey, secret, 'GET', '/v1/auth/whoami', undefined, iso),
      });
      assert.equal(ok.statusCode, 200, ok.body);
      const stale = new Date(h.clock.now() - 16 * 60_000).toUTCString();
      const rejected = await h.app.inject({
        method: 'GET',
        url: '/v1/auth/whoami',
        headers: sign(workspaceKey, secret, 'GET', '/v1/auth/whoami', undefined, stale),
      });
      assert.equal(rejected.statusCode, 401);
      assert.equal(errorType(rejected.body), 'SIGNATURE_EXPIRED');
    });

    test('a rotated-out secret works during its grace period and not after', async () => {
      const staging = await h.herald.workspaces.get('staging');
      const old = await h.herald.workspaceSecrets.reveal(staging.id);
      const { workspace_secret: fresh } = await h.herald.workspaceSecrets.rotate(staging, 3_600_000);
      await new Promise((resolve) => setTimeout(resolve, t.config.invalidationPollMs * 3));
      const call = (s: string) =>
        h.app.inject({ method: 'GET', url: '/v1/auth/whoami', headers: sign(workspaceKey, s, 'GET', '/v1/auth/whoami', undefined, now()) });
      assert.equal((await call(old)).statusCode, 200);
      assert.equal((await call(fresh)).statusCode, 200);
      h.clock.advance(3_600_001);
      try {
        assert.equal((await call(old)).statusCode, 401);
        assert.equal((await call(fresh)).statusCode, 200);
      } finally {
        h.clock.advance(-3_600_001);
      }
      secret = fresh;
    });

    test('rejections say what to do: a bare API key, the schemes a route accepts, the workspace a signature is checked for', async () => {
      const key = (await h.herald.apiKeys.create(await h.herald.workspaces.get('staging'), { name: 'bare' })).key;
      const bare = await h.app.inject({ method: 'GET', url: '/v1/user/', headers: { authorization: key } });
      assert.equal(bare.statusCode, 401);
      assert.match(bare.json().message as string, /an API key without "Bearer": send it as "Authorization: Bearer <API key>"/);
      const bareOnClient = await h.app.inject({ method: 'GET', url: '/v2/subscriber/alice/category/', headers: { authorization: key } });
      assert.match(bareOnClient.json().message as string, /this route accepts public keys, not API keys/);
      const noneOnBackend = await h.app.inject({ method: 'GET', url: '/v1/user/' });
      assert.match(noneOnBackend.json().message as string, /accepts workspace key \+ secret signatures .* or API keys/);
      assert.doesNotMatch(noneOnBackend.json().message as string, /public keys/);

      const production = await h.herald.workspaces.get('production');
      const wrongSecret = await h.herald.workspaceSecrets.reveal(production.id);
      const date = new Date(h.clock.now()).toUTCString();
      const signature = createHmac('sha256', wrongSecret).update(`GET\n\n\n${date}\n/v1/user/`).digest('base64');
      const crossed = await h.app.inject({
        method: 'GET',
        url: '/v1/user/',
        headers: { authorization: `${h.staging.workspaceKey}:${signature}`, date },
      });
      assert.equal(crossed.statusCode, 401);
      assert.match(crossed.json().message as string, /belongs to workspace "staging", so sign with staging's workspace secret/);
    });

    test('errors keep the SuprSend envelope: missing credential, unknown route, oversized body', async () => {
      const missing = await h.app.inject({ method: 'GET', url: '/v1/auth/whoami' });
      assert.equal(missing.statusCode, 401);
      const missingMessage =
        'missing Authorization header: this route accepts workspace key + secret signatures ("Authorization: <workspace key>:<signature>", ' +
        'as the backend SDKs send), or API keys ("Authorization: Bearer <API key>"), or public keys ("Authorization: <public key>", ' +
        'as the browser and mobile SDKs send)';
      assert.deepEqual(missing.json(), {
        status: 'error',
        code: 401,
        message: missingMessage,
        error: { type: 'UNAUTHENTICATED', message: missingMessage },
      });
      const unknown = await h.app.inject({ method: 'GET', url: '/nope' });
      assert.equal(unknown.statusCode, 404);
      assert.equal(errorType(unknown.body), 'NOT_FOUND');
      const big = `{"x":"${'a'.repeat(t.config.bodyLimitBytes)}"}`;
      const tooLarge = await h.app.inject({
        method: 'POST',
        url: '/v1/auth/whoami',
        payload: big,
        headers: { 'content-type': CONTENT_TYPE },
      });
      assert.equal(tooLarge.statusCode, 413);
      assert.equal(errorType(tooLarge.body), 'PAYLOAD_TOO_LARGE');
      const healthy = await h.app.inject({ method: 'GET', url: '/readyz' });
      assert.deepEqual(healthy.json(), { status: 'ready', database: engine });
    });

    test('a public key restricted to origins refuses other browser origins', async () => {
      const staging = await h.herald.workspaces.get('staging');
      await h.herald.workspaces.setEnhancedSecurity('staging', false);
      const { key } = await h.herald.publicKeys.create(staging, { allowedOrigins: ['https://app.example.com'] });
      await new Promise((resolve) => setTimeout(resolve, t.config.invalidationPollMs * 3));
      const call = (origin?: string) =>
        h.app.inject({ method: 'GET', url: '/v1/auth/whoami', headers: { authorization: key, ...(origin ? { origin } : {}) } });
      assert.equal((await call('https://app.example.com')).statusCode, 200);
      const other = await call('https://evil.example.com');
      assert.equal(other.statusCode, 403);
      assert.equal(errorType(other.body), 'ORIGIN_NOT_ALLOWED');
      assert.equal((await call()).statusCode, 200, 'requests without Origin are not from a browser page');
    });
  });
}
