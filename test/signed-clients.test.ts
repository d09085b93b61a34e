import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createAdminGroupDeps } from '../src/admin/admin-group.js';
import { CategoryService } from '../src/preferences/categories.service.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { heraldJson, runHerald } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { hmacHeaders } from './helpers/http.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

/**
 * Key+secret signed client SDKs (issue #12): web-sdk 1.x, Android 1.x and iOS legacy builds sign
 * with the workspace secret like the backend SDKs, but each its own way. The requests below are
 * built as each SDK's code builds them (web-sdk 1.3.3 src/utils.js `api()`, src/encryption.js,
 * src/preferences.js; Android 1.x NetworkClient.kt, EventFlushHandler.kt, UserPreferenceRemote.kt),
 * not from Herald's verifier.
 */

/** The server's clock: Tue Dec 01 2026 10:00:00 in India. */
const NOW = Date.UTC(2026, 11, 1, 4, 30, 0);
const DATES = {
  /** web-sdk 1.x: `new Date().toGMTString()` in x-amz-date. */
  amz: 'Tue, 01 Dec 2026 04:30:00 GMT',
  /** Android 1.x: `java.util.Date().toString()` in Date, as Java prints it in three zones. */
  androidIst: 'Tue Dec 01 10:00:00 IST 2026',
  androidPst: 'Mon Nov 30 20:30:00 PST 2026',
  androidGmt: 'Tue Dec 01 04:30:00 GMT 2026',
  androidOffset: 'Tue Dec 01 10:00:00 GMT+05:30 2026',
  /** iOS legacy: an ISO-8601 instant in Date. */
  ios: '2026-12-01T04:30:00.000Z',
};

interface SignedCall {
  method: 'GET' | 'POST';
  /** Path and query exactly as sent (and signed). */
  target: string;
  body?: string;
  date: string;
  dateHeader: 'x-amz-date' | 'date';
  /** What the SDK signs as METHOD: web-sdk 1.x signs every event call as POST. */
  signedMethod?: string;
}

/** The signature as the client SDKs compute it: HMAC-SHA256(secret, METHOD\nmd5\napplication/json\ndate\nroute), base64. */
function clientHeaders(workspaceKey: string, secret: string, call: SignedCall): Record<string, string> {
  const md5 = call.body === undefined || call.body === '' ? '' : createHash('md5').update(call.body, 'utf8').digest('hex');
  const contentType = 'application/json';
  const message = `${call.signedMethod ?? call.method}\n${md5}\n${contentType}\n${call.date}\n${call.target}`;
  const signature = createHmac('sha256', secret).update(message, 'utf8').digest('base64');
  return { 'content-type': contentType, [call.dateHeader]: call.date, authorization: `${workspaceKey}:${signature}` };
}

let sequence = 0;
const insertId = () => `sc-${process.pid}-${(sequence += 1)}`;

const track = (distinctId: unknown, event = 'button_clicked') => ({
  event,
  distinct_id: distinctId,
  env: '',
  properties: { $os: 'Linux', $sdk_version: '1.3.3' },
  $insert_id: insertId(),
  $time: NOW,
});

