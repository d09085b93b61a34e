import assert from 'node:assert/strict';
import { createHash, createHmac, createPrivateKey } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { loadConfig } from '../src/config.js';
import type { RequestLogRow } from '../src/request-log/request-log.repo.js';
import { RequestLogService, type RequestLogEntry } from '../src/request-log/request-log.service.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

const CONTENT_TYPE = 'application/json; charset=utf-8';
const DAY_MS = 86_400_000;

function sign(key: string, secret: string, method: string, target: string, body: string | undefined, date: string): Record<string, string> {
  const md5 = body === undefined || body.length === 0 ? '' : createHash('md5').update(body).digest('hex');
  const signature = createHmac('sha256', secret).update(`${method}\n${md5}\n${CONTENT_TYPE}\n${date}\n${target}`).digest('base64');
  return { 'content-type': CONTENT_TYPE, date, authorization: `${key}:${signature}` };
}

function entry(overrides: Partial<RequestLogEntry>): RequestLogEntry {
  return {
    requestId: `req_test_${Math.random().toString(36).slice(2)}`,
    workspaceId: null,
    at: Date.now(),
    method: 'GET',
    path: '/v1/auth/whoami',
    route: '/v1/auth/whoami',
    status: 200,
    latencyMs: 1.5,
    credentialType: 'none',
    credentialId: null,
    subscriberId: null,
    errorCode: null,
    reason: null,
    isAuthenticated: true,
    ...overrides,
  };
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('HERALD_REQUEST_LOG_MAX_ROWS and HERALD_REQUEST_LOG_MAX_AGE: defaults 10000 and 7d, validated', () => {
  const defaults = loadConfig({});
  assert.equal(defaults.requestLogMaxRows, 10_000);
  assert.equal(defaults.requestLogMaxAgeMs, 7 * DAY_MS);
  const set = loadConfig({ HERALD_REQUEST_LOG_MAX_ROWS: '500', HERALD_REQUEST_LOG_MAX_AGE: '24h' });
  assert.equal(set.requestLogMaxRows, 500);
  assert.equal(set.requestLogMaxAgeMs, DAY_MS);
  assert.throws(() => loadConfig({ HERALD_REQUEST_LOG_MAX_ROWS: '-1' }));
  assert.throws(() => loadConfig({ HERALD_REQUEST_LOG_MAX_AGE: 'a week' }), /HERALD_REQUEST_LOG_MAX_AGE must be a duration/);
  assert.throws(() => loadConfig({ HERALD_REQUEST_LOG_MAX_AGE: '10s' }), /at least 1m/);
});

for (const engine of enginesUnderTest()) {
  describe(`request log on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;
    let publicKey: { id: string; key: string };
    let signing: { kid: string; pem: string; base64: string };
    let apiKey: { id: string; key: string };
    /** Every secret the tests hand out or send; none may ever appear in the table. */
    const secrets: string[] = [];

    const date = () => new Date(h.clock.now()).toUTCString();

    const userToken = (claims: Record<string, unknown>, expOffsetS = 3600) =>
      new SignJWT({ entity_type: 'subscriber', entity_id: 'alice', ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: signing.kid })
        .setIssuedAt(Math.floor(h.clock.now() / 1000) - 3600)
        .setExpirationTime(Math.floor(h.clock.now() / 1000) + expOffsetS)
        .sign(createPrivateKey(signing.pem));

    /** The stored row of one response, after a flush. */
    const rowOf = async (response: { headers: Record<string, unknown> }): Promise<RequestLogRow | undefined> => {
      await h.herald.requestLog.flush();
      const requestId = response.headers['x-request-id'] as string;
      return h.herald.db.selectFrom('request_log').selectAll().where('request_id', '=', requestId).executeTakeFirst();
    };

    const requireRow = async (response: { headers: Record<string, unknown>; statusCode: number }): Promise<RequestLogRow> => {
      const row = await rowOf(response);
      assert.ok(row, `no request-log row for a ${response.statusCode} response`);
      return row;
    };

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      secrets.push(h.staging.secret);
      const staging = await h.herald.workspaces.get('staging');
      publicKey = await h.herald.publicKeys.create(staging, { name: 'web' });
      signing = await h.herald.signingKeys.create(staging, { name: 'tokens' });
      secrets.push(signing.pem, signing.base64, signing.pem.split('\n').slice(1, 3).join('\n'));
      apiKey = await h.herald.apiKeys.create(staging, { name: 'ci' });
      secrets.push(apiKey.key);
      // Running servers learn about the new signing key through the change feed.
      await new Promise((resolve) => setTimeout(resolve, t.config.invalidationPollMs * 4));
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    test('successful HMAC, API key and public key requests are recorded with their credential', async () => {
      const target = '/v1/auth/whoami?verify=true&marker=q-hmac-1';
      const hmac = await h.app.inject({
        method: 'GET',
        url: target,
        headers: sign(h.staging.workspaceKey, h.staging.secret, 'GET', target, undefined, date()),
      });
      assert.equal(hmac.statusCode, 200, hmac.body);
      const hmacRow = await requireRow(hmac);
      assert.equal(hmacRow.workspace_id, h.staging.id);
      assert.equal(hmacRow.credential_type, 'hmac');
      assert.equal(hmacRow.credential_id, h.staging.workspaceKey);
      assert.equal(hmacRow.method, 'GET');
      assert.equal(hmacRow.path, '/v1/auth/whoami');
      assert.equal(hmacRow.route, '/v1/auth/whoami');
      assert.equal(hmacRow.status, 200);
      assert.equal(hmacRow.error_code, null);
      assert.equal(hmacRow.reason, null);
      assert.equal(hmacRow.subscriber_id, null);
      assert.ok(hmacRow.latency_ms >= 0 && hmacRow.latency_ms < 60_000);
      assert.ok(Math.abs(hmacRow.created_at - h.clock.now()) < 1_000, 'time comes from the server clock');

      const bearer = await h.app.inject({ method: 'GET', url: '/v1/auth/whoami', headers: { authorization: `Bearer ${apiKey.key}` } });
      assert.equal(bearer.statusCode, 200);
      const bearerRow = await requireRow(bearer);
      assert.equal(bearerRow.credential_type, 'api_key');
      assert.equal(bearerRow.credential_id, apiKey.id);
      assert.equal(bearerRow.workspace_id, h.staging.id);

      const token = await userToken({});
      secrets.push(token);
      const client = await h.app.inject({
        method: 'GET',
        url: '/v1/auth/whoami',
        headers: { authorization: publicKey.key, 'x-ss-signature': token },
      });
      assert.equal(client.statusCode, 200, client.body);
      const clientRow = await requireRow(client);
      assert.equal(clientRow.credential_type, 'public_key');
      assert.equal(clientRow.credential_id, publicKey.id);
      assert.equal(clientRow.subscriber_id, 'alice');
      assert.equal(clientRow.workspace_id, h.staging.id);

      // A route with a path parameter: the path is kept, the pattern too, the query is not.
      const user = await h.app.inject({
        method: 'GET',
        url: '/v2/subscriber/alice/category/?tenant_id=default&marker=q-client-2',
        headers: { authorization: publicKey.key, 'x-ss-signature': token },
      });
      const userRow = await requireRow(user);
      assert.equal(userRow.path, '/v2/subscriber/alice/category/');
      assert.match(userRow.route ?? '', /:/);
    });

    test('rejections are recorded with the precise reason, under the workspace when it is known', async () => {
      const staging = await h.herald.workspaces.get('staging');

      // Expired API key.
      const shortLived = await h.herald.apiKeys.create(staging, { name: 'short', expiresInMs: 3_600_000 });
      secrets.push(shortLived.key);
      h.clock.advance(3_600_000 + 120_000);
      try {
        const expired = await h.app.inject({
          method: 'GET',
          url: '/v1/auth/whoami',
          headers: { authorization: `Bearer ${shortLived.key}` },
        });
        assert.equal(expired.statusCode, 401);
        const row = await requireRow(expired);
        assert.equal(row.error_code, 'KEY_EXPIRED');
        assert.equal(row.reason, `API key ${shortLived.id} expired 2 min ago`);
        assert.equal(row.credential_type, 'api_key');
        assert.equal(row.credential_id, shortLived.id);
        assert.equal(row.workspace_id, h.staging.id);
      } finally {
        h.clock.advance(-(3_600_000 + 120_000));
      }

      // Revoked API key (never used before, so no cached copy either).
      const doomed = await h.herald.apiKeys.create(staging, { name: 'doomed' });
      secrets.push(doomed.key);
      await h.herald.apiKeys.revoke(staging, doomed.id);
      h.clock.advance(2_000);
      try {
        const revoked = await h.app.inject({ method: 'GET', url: '/v1/auth/whoami', headers: { authorization: `Bearer ${doomed.key}` } });
        assert.equal(revoked.statusCode, 401);
        const row = await requireRow(revoked);
        assert.equal(row.error_code, 'KEY_REVOKED');
        assert.equal(row.reason, `API key ${doomed.id} revoked 2 s ago`);
        assert.equal(row.workspace_id, h.staging.id);
      } finally {
        h.clock.advance(-2_000);
      }

      // HMAC mismatch: the server's string-to-sign, attributed to the workspace of the key.
      const body = '{"a":1}';
      const mismatch = await h.app.inject({
        method: 'POST',
        url: '/v1/auth/whoami',
        payload: body,
        headers: sign(h.staging.workspaceKey, `${h.staging.secret}x`, 'POST', '/v1/auth/whoami', body, date()),
      });
      assert.equal(mismatch.statusCode, 401);
      const mismatchRow = await requireRow(mismatch);
      assert.equal(mismatchRow.error_code, 'SIGNATURE_INVALID');
      assert.match(mismatchRow.reason ?? '', /^HMAC mismatch against 1 valid secret\(s\); server string-to-sign "POST\\n[0-9a-f]{32}\\n/);
      assert.equal(mismatchRow.credential_id, h.staging.workspaceKey);
      assert.equal(mismatchRow.workspace_id, h.staging.id);

      // Stale Date: rejected before the workspace is looked up, still attributed to it.
      const stale = new Date(h.clock.now() - 20 * 60_000).toUTCString();
      const skewed = await h.app.inject({
        method: 'GET',
        url: '/v1/auth/whoami',
        headers: sign(h.staging.workspaceKey, h.staging.secret, 'GET', '/v1/auth/whoami', undefined, stale),
      });
      const skewedRow = await requireRow(skewed);
      assert.equal(skewedRow.error_code, 'SIGNATURE_EXPIRED');
      assert.match(skewedRow.reason ?? '', /^Date is 20 min behind server time/);
      assert.equal(skewedRow.workspace_id, h.staging.id);

      // Expired user token.
      const expiredToken = await userToken({}, -180);
      secrets.push(expiredToken);
      const tokenExpired = await h.app.inject({
        method: 'GET',
        url: '/v1/auth/whoami',
        headers: { authorization: publicKey.key, 'x-ss-signature': expiredToken },
      });
      assert.equal(tokenExpired.statusCode, 401);
      const tokenRow = await requireRow(tokenExpired);
      assert.equal(tokenRow.error_code, 'TOKEN_EXPIRED');
      assert.equal(tokenRow.reason, 'user token expired 3 min ago');
      assert.equal(tokenRow.credential_type, 'public_key');
      assert.equal(tokenRow.credential_id, publicKey.id);
      assert.equal(tokenRow.workspace_id, h.staging.id);

      // Tenant outside the token's scope, and a token used for another user.
      const token = await userToken({});
      secrets.push(token);
      const otherTenant = await h.app.inject({
        method: 'GET',
        url: '/v1/feed/notifications?distinct_id=alice&tenant_id=acme',
        headers: { authorization: publicKey.key, 'x-ss-signature': token },
      });
      assert.equal(otherTenant.statusCode, 403);
      const tenantRow = await requireRow(otherTenant);
      assert.equal(tenantRow.error_code, 'TENANT_NOT_IN_SCOPE');
      assert.equal(tenantRow.reason, 'tenant "acme" not in token scope ["default"]');
      assert.equal(tenantRow.subscriber_id, 'alice');
      assert.equal(tenantRow.path, '/v1/feed/notifications');

      const otherUser = await h.app.inject({
        method: 'GET',
        url: '/v1/feed/notifications?distinct_id=bob',
        headers: { authorization: publicKey.key, 'x-ss-signature': token },
      });
      assert.equal(otherUser.statusCode, 403);
      const userRow = await requireRow(otherUser);
      assert.equal(userRow.error_code, 'SUBSCRIBER_MISMATCH');
      assert.equal(userRow.reason, 'token entity_id "alice" but the request acts on "bob"');
    });

    test('requests with no known workspace are recorded with workspace_id null', async () => {
      const none = await h.app.inject({ method: 'GET', url: '/v1/auth/whoami' });
      const noneRow = await requireRow(none);
      assert.equal(noneRow.workspace_id, null);
      assert.equal(noneRow.credential_type, 'none');
      assert.equal(noneRow.credential_id, null);
      assert.equal(noneRow.reason, 'no credential');

      const unknownKey = 'hwk_test_AAAAAAAAAAAAAAAAAAAAAA';
      const unknown = await h.app.inject({
        method: 'GET',
        url: '/v1/auth/whoami',
        headers: sign(unknownKey, h.staging.secret, 'GET', '/v1/auth/whoami', undefined, date()),
      });
      const unknownRow = await requireRow(unknown);
      assert.equal(unknownRow.workspace_id, null);
      assert.equal(unknownRow.credential_id, unknownKey);
      assert.equal(unknownRow.reason, 'workspace key not found');

      const noRoute = await h.app.inject({ method: 'GET', url: '/v1/does-not-exist?marker=q-404' });
      assert.equal(noRoute.statusCode, 404);
      const noRouteRow = await requireRow(noRoute);
      assert.equal(noRouteRow.workspace_id, null);
      assert.equal(noRouteRow.error_code, 'NOT_FOUND');
      assert.equal(noRouteRow.route, null);
      assert.equal(noRouteRow.path, '/v1/does-not-exist');

      const page = await h.herald.requestLog.list(null, { limit: 200 });
      const ids = page.entries.map((e) => e.request_id);
      for (const response of [none, unknown, noRoute]) assert.ok(ids.includes(response.headers['x-request-id'] as string));
      assert.ok(page.entries.every((e) => e.workspace_id === null));
    });

    test('health, demo and admin paths and CORS pre-flights are not API traffic', async () => {
      const responses = [
        await h.app.inject({ method: 'GET', url: '/healthz' }),
        await h.app.inject({ method: 'GET', url: '/readyz' }),
        await h.app.inject({ method: 'GET', url: '/demo/inbox' }),
        await h.app.inject({ method: 'GET', url: '/admin/nothing-here' }),
        await h.app.inject({
          method: 'OPTIONS',
          url: '/v1/feed/notifications',
          headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' },
        }),
      ];
      for (const response of responses) assert.equal(await rowOf(response), undefined, `${response.statusCode} was recorded`);
    });

    test('credentials sent in the wrong place never reach the table; neither do query strings', async () => {
      const staging = h.staging;
      const sent: Array<{ headers: Record<string, unknown> }> = [];
      // The workspace secret where the workspace key belongs, and as a bearer token.
      sent.push(
        await h.app.inject({
          method: 'GET',
          url: '/v1/auth/whoami',
          headers: sign(staging.secret, staging.secret, 'GET', '/v1/auth/whoami', undefined, date()),
        }),
      );
      sent.push(await h.app.inject({ method: 'GET', url: '/v1/auth/whoami', headers: { authorization: `Bearer ${staging.secret}` } }));
      // An API key with a typo (the checksum fails) and keys and tokens in the query string.
      const typo = `${apiKey.key.slice(0, -1)}${apiKey.key.endsWith('A') ? 'B' : 'A'}`;
      sent.push(await h.app.inject({ method: 'GET', url: '/v1/auth/whoami', headers: { authorization: `Bearer ${typo}` } }));
      const token = await userToken({});
      secrets.push(token);
      sent.push(
        await h.app.inject({
          method: 'GET',
          url: `/v1/feed/notifications?distinct_id=alice&token=${token}&api_key=${apiKey.key}&secret=${staging.secret}`,
          headers: { authorization: publicKey.key, 'x-ss-signature': token },
        }),
      );
      // Secrets in the path of an unknown route, in the Date header, and a PEM as the user token.
      sent.push(await h.app.inject({ method: 'GET', url: `/v1/nope/${staging.secret}/${apiKey.key}/${token}` }));
      sent.push(
        await h.app.inject({
          method: 'GET',
          url: '/v1/auth/whoami',
          headers: sign(staging.workspaceKey, staging.secret, 'GET', '/v1/auth/whoami', undefined, staging.secret),
        }),
      );
      sent.push(
        await h.app.inject({
          method: 'GET',
          url: `/v1/auth/whoami?key=${encodeURIComponent(signing.base64)}`,
          headers: { authorization: publicKey.key, 'x-ss-signature': signing.base64 },
        }),
      );
      for (const response of sent) {
        const row = await rowOf(response);
        assert.ok(row, 'each of these requests is recorded');
        assert.ok(!row.path.includes('?'));
      }
      const typoRow = await rowOf(sent[2] as { headers: Record<string, unknown> });
      assert.equal(typoRow?.credential_id, apiKey.key.slice(0, 13), 'a bearer key is known by its display prefix');
      assert.match(typoRow?.reason ?? '', /checksum mismatch/);
      const secretAsKeyRow = await rowOf(sent[0] as { headers: Record<string, unknown> });
      assert.equal(secretAsKeyRow?.credential_id, null, 'a secret in the key position is not taken for an id');
      assert.equal(secretAsKeyRow?.credential_type, 'hmac');

      const table = JSON.stringify(await h.herald.db.selectFrom('request_log').selectAll().execute());
      for (const marker of ['q-hmac-1', 'q-client-2', 'q-404', 'verify=true', 'api_key=', 'token=']) {
        assert.ok(!table.includes(marker), `query text "${marker}" was recorded`);
      }
    });

    test('no secret appears anywhere in the table', async () => {
      await h.herald.requestLog.flush();
      const rows = await h.herald.db.selectFrom('request_log').selectAll().execute();
      assert.ok(rows.length > 20);
      const table = JSON.stringify(rows);
      for (const secret of secrets) {
        assert.ok(secret.length > 20);
        assert.ok(!table.includes(secret), `a secret (${secret.slice(0, 8)}…) was recorded`);
        assert.ok(!table.includes(JSON.stringify(secret).slice(1, -1)), 'not even JSON-escaped');
      }
      assert.ok(!table.includes('PRIVATE KEY'));
      assert.ok(!table.includes('LS0tLS1CRUdJTi'));
      // The only part of a workspace secret that may show is its public prefix.
      assert.ok(!/hws_test_[0-9A-Za-z]/.test(table));
      assert.ok(!/hak_test_[0-9A-Za-z]{5}/.test(table));
    });

    test('list: newest first, keyset pages, errors-only and credential filters', async () => {
      const all = await h.herald.requestLog.list(h.staging.id, { limit: 200 });
      assert.ok(all.entries.length >= 10);
      const times = all.entries.map((e) => e.time);
      assert.deepEqual(
        times,
        [...times].sort((a, b) => b - a),
      );
      const first = await h.herald.requestLog.list(h.staging.id, { limit: 3 });
      assert.equal(first.entries.length, 3);
      assert.ok(first.next);
      const second = await h.herald.requestLog.list(h.staging.id, { limit: 3, before: first.next });
      assert.deepEqual(
        [...first.entries, ...second.entries].map((e) => e.request_id),
        all.entries.slice(0, 6).map((e) => e.request_id),
      );
      await assert.rejects(h.herald.requestLog.list(h.staging.id, { before: 'garbage' }), /cursor/);

      const errors = await h.herald.requestLog.list(h.staging.id, { status: 'errors', limit: 200 });
      assert.ok(errors.entries.length > 0);
      assert.ok(errors.entries.every((e) => e.status >= 400 && e.error !== null));
      assert.ok(errors.entries.some((e) => e.error?.code === 'TENANT_NOT_IN_SCOPE'));

      const byKey = await h.herald.requestLog.list(h.staging.id, { credentialId: apiKey.id, limit: 200 });
      assert.ok(byKey.entries.length > 0);
      assert.ok(byKey.entries.every((e) => e.credential.id === apiKey.id && e.credential.type === 'api_key'));
    });

    test('entries are buffered: nothing is written until a flush, a full batch flushes by itself', async () => {
      const log = new RequestLogService(h.herald.db, h.clock, { maxRows: 10_000, maxAgeMs: 7 * DAY_MS, batchSize: 5 });
      const count = async (ids: string[]) =>
        Number(
          (
            await h.herald.db
              .selectFrom('request_log')
              .select((eb) => eb.fn.countAll().as('n'))
              .where('request_id', 'in', ids)
              .executeTakeFirstOrThrow()
          ).n,
        );
      const few = [1, 2, 3].map(() => entry({ workspaceId: 'ws_batch', at: h.clock.now() }));
      for (const e of few) log.record(e);
      assert.equal(log.pending, 3);
      assert.equal(await count(few.map((e) => e.requestId)), 0, 'no write per request');
      await log.flush();
      assert.equal(log.pending, 0);
      assert.equal(await count(few.map((e) => e.requestId)), 3);

      const batch = [1, 2, 3, 4, 5].map(() => entry({ workspaceId: 'ws_batch', at: h.clock.now() }));
      for (const e of batch.slice(0, 4)) log.record(e);
      assert.equal(await count(batch.map((e) => e.requestId)), 0);
      log.record(batch[4] as RequestLogEntry);
      await waitFor(async () => (await count(batch.map((e) => e.requestId))) === 5, 'the full batch to be written');
    });

    test('a large flush (full statements and a remainder) stores every field of every entry', async () => {
      const log = new RequestLogService(h.herald.db, h.clock, { maxRows: 10_000, maxAgeMs: 7 * DAY_MS, batchSize: 1_000 });
      const entries = Array.from({ length: 250 }, (_, i) =>
        entry({
          workspaceId: 'ws_large',
          at: h.clock.now() + i,
          path: `/v1/user/u${i}`,
          status: i % 7 === 0 ? 401 : 200,
          credentialType: 'api_key',
          credentialId: `key_${i}`,
          subscriberId: i % 2 === 0 ? `u${i}` : null,
          errorCode: i % 7 === 0 ? 'KEY_REVOKED' : null,
          reason: i % 7 === 0 ? `revoked ${i}` : null,
          isAuthenticated: i % 7 !== 0,
        }),
      );
      for (const e of entries) log.record(e);
      await log.flush();
      const rows = await h.herald.db
        .selectFrom('request_log')
        .selectAll()
        .where('workspace_id', '=', 'ws_large')
        .orderBy('created_at')
        .execute();
      assert.equal(rows.length, 250);
      rows.forEach((row, i) => {
        const e = entries[i] as RequestLogEntry;
        assert.deepEqual(
          [
            row.request_id,
            row.created_at,
            row.path,
            row.route,
            row.status,
            row.credential_id,
            row.subscriber_id,
            row.error_code,
            row.reason,
            row.is_authenticated,
          ],
          [e.requestId, e.at, e.path, e.route, e.status, e.credentialId, e.subscriberId, e.errorCode, e.reason, e.isAuthenticated ? 1 : 0],
        );
      });
    });

    test('closing the server writes what is still buffered', async () => {
      const second = await startInProcess(t, h.clock.now());
      let isClosed = false;
      try {
        const response = await second.app.inject({
          method: 'GET',
          url: '/v1/auth/whoami',
          headers: { authorization: `Bearer ${apiKey.key}` },
        });
        assert.equal(response.statusCode, 200);
        assert.equal(second.herald.requestLog.pending, 1, 'still in memory');
        await second.close();
        isClosed = true;
        const row = await h.herald.db
          .selectFrom('request_log')
          .selectAll()
          .where('request_id', '=', response.headers['x-request-id'] as string)
          .executeTakeFirst();
        assert.equal(row?.credential_id, apiKey.id);
      } finally {
        if (!isClosed) await second.close();
      }
    });

    test('retention by count keeps the newest rows of each workspace', async () => {
      const log = new RequestLogService(h.herald.db, h.clock, { maxRows: 3, maxAgeMs: 7 * DAY_MS });
      const base = h.clock.now();
      const a = [0, 1, 2, 3, 4].map((i) => entry({ workspaceId: 'ws_count_a', at: base + i }));
      const b = [0, 1].map((i) => entry({ workspaceId: 'ws_count_b', at: base + i }));
      // Same time for all: the insert order breaks the tie.
      const c = [0, 1, 2, 3].map(() => entry({ workspaceId: 'ws_count_c', at: base }));
      for (const e of [...a, ...b, ...c]) log.record(e);
      await log.flush();
      await log.prune();
      const kept = async (workspaceId: string) =>
        (await h.herald.db.selectFrom('request_log').select('request_id').where('workspace_id', '=', workspaceId).execute())
          .map((r) => r.request_id)
          .sort();
      assert.deepEqual(
        await kept('ws_count_a'),
        a
          .slice(2)
          .map((e) => e.requestId)
          .sort(),
      );
      assert.deepEqual(await kept('ws_count_b'), b.map((e) => e.requestId).sort());
      assert.deepEqual(
        await kept('ws_count_c'),
        c
          .slice(1)
          .map((e) => e.requestId)
          .sort(),
      );
      // Earlier tests sent staging both kinds of traffic: each kind keeps its own 3.
      const staging = await h.herald.db
        .selectFrom('request_log')
        .select(['is_authenticated', (eb) => eb.fn.countAll().as('n')])
        .where('workspace_id', '=', h.staging.id)
        .groupBy('is_authenticated')
        .orderBy('is_authenticated')
        .execute();
      assert.deepEqual(
        staging.map((row) => [Number(row.is_authenticated), Number(row.n)]),
        [
          [0, 3],
          [1, 3],
        ],
      );
      const unattributed = await h.herald.db
        .selectFrom('request_log')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('workspace_id', 'is', null)
        .executeTakeFirstOrThrow();
      assert.equal(Number(unattributed.n), 3);
    });

    test('rejections anyone can send in a workspace’s name never push its real traffic out', async () => {
      const log = new RequestLogService(h.herald.db, h.clock, { maxRows: 5, maxAgeMs: 7 * DAY_MS });
      const base = h.clock.now();
      const real = [0, 1, 2, 3].map((i) => entry({ workspaceId: 'ws_budget', at: base + i, credentialType: 'hmac' }));
      const junk = Array.from({ length: 50 }, (_, i) =>
        entry({ workspaceId: 'ws_budget', at: base + 10 + i, status: 401, errorCode: 'SIGNATURE_INVALID', isAuthenticated: false }),
      );
      for (const e of [...real, ...junk]) log.record(e);
      await log.flush();
      await log.prune();
      const rows = await h.herald.db
        .selectFrom('request_log')
        .select(['request_id', 'is_authenticated'])
        .where('workspace_id', '=', 'ws_budget')
        .execute();
      assert.deepEqual(
        rows
          .filter((r) => r.is_authenticated === 1)
          .map((r) => r.request_id)
          .sort(),
        real.map((e) => e.requestId).sort(),
        'every authenticated entry survived the flood',
      );
      assert.deepEqual(
        rows
          .filter((r) => r.is_authenticated === 0)
          .map((r) => r.request_id)
          .sort(),
        junk
          .slice(-5)
          .map((e) => e.requestId)
          .sort(),
        'the newest rejections are kept within their own budget',
      );
    });

    test('retention by age: rows older than HERALD_REQUEST_LOG_MAX_AGE go at the next prune', async () => {
      const fresh = entry({ workspaceId: h.staging.id, at: h.clock.now() });
      h.herald.requestLog.record(fresh);
      await h.herald.requestLog.flush();
      assert.ok((await h.herald.requestLog.list(h.staging.id)).entries.some((e) => e.request_id === fresh.requestId));
      h.clock.advance(6 * DAY_MS);
      try {
        await h.herald.requestLog.prune();
        assert.ok((await h.herald.requestLog.list(h.staging.id)).entries.some((e) => e.request_id === fresh.requestId));
        // Past seven days for every row so far (some were recorded with the clock moved ahead).
        h.clock.advance(DAY_MS + 2 * 3_600_000);
        const pruned = await h.herald.requestLog.prune();
        assert.ok(pruned.byAge >= 1);
        const left = await h.herald.db.selectFrom('request_log').select('created_at').execute();
        assert.ok(left.every((r) => r.created_at >= h.clock.now() - 7 * DAY_MS));
        assert.equal((await h.herald.requestLog.list(h.staging.id)).entries.length, 0);
      } finally {
        h.clock.advance(-(7 * DAY_MS + 2 * 3_600_000));
      }
    });
  });
}
