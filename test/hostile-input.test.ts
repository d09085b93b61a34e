import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { MAX_JSON_DEPTH } from '../src/http/raw-body.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { hmacHeaders } from './helpers/http.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

/**
 * Input that once reached the database and came back as a 500 (or broke a page for the whole
 * workspace): deep JSON, strings that are not clean text, integers past 2^53. Each is a 400 that
 * names the problem, on both engines, and changes nothing.
 */

/** `{"a":{"a":…"leaf"…}}`, built as text: JSON.stringify itself overflows the stack on such values. */
function nested(levels: number): string {
  return `${'{"a":'.repeat(levels)}"leaf"${'}'.repeat(levels)}`;
}

for (const engine of enginesUnderTest()) {
  describe(`hostile input on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;

    const send = (method: 'GET' | 'POST' | 'PATCH', url: string, body?: string) => h.signed(method, url, body);

    const countRows = async (table: 'notifications' | 'users' | 'events') =>
      Number(
        (
          await h.herald.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      await new WorkflowService(h.herald).apply(h.staging.id, [
        { slug: 'hostile', category: 'transactional', steps: [{ type: 'inbox', template: { text: 'Hi {{data.name}}' } }] },
      ]);
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    test('JSON nested past the limit is refused on every body, before anything is stored', async () => {
      const before = {
        notifications: await countRows('notifications'),
        users: await countRows('users'),
        events: await countRows('events'),
      };
      const deep = nested(5_000);
      const cases: Array<[string, string, string]> = [
        ['trigger data', '/trigger/', `{"workflow":"hostile","recipients":["deep-user"],"data":${deep}}`],
        ['user properties', '/v1/user/deep-user', `{"properties":${deep}}`],
        ['identity $set', '/event/', `{"distinct_id":"deep-user","event":"$identify","properties":{"$set":{"profile":${nested(1_000)}}}}`],
        ['event properties', '/event/', `{"distinct_id":"deep-user","event":"clicked","properties":{"x":${deep}}}`],
        ['tenant properties', '/v1/tenant/deep-tenant', `{"tenant_name":"Deep","properties":${deep}}`],
      ];
      for (const [label, url, body] of cases) {
        const response = await send('POST', url, body);
        assert.equal(response.statusCode, 400, `${label}: ${response.body}`);
        assert.match(response.json().message, new RegExp(`nested deeper than ${MAX_JSON_DEPTH} levels`), label);
      }
      // At the limit is fine.
      const ok = await send('POST', '/trigger/', `{"workflow":"hostile","recipients":["deep-user"],"data":${nested(MAX_JSON_DEPTH - 2)}}`);
      assert.equal(ok.statusCode, 202, ok.body);
      assert.equal(await countRows('notifications'), before.notifications + 1);
      assert.equal(await countRows('events'), before.events);
    });

    test('U+0000 and lone surrogates are refused in values, keys, ids and paths', async () => {
      const before = {
        notifications: await countRows('notifications'),
        users: await countRows('users'),
        events: await countRows('events'),
      };
      const cases: Array<[string, 'POST' | 'GET', string, unknown]> = [
        ['NUL in an event name', 'POST', '/event/', { distinct_id: 'clean-user', event: 'clicked\u0000', properties: {} }],
        ['NUL in trigger data', 'POST', '/trigger/', { workflow: 'hostile', recipients: ['clean-user'], data: { name: 'a\u0000b' } }],
        ['lone surrogate in a profile value', 'POST', '/v1/user/clean-user', { properties: { name: 'x\ud800' } }],
        ['lone surrogate in a key', 'POST', '/v1/user/clean-user', { properties: { ['k\udfff']: 1 } }],
        ['lone surrogate in a recipient', 'POST', '/trigger/', { workflow: 'hostile', recipients: ['x\ud800', 'victim'] }],
        ['NUL in a path id', 'GET', '/v1/user/a%00b', undefined],
      ];
      for (const [label, method, url, body] of cases) {
        const response = await send(method, url, body === undefined ? undefined : JSON.stringify(body));
        assert.equal(response.statusCode, 400, `${label}: ${response.body}`);
        assert.match(response.json().message, /U\+0000|lone UTF-16 surrogate/, label);
      }
      assert.equal(await countRows('notifications'), before.notifications);
      assert.equal(await countRows('users'), before.users);
      assert.equal(await countRows('events'), before.events);
    });

    test('HMAC signatures cover the body whatever its content type', async () => {
      // Signed as if the body were empty (the server once kept raw bytes only for JSON).
      const contentType = 'text/plain';
      const date = new Date().toUTCString();
      const signFor = (md5: string) =>
        createHmac('sha256', h.staging.secret).update(`POST\n${md5}\n${contentType}\n${date}\n/event/`, 'utf8').digest('base64');
      const body = '{"distinct_id":"plain-user","event":"smuggled"}';
      const headers = (signature: string) => ({
        'content-type': contentType,
        date,
        authorization: `${h.staging.workspaceKey}:${signature}`,
      });
      const forged = await h.app.inject({ method: 'POST', url: '/event/', headers: headers(signFor('')), payload: body });
      assert.equal(forged.statusCode, 401, forged.body);
      assert.equal(forged.json().error.type, 'SIGNATURE_INVALID');
      // Signed over its real bytes, it authenticates; a text body is still not an event.
      const md5 = createHash('md5').update(body).digest('hex');
      const signed = await h.app.inject({ method: 'POST', url: '/event/', headers: headers(signFor(md5)), payload: body });
      assert.equal(signed.statusCode, 400, signed.body);
    });

    test('offsets past 2^53 are a 400, not a database error', async () => {
      for (const url of [
        '/v1/tenant?offset=99999999999999999999',
        '/v1/subscriber_list?offset=99999999999999999999',
        '/v1/tenant?limit=1e300',
      ]) {
        const response = await send('GET', url);
        assert.equal(response.statusCode, 400, `${url}: ${response.body}`);
        assert.equal(response.json().error.type, 'VALIDATION_FAILED', url);
      }
    });
  });
}

for (const engine of enginesUnderTest()) {
  describe(`HMAC replay window on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;

    before(async () => {
      t = await createTestEnv(engine, { HERALD_HMAC_MAX_FUTURE_SKEW: '1m' });
      h = await startInProcess(t);
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    test('HERALD_HMAC_MAX_FUTURE_SKEW narrows how far ahead a signed Date may be', async () => {
      const at = (offsetMs: number) => {
        const date = new Date(h.clock.now() + offsetMs).toUTCString();
        return h.app.inject({
          method: 'GET',
          url: '/v1/auth/whoami',
          headers: hmacHeaders(h.staging.workspaceKey, h.staging.secret, 'GET', '/v1/auth/whoami', undefined, date),
        });
      };
      assert.equal((await at(-10 * 60_000)).statusCode, 200, '10 minutes behind: inside the 15-minute window');
      assert.equal((await at(30_000)).statusCode, 200, '30 s ahead: inside the narrowed future side');
      const ahead = await at(5 * 60_000);
      assert.equal(ahead.statusCode, 401, ahead.body);
      assert.equal(ahead.json().error.type, 'SIGNATURE_EXPIRED');
    });
  });
}