for (const engine of enginesUnderTest()) {
  describe(`key+secret signed client SDKs on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;
    let production: { workspaceKey: string; secret: string; id: string };
    let serviceToken: string;

    const send = (workspace: { workspaceKey: string; secret: string }, call: SignedCall, tamper?: (body: string) => string) =>
      h.app.inject({
        method: call.method,
        url: call.target,
        headers: clientHeaders(workspace.workspaceKey, workspace.secret, call),
        ...(call.body === undefined ? {} : { payload: tamper ? tamper(call.body) : call.body }),
      });
    const staging = () => h.staging;
    /** A backend SDK call (RFC 1123 Date) at the server's fixed time. */
    const backendCall = (method: 'GET' | 'POST', url: string, body?: string) =>
      h.app.inject({
        method,
        url,
        headers: hmacHeaders(h.staging.workspaceKey, h.staging.secret, method, url, body, DATES.amz),
        ...(body === undefined ? {} : { payload: body }),
      });
    const withEnv = (events: Array<Record<string, unknown>>, key = h.staging.workspaceKey): Array<Record<string, unknown>> =>
      events.map((e) => ({ ...e, env: key }));
    const eventRows = (workspaceId: string, insertIds: string[]) =>
      h.herald.db.selectFrom('events').selectAll().where('workspace_id', '=', workspaceId).where('insert_id', 'in', insertIds).execute();
    const settle = () => new Promise((resolve) => setTimeout(resolve, t.config.invalidationPollMs * 4));
    const errorOf = (body: string) => (JSON.parse(body) as { error: { type: string; message: string } }).error;

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t, NOW);
      for (const slug of ['staging', 'production']) {
        const workspace = await h.herald.workspaces.get(slug);
        await new CategoryService(h.herald).apply(workspace.id, [{ slug: 'promotional', name: 'Promotions' }]);
        await new WorkflowService(h.herald).apply(workspace.id, [
          { slug: 'welcome', category: 'promotional', steps: [{ type: 'inbox', template: { text: 'Hi' } }] },
        ]);
      }
      const prod = await h.herald.workspaces.get('production');
      assert.equal(prod.isEnhancedSecurity, true, 'production starts in enhanced security');
      production = { id: prod.id, workspaceKey: prod.workspaceKey, secret: await h.herald.workspaceSecrets.reveal(prod.id) };
      const cli = { type: 'cli' as const, id: null, label: 'cli:test', ip: null };
      serviceToken = (
        await createAdminGroupDeps(h.herald).serviceTokens.create(
          { name: 'switch', role: 'admin', workspaces: ['production'] },
          { kind: 'cli' },
          cli,
        )
      ).token;
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    for (const [name, date, dateHeader] of [
      ['web-sdk 1.x (x-amz-date, RFC 1123)', DATES.amz, 'x-amz-date'],
      ['Android 1.x (java.util.Date, IST)', DATES.androidIst, 'date'],
      ['Android 1.x (java.util.Date, PST)', DATES.androidPst, 'date'],
      ['Android 1.x (java.util.Date, GMT)', DATES.androidGmt, 'date'],
      ['Android 1.x (java.util.Date, GMT+05:30)', DATES.androidOffset, 'date'],
      ['iOS legacy (ISO-8601)', DATES.ios, 'date'],
    ] as const) {
      test(`${name}: an array batch on /event/ is answered 202 and stored once per $insert_id`, async () => {
        const user = `user-${sequence}`;
        const batch = withEnv([
          track('anon-1'),
          // web-sdk 1.x identify(): no top-level distinct_id; the user is properties.$identified_id.
          { event: '$identify', $insert_id: insertId(), $time: NOW, properties: { $identified_id: user, $anon_id: 'anon-1' } },
          // web-sdk 1.x user.set(): the operation at the top level.
          { distinct_id: user, $insert_id: insertId(), $time: NOW, $set: { plan: 'pro' } },
          track(user),
        ]);
        const call: SignedCall = { method: 'POST', target: '/event/', body: JSON.stringify(batch), date, dateHeader };
        const first = await send(staging(), call);
        assert.equal(first.statusCode, 202, first.body);
        const again = await send(staging(), call);
        assert.equal(again.statusCode, 202, again.body);
        const ids = batch.map((e) => e['$insert_id'] as string);
        const rows = await eventRows(h.staging.id, ids);
        assert.equal(rows.length, ids.length, 'each $insert_id stored once');
        const profile = await backendCall('GET', `/v1/user/${user}`);
        assert.equal(profile.statusCode, 200, profile.body);
        assert.equal((profile.json() as { properties: { plan?: string } }).properties.plan, 'pro');
      });
    }

    test('web-sdk 1.x signs event calls as POST whatever it sends; the signature must match the request', async () => {
      const body = JSON.stringify(withEnv([track('u-method')]));
      const good = await send(staging(), { method: 'POST', target: '/event/', body, date: DATES.amz, dateHeader: 'x-amz-date' });
      assert.equal(good.statusCode, 202, good.body);
      const tampered = await send(staging(), { method: 'POST', target: '/event/', body, date: DATES.amz, dateHeader: 'x-amz-date' }, (b) =>
        b.replace('u-method', 'u-other'),
      );
      assert.equal(tampered.statusCode, 401);
      assert.equal(errorOf(tampered.body).type, 'SIGNATURE_INVALID');
      const wrongSecret = await send(
        { workspaceKey: h.staging.workspaceKey, secret: production.secret },
        { method: 'POST', target: '/event/', body, date: DATES.amz, dateHeader: 'x-amz-date' },
      );
      assert.equal(wrongSecret.statusCode, 401);
      assert.equal(errorOf(wrongSecret.body).type, 'SIGNATURE_INVALID');
    });

    test('stale dates are refused in every format, and unknown or ambiguous zones with the reason', async () => {
      const body = JSON.stringify(withEnv([track('u-stale')]));
      for (const [date, dateHeader] of [
        ['Tue, 01 Dec 2026 04:00:00 GMT', 'x-amz-date'],
        ['Tue Dec 01 09:30:00 IST 2026', 'date'],
        ['Mon Nov 30 20:00:00 PST 2026', 'date'],
        ['2026-12-01T04:00:00.000Z', 'date'],
        // An Israeli device also prints IST: read as India, it is 3.5 hours off and refused (never guessed).
        ['Tue Dec 01 06:30:00 IST 2026', 'date'],
      ] as const) {
        const response = await send(staging(), { method: 'POST', target: '/event/', body, date, dateHeader });
        assert.equal(response.statusCode, 401, `${date}: ${response.body}`);
        assert.equal(errorOf(response.body).type, 'SIGNATURE_EXPIRED', date);
      }
      const ambiguous = await send(staging(), {
        method: 'POST',
        target: '/event/',
        body,
        date: 'Tue Dec 01 08:30:00 GST 2026',
        dateHeader: 'date',
      });
      assert.equal(ambiguous.statusCode, 401);
      assert.match(errorOf(ambiguous.body).message, /GST is ambiguous/);
      const unknown = await send(staging(), {
        method: 'POST',
        target: '/event/',
        body,
        date: 'Tue Dec 01 08:30:00 QQT 2026',
        dateHeader: 'date',
      });
      assert.equal(unknown.statusCode, 401);
      assert.match(errorOf(unknown.body).message, /QQT is not one Herald knows/);
      assert.equal((await eventRows(h.staging.id, [JSON.parse(body)[0].$insert_id as string])).length, 0, 'nothing stored');
    });

    test('a batch with a refused record: 202 for a signed client (Android dequeues on 202 only), 207 for a backend', async () => {
      const batch = withEnv([track('u-partial'), { event: 'x', distinct_id: 'u-partial', $insert_id: insertId() }]);
      const body = JSON.stringify(batch);
      const android = await send(staging(), { method: 'POST', target: '/event/', body, date: DATES.androidIst, dateHeader: 'date' });
      assert.equal(android.statusCode, 202, android.body);
      const outcome = android.json() as { status: string; records: Array<{ status: string }> };
      assert.equal(outcome.status, 'partial');
      assert.deepEqual(
        outcome.records.map((r) => r.status),
        ['success', 'error'],
      );
      const backendBody = JSON.stringify(withEnv([track('u-partial'), { event: 'x', distinct_id: 'u-partial', $insert_id: insertId() }]));
      const backend = await backendCall('POST', '/event/', backendBody);
      assert.equal(backend.statusCode, 207, backend.body);
    });

    test('preferences: GET and POST on /v1/subscriber/{id}/…, as web-sdk 1.x and Android 1.x call them', async () => {
      const user = 'pref-user';
      const get = (target: string, date = DATES.amz, dateHeader: 'x-amz-date' | 'date' = 'x-amz-date') =>
        send(staging(), { method: 'GET', target, date, dateHeader });
      const post = (target: string, body: unknown, date = DATES.amz, dateHeader: 'x-amz-date' | 'date' = 'x-amz-date') =>
        send(staging(), { method: 'POST', target, body: JSON.stringify(body), date, dateHeader });

      // web-sdk 1.x: no query, no trailing slash; with a query, `…/full_preference/?tenant_id=…`.
      const full = await get(`/v1/subscriber/${user}/full_preference`);
      assert.equal(full.statusCode, 200, full.body);
      const data = full.json() as { sections: Array<{ subcategories: Array<{ category: string; preference: string }> }> };
      const promotional = data.sections.flatMap((s) => s.subcategories).find((c) => c.category === 'promotional');
      assert.equal(promotional?.preference, 'opt_in');
      assert.equal((await get(`/v1/subscriber/${user}/full_preference/?tenant_id=default`)).statusCode, 200);
      assert.equal((await get(`/v1/subscriber/${user}/category/promotional`)).statusCode, 200);
      assert.equal((await get(`/v1/subscriber/${user}/channel_preference`)).statusCode, 200);

      const updated = await post(`/v1/subscriber/${user}/category/promotional`, { preference: 'opt_out', opt_out_channels: [] });
      assert.equal(updated.statusCode, 200, updated.body);
      assert.equal((updated.json() as { preference: string }).preference, 'opt_out');
      const channels = await post(`/v1/subscriber/${user}/channel_preference`, {
        channel_preferences: [{ channel: 'email', is_restricted: true }],
      });
      assert.equal(channels.statusCode, 200, channels.body);

      // Android 1.x: brandId (empty), empty limit and offset, Date from java.util.Date.
      const android = await get(`/v1/subscriber/${user}/category?brandId=&limit=&offset=`, DATES.androidIst, 'date');
      assert.equal(android.statusCode, 200, android.body);
      const androidFull = await get(`/v1/subscriber/${user}/full_preference?brandId=`, DATES.androidPst, 'date');
      const after = androidFull.json() as typeof data & { channel_preferences: Array<{ channel: string; is_restricted: boolean }> };
      assert.equal(after.sections.flatMap((s) => s.subcategories).find((c) => c.category === 'promotional')?.preference, 'opt_out');
      assert.equal(after.channel_preferences.find((c) => c.channel === 'email')?.is_restricted, true);
      // The backend view of the same user agrees.
      const backend = await backendCall('GET', `/v1/user/${user}/preference/category/promotional`);
      assert.equal((backend.json() as { preference: string }).preference, 'opt_out');

      const tampered = await send(
        staging(),
        {
          method: 'POST',
          target: `/v1/subscriber/${user}/category/promotional`,
          body: JSON.stringify({ preference: 'opt_in' }),
          date: DATES.amz,
          dateHeader: 'x-amz-date',
        },
        () => JSON.stringify({ preference: 'opt_out' }),
      );
      assert.equal(tampered.statusCode, 401);
      const stale = await get(`/v1/subscriber/${user}/full_preference`, 'Tue, 01 Dec 2026 03:00:00 GMT');
      assert.equal(stale.statusCode, 401);
      assert.equal(errorOf(stale.body).type, 'SIGNATURE_EXPIRED');
    });

    test('numeric distinct_id: a whole number is its decimal string on every path; other numbers are a clear 400', async () => {
      const batch = withEnv([
        track(12345),
        { event: '$identify', $insert_id: insertId(), $time: NOW, properties: { $identified_id: 12346, $anon_id: 'anon-9' } },
        { distinct_id: 12347, $insert_id: insertId(), $time: NOW, $set: { plan: 'numeric' } },
      ]);
      const signedClient = await send(staging(), {
        method: 'POST',
        target: '/event/',
        body: JSON.stringify(batch),
        date: DATES.amz,
        dateHeader: 'x-amz-date',
      });
      assert.equal(signedClient.statusCode, 202, signedClient.body);
      assert.equal((signedClient.json() as { status: string }).status, 'success', signedClient.body);
      const rows = await eventRows(
        h.staging.id,
        batch.map((e) => e['$insert_id'] as string),
      );
      assert.deepEqual(rows.map((r) => r.distinct_id).sort(), ['12345', '12346', '12347']);
      assert.equal(((await backendCall('GET', '/v1/user/12347')).json() as { properties: { plan: string } }).properties.plan, 'numeric');

      // Backend SDK paths: single events, identity events, trigger recipients, list members.
      const single = await backendCall('POST', '/event/', JSON.stringify({ ...track(777), env: h.staging.workspaceKey }));
      assert.equal(single.statusCode, 202, single.body);
      const identity = await backendCall(
        'POST',
        '/event/',
        JSON.stringify({
          $schema: '2',
          $insert_id: insertId(),
          env: h.staging.workspaceKey,
          distinct_id: 778,
          $user_operations: [{ $set: { a: 1 } }],
        }),
      );
      assert.equal(identity.statusCode, 202, identity.body);
      assert.equal((await backendCall('GET', '/v1/user/778')).statusCode, 200);
      const trigger = await backendCall(
        'POST',
        '/trigger/',
        JSON.stringify({ workflow: 'welcome', recipients: [{ distinct_id: 779 }, 782], data: {} }),
      );
      assert.equal(trigger.statusCode, 202, trigger.body);
      for (let attempt = 0; ; attempt += 1) {
        const delivered = await h.herald.db
          .selectFrom('notifications')
          .select('distinct_id')
          .where('workspace_id', '=', h.staging.id)
          .where('distinct_id', 'in', ['779', '782'])
          .execute();
        if (delivered.length === 2) break;
        assert.ok(attempt < 50, `numeric recipients not delivered: ${JSON.stringify(delivered)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(
        (await backendCall('POST', '/v1/subscriber_list/', JSON.stringify({ list_id: 'numeric', list_name: 'N' }))).statusCode < 300,
        true,
      );
      const members = await backendCall('POST', '/v1/subscriber_list/numeric/subscriber/add/', JSON.stringify({ distinct_ids: [780] }));
      assert.equal(members.statusCode < 300, true, members.body);

      // The web SDK 4.x path (public key; staging has enhanced security off).
      const { key: publicKey } = await h.herald.publicKeys.create(await h.herald.workspaces.get('staging'), {});
      await settle();
      const clientEvent = await h.app.inject({
        method: 'POST',
        url: '/v2/event',
        headers: { authorization: publicKey, 'content-type': 'application/json' },
        payload: { event: '$identify', $insert_id: insertId(), properties: { $identified_id: 781 } },
      });
      assert.equal(clientEvent.statusCode, 202, clientEvent.body);

      for (const bad of ['1.5', '1e20', '99999999999999999999', '-0.5', '9007199254740993']) {
        const text = `{"event":"x_clicked","distinct_id":${bad},"$insert_id":"${insertId()}","env":"${h.staging.workspaceKey}"}`;
        const response = await backendCall('POST', '/event/', text);
        assert.equal(response.statusCode, 400, `${bad}: ${response.body}`);
        assert.equal(errorOf(response.body).type, 'VALIDATION_FAILED');
        assert.match(errorOf(response.body).message, /distinct_id must be a string or a whole number/);
        const identify = `{"event":"$identify","$insert_id":"${insertId()}","properties":{"$identified_id":${bad}}}`;
        const refused = await h.app.inject({
          method: 'POST',
          url: '/v2/event',
          headers: { authorization: publicKey, 'content-type': 'application/json' },
          payload: identify,
        });
        assert.equal(refused.statusCode, 400, `${bad}: ${refused.body}`);
      }
    });

    test('enhanced security: signed client calls are refused (naming the switch) until the workspace allows them', async () => {
      const body = JSON.stringify(withEnv([track('prod-user')], production.workspaceKey));
      const clientCalls: SignedCall[] = [
        { method: 'POST', target: '/event/', body, date: DATES.amz, dateHeader: 'x-amz-date' },
        { method: 'POST', target: '/event/', body, date: DATES.androidIst, dateHeader: 'date' },
        { method: 'POST', target: '/event/', body, date: DATES.ios, dateHeader: 'date' },
        { method: 'GET', target: '/v1/subscriber/prod-user/full_preference', date: DATES.amz, dateHeader: 'x-amz-date' },
        // A preference route is a client route whatever its date looks like.
        { method: 'GET', target: '/v1/subscriber/prod-user/full_preference', date: 'Tue, 01 Dec 2026 04:30:00 GMT', dateHeader: 'date' },
      ];
      for (const call of clientCalls) {
        const refused = await send(production, call);
        assert.equal(refused.statusCode, 403, `${call.target} ${call.date}: ${refused.body}`);
        assert.equal(errorOf(refused.body).type, 'FORBIDDEN');
        assert.match(errorOf(refused.body).message, /allow key\+secret signed client calls/);
        assert.match(errorOf(refused.body).message, /herald signed-clients production on/);
      }
      // The backend SDKs (RFC 1123 in Date) are not affected.
      const backendBody = JSON.stringify(withEnv([track('prod-user')], production.workspaceKey));
      const backend = await h.app.inject({
        method: 'POST',
        url: '/event/',
        headers: hmacHeaders(production.workspaceKey, production.secret, 'POST', '/event/', backendBody, DATES.amz),
        payload: backendBody,
      });
      assert.equal(backend.statusCode, 202, backend.body);
      // A bad signature is still a 401, not a 403 that would tell the setting to anyone.
      const forged = await send({ workspaceKey: production.workspaceKey, secret: 'not-the-secret' }, clientCalls[0] as SignedCall);
      assert.equal(forged.statusCode, 401);

      const toggle = (enabled: unknown) =>
        h.app.inject({
          method: 'PUT',
          url: '/admin/api/workspaces/production/signed-clients',
          headers: { authorization: `ServiceToken ${serviceToken}`, 'content-type': 'application/json' },
          payload: { enabled },
        });
      const badToggle = await toggle('yes');
      assert.equal(badToggle.statusCode, 400, badToggle.body);
      const on = await toggle(true);
      assert.equal(on.statusCode, 200, on.body);
      assert.equal((on.json() as { allow_signed_clients: boolean }).allow_signed_clients, true);
      for (const call of clientCalls) {
        const allowed = await send(production, call);
        assert.ok(
          allowed.statusCode === 200 || allowed.statusCode === 202,
          `${call.target} ${call.date}: ${allowed.statusCode} ${allowed.body}`,
        );
      }
      const audit = await h.herald.db
        .selectFrom('audit_log')
        .select('action')
        .where('workspace_id', '=', production.id)
        .where('action', 'like', 'signed_clients.%')
        .execute();
      assert.deepEqual(
        audit.map((a) => a.action),
        ['signed_clients.allowed'],
      );
      const off = await toggle(false);
      assert.equal(off.statusCode, 200, off.body);
      assert.equal((await send(production, clientCalls[0] as SignedCall)).statusCode, 403);

      // With enhanced security off the switch does not matter.
      await h.herald.workspaces.setEnhancedSecurity('production', false);
      await settle();
      assert.equal((await send(production, clientCalls[0] as SignedCall)).statusCode, 202);
      await h.herald.workspaces.setEnhancedSecurity('production', true);
      await settle();
    });

    test('the CLI shows and sets the switch (audited as the CLI); a wrong state is a usage error', async () => {
      const call: SignedCall = {
        method: 'POST',
        target: '/event/',
        body: JSON.stringify(withEnv([track('cli-user')], production.workspaceKey)),
        date: DATES.amz,
        dateHeader: 'x-amz-date',
      };
      const shown = await heraldJson<{ allow_signed_clients: boolean; enhanced_security: boolean }>(
        ['signed-clients', 'production'],
        t.env,
      );
      assert.deepEqual(shown, { workspace: 'production', allow_signed_clients: false, enhanced_security: true });
      const bad = await runHerald(['signed-clients', 'production', 'maybe'], t.env);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /signed-clients takes on or off/);
      const on = await heraldJson<{ allow_signed_clients: boolean }>(['signed-clients', 'production', 'on'], t.env);
      assert.equal(on.allow_signed_clients, true);
      await settle();
      assert.equal((await send(production, call)).statusCode, 202);
      await heraldJson(['signed-clients', 'production', 'off'], t.env);
      await settle();
      assert.equal((await send(production, call)).statusCode, 403);
      const actors = await h.herald.db
        .selectFrom('audit_log')
        .select(['action', 'actor_type'])
        .where('workspace_id', '=', production.id)
        .where('action', 'like', 'signed_clients.%')
        .orderBy('id')
        .execute();
      assert.deepEqual(
        actors.slice(-2).map((a) => `${a.action} ${a.actor_type}`),
        ['signed_clients.allowed cli', 'signed_clients.refused cli'],
      );
    });
  });
}
