import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PreferenceService } from '../src/preferences/preferences.service.js';
import { ROOT, type CliResult } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { hmacHeaders } from './helpers/http.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

type Json = Record<string, unknown>;
interface Credentials {
  workspaceKey: string;
  secret: string;
}
interface Reply {
  status: number;
  body: Json;
}

/** The CLI from source (not dist/), as a separate process like a user would run it. */
function runCliFromSource(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const CATEGORIES = [
  { slug: 'security-alerts', name: 'Security alerts', section: 'Account', default_preference: 'cant_unsubscribe' },
  { slug: 'billing', name: 'Billing', section: 'Account', description: 'Invoices and receipts' },
  { slug: 'newsletter', name: 'Newsletter', section: 'Marketing', default_preference: 'opt_out' },
  { slug: 'product-updates', name: 'Product updates', section: 'Marketing', default_preference: 'opt_in' },
  { slug: 'digest', name: 'Daily digest' },
];

const ALL_CHANNELS = ['email', 'sms', 'whatsapp', 'androidpush', 'iospush', 'webpush', 'slack', 'ms_teams', 'inbox'];

function subcategory(prefs: Json, slug: string): Json | undefined {
  for (const section of prefs['sections'] as Array<{ subcategories: Json[] }>) {
    const found = section.subcategories.find((s) => s['category'] === slug);
    if (found) return found;
  }
  return undefined;
}

function channelOf(view: Json | undefined, channel: string): Json | undefined {
  return (view?.['channels'] as Json[] | undefined)?.find((c) => c['channel'] === channel);
}

for (const engine of enginesUnderTest()) {
  describe(`categories, preferences and user tenants on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;
    let staging: Credentials;
    let other: Credentials & { id: string };
    let preferences: PreferenceService;

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      staging = h.staging;
      const ws = await h.herald.workspaces.create({ slug: 'other' });
      other = { id: ws.id, workspaceKey: ws.workspaceKey, secret: await h.herald.workspaceSecrets.reveal(ws.id) };
      preferences = new PreferenceService(h.herald);
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    /** A request signed like the Python SDK signs it. */
    async function call(method: string, target: string, body?: unknown, as: Credentials = staging): Promise<Reply> {
      const text = body === undefined ? (method === 'DELETE' ? '' : undefined) : JSON.stringify(body);
      const response = await fetch(`${h.baseUrl}${target}`, {
        method,
        headers: hmacHeaders(as.workspaceKey, as.secret, method, target, text),
        ...(text === undefined ? {} : { body: text }),
      });
      return { status: response.status, body: (await response.json()) as Json };
    }

    async function cli(...args: string[]): Promise<CliResult> {
      return runCliFromSource(args, t.env);
    }

    function writeJson(name: string, content: unknown): string {
      const file = path.join(t.dataDir, name);
      writeFileSync(file, JSON.stringify(content));
      return file;
    }

    async function insertTenant(workspaceId: string, tenantId: string, name: string): Promise<void> {
      const now = h.clock.now();
      await h.herald.db
        .insertInto('tenants')
        .values({ workspace_id: workspaceId, tenant_id: tenantId, name, properties: '{}', created_at: now, updated_at: now })
        .execute();
    }

    async function setTenantCategory(workspaceId: string, tenantId: string, category: string, settings: Json): Promise<void> {
      await h.herald.db
        .insertInto('tenant_category_preferences')
        .values({ workspace_id: workspaceId, tenant_id: tenantId, category, settings: JSON.stringify(settings), updated_at: h.clock.now() })
        .execute();
    }

    test('category apply creates and replaces by slug; category list shows them', async () => {
      const applied = await cli('category', 'apply', 'staging', writeJson('categories.json', CATEGORIES), '--json');
      assert.equal(applied.code, 0, applied.stderr);
      const result = JSON.parse(applied.stdout) as { created: string[]; replaced: string[]; categories: Json[] };
      assert.deepEqual(result.created, ['security-alerts', 'billing', 'newsletter', 'product-updates', 'digest']);
      assert.deepEqual(result.replaced, []);
      assert.equal(result.categories.length, 5);

      // One object (not a list) replaces just that category, keeping its creation time.
      const before = (await h.herald.db.selectFrom('categories').selectAll().where('slug', '=', 'digest').executeTakeFirstOrThrow())
        .created_at;
      const replaced = await cli(
        'category',
        'apply',
        'staging',
        writeJson('one.json', { slug: 'digest', name: 'Digest', description: 'Once a day' }),
      );
      assert.equal(replaced.code, 0, replaced.stderr);
      assert.match(replaced.stdout, /Applied 1 category in staging: replaced digest\./);

      const listed = await cli('category', 'list', 'staging', '--json');
      assert.equal(listed.code, 0, listed.stderr);
      const list = JSON.parse(listed.stdout) as Json[];
      assert.deepEqual(
        list.map((c) => [c['slug'], c['default_preference'], c['section']]),
        [
          ['billing', 'opt_in', 'Account'],
          ['digest', 'opt_in', null],
          ['newsletter', 'opt_out', 'Marketing'],
          ['product-updates', 'opt_in', 'Marketing'],
          ['security-alerts', 'cant_unsubscribe', 'Account'],
        ],
      );
      const digest = list.find((c) => c['slug'] === 'digest');
      assert.equal(digest?.['name'], 'Digest');
      assert.equal(digest?.['description'], 'Once a day');
      assert.equal(digest?.['created_at'], before);
      assert.ok((digest?.['updated_at'] as number) > before, 'replacing updates updated_at');

      const text = await cli('category', 'list', 'staging');
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /^SLUG\s+NAME\s+SECTION\s+DEFAULT\s+UPDATED/);
      assert.match(text.stdout, /security-alerts\s+Security alerts\s+Account\s+cant_unsubscribe/);

      // Other workspaces have none of them.
      const otherList = await cli('category', 'list', 'other', '--json');
      assert.deepEqual(JSON.parse(otherList.stdout), []);
    });

    test('a category file with any problem applies nothing and says what is wrong', async () => {
      const bad = writeJson('bad.json', [
        { slug: 'fresh', name: 'Fresh' },
        { slug: 'billing', name: 'Billing', default_preference: 'sometimes' },
        { slug: 'fresh', name: 'Twice' },
      ]);
      const result = await cli('category', 'apply', 'staging', bad, '--json');
      assert.equal(result.code, 1);
      const error = (JSON.parse(result.stderr) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'VALIDATION_FAILED');
      assert.match(error.message, /category\[1\] "billing": default_preference must be one of opt_in, opt_out, cant_unsubscribe/);
      assert.match(error.message, /category\[2\] "fresh": slug "fresh" is also used by category\[0\]/);
      const list = JSON.parse((await cli('category', 'list', 'staging', '--json')).stdout) as Json[];
      assert.equal(list.length, 5);
      assert.ok(!list.some((c) => c['slug'] === 'fresh'));
      assert.equal(list.find((c) => c['slug'] === 'billing')?.['default_preference'], 'opt_in');

      const missing = await cli('category', 'apply', 'staging', path.join(t.dataDir, 'nope.json'));
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /cannot read .*nope\.json: ENOENT/);
      const notJson = path.join(t.dataDir, 'broken.json');
      writeFileSync(notJson, '{\n  "slug": "x",\n  "name" "y"\n}');
      const broken = await cli('category', 'apply', 'staging', notJson);
      assert.equal(broken.code, 2);
      assert.match(broken.stderr, /broken\.json is not valid JSON: .* at line 3, column 10/);
      assert.doesNotMatch(broken.stderr, /--help/, 'a file that fails to parse is not a usage problem');

      // A workflow naming a category the workspace does not define applies, with a warning.
      const workflowFile = path.join(t.dataDir, 'uncategorised.json');
      writeFileSync(
        workflowFile,
        JSON.stringify({ slug: 'uncategorised', category: 'no-such', steps: [{ type: 'inbox', template: { text: 'x' } }] }),
      );
      const applied = await cli('workflow', 'apply', 'staging', workflowFile);
      assert.equal(applied.code, 0, applied.stderr);
      assert.match(applied.stderr, /warning: workflow uncategorised names category "no-such", which staging does not define/);
      writeFileSync(
        workflowFile,
        JSON.stringify({ slug: 'uncategorised', category: 'billing', steps: [{ type: 'inbox', template: { text: 'x' } }] }),
      );
      const quiet = await cli('workflow', 'apply', 'staging', workflowFile);
      assert.equal(quiet.code, 0, quiet.stderr);
      assert.equal(quiet.stderr, '', 'a defined category: no warning');
    });

    test('full preferences: sections, defaults, mandatory categories and channel preferences', async () => {
      assert.equal((await call('POST', '/v1/user/alice/', { name: 'Alice' })).status, 200);
      const { status, body } = await call('GET', '/v1/user/alice/preference/');
      assert.equal(status, 200, JSON.stringify(body));
      const sections = body['sections'] as Array<{ name: string | null; subcategories: Json[] }>;
      assert.deepEqual(
        sections.map((s) => [s.name, s.subcategories.map((c) => c['category'])]),
        [
          [null, ['digest']],
          ['Account', ['billing', 'security-alerts']],
          ['Marketing', ['newsletter', 'product-updates']],
        ],
      );
      const billing = subcategory(body, 'billing');
      assert.equal(billing?.['name'], 'Billing');
      assert.equal(billing?.['description'], 'Invoices and receipts');
      assert.equal(billing?.['preference'], 'opt_in');
      assert.equal(billing?.['is_editable'], true);
      assert.deepEqual(
        (billing?.['channels'] as Json[]).map((c) => c['channel']),
        ALL_CHANNELS,
      );
      const security = subcategory(body, 'security-alerts');
      assert.equal(security?.['preference'], 'opt_in');
      assert.equal(security?.['is_editable'], false);
      assert.deepEqual(channelOf(security, 'email'), { channel: 'email', preference: 'opt_in', is_editable: false });
      const newsletter = subcategory(body, 'newsletter');
      assert.equal(newsletter?.['preference'], 'opt_out');
      assert.deepEqual(channelOf(newsletter, 'email'), { channel: 'email', preference: 'opt_out', is_editable: true });
      assert.deepEqual(
        body['channel_preferences'],
        ALL_CHANNELS.map((channel) => ({ channel, is_restricted: false })),
      );

      const hidden = await call('GET', '/v1/user/alice/preference/?tenant_id=default&show_opt_out_channels=false&tags=x&locale=fr');
      assert.equal(hidden.status, 200);
      assert.deepEqual(subcategory(hidden.body, 'newsletter')?.['channels'], []);
      assert.equal((subcategory(hidden.body, 'billing')?.['channels'] as Json[]).length, 9);

      // The flat, paginated form (Go SDK, and the web SDK's getCategories).
      const page = await call('GET', '/v1/user/alice/preference/category/?limit=2&offset=1');
      assert.equal(page.status, 200);
      assert.deepEqual(page.body['meta'], { count: 5, limit: 2, offset: 1 });
      assert.deepEqual(
        (page.body['results'] as Json[]).map((c) => c['category']),
        ['billing', 'security-alerts'],
      );

      assert.equal((await call('GET', '/v1/user/alice/preference/?show_opt_out_channels=perhaps')).status, 400);
      const unknownUser = await call('GET', '/v1/user/nobody/preference/');
      assert.equal(unknownUser.status, 404);
      assert.match(unknownUser.body['message'] as string, /user "nobody" not found/);
    });

    test('category preference: opt in with channel opt-outs, read back, and shouldDeliver agrees', async () => {
      assert.equal((await preferences.shouldDeliver(h.staging.id, 'alice', 'default', 'newsletter', 'email')).deliver, false);
      const patched = await call('PATCH', '/v1/user/alice/preference/category/newsletter/', {
        preference: 'opt_in',
        opt_out_channels: ['sms', 'email', 'sms'],
        digest_schedule: null,
        properties: {},
      });
      assert.equal(patched.status, 200, JSON.stringify(patched.body));
      assert.equal(patched.body['category'], 'newsletter');
      assert.equal(patched.body['preference'], 'opt_in');
      assert.equal(patched.body['is_editable'], true);
      assert.deepEqual(channelOf(patched.body, 'sms'), { channel: 'sms', preference: 'opt_out', is_editable: true });
      assert.deepEqual(channelOf(patched.body, 'email'), { channel: 'email', preference: 'opt_out', is_editable: true });
      assert.deepEqual(channelOf(patched.body, 'inbox'), { channel: 'inbox', preference: 'opt_in', is_editable: true });

      const read = await call('GET', '/v1/user/alice/preference/category/newsletter/');
      assert.equal(read.status, 200);
      assert.deepEqual(read.body, patched.body);

      // The web SDK sends opt_out_channels: null when it re-enables a category: earlier channel opt-outs stay.
      await call('PATCH', '/v1/user/alice/preference/category/newsletter/', { preference: 'opt_out', opt_out_channels: ['sms', 'email'] });
      const back = await call('PATCH', '/v1/user/alice/preference/category/newsletter/', { preference: 'opt_in', opt_out_channels: null });
      assert.equal(back.body['preference'], 'opt_in');
      assert.equal(channelOf(back.body, 'sms')?.['preference'], 'opt_out');
      const emailBackOn = await call('PATCH', '/v1/user/alice/preference/category/newsletter/', {
        preference: 'opt_in',
        opt_out_channels: ['sms'],
      });
      assert.equal(channelOf(emailBackOn.body, 'email')?.['preference'], 'opt_in');

      const before = h.queries();
      const email = await preferences.shouldDeliver(h.staging.id, 'alice', 'default', 'newsletter', 'email');
      assert.equal(h.statementsSince(before).length, 1, 'shouldDeliver is one statement');
      assert.deepEqual(email, { deliver: true, reason: `"newsletter" on email: opt_in (the user's choice)` });
      const sms = await preferences.shouldDeliver(h.staging.id, 'alice', 'default', 'newsletter', 'sms');
      assert.deepEqual(sms, { deliver: false, reason: 'the user opted out of sms for "newsletter"' });
      // Choices are per tenant and per user.
      assert.equal((await preferences.shouldDeliver(h.staging.id, 'alice', 'other-tenant', 'newsletter', 'email')).deliver, false);
      assert.equal((await preferences.shouldDeliver(h.staging.id, 'bob', 'default', 'newsletter', 'email')).deliver, false);
      // Unknown categories default to opt_in.
      assert.deepEqual(await preferences.shouldDeliver(h.staging.id, 'alice', 'default', 'no-such-category', 'email'), {
        deliver: true,
        reason: '"no-such-category" on email: opt_in (unknown category)',
      });
    });

    test('mandatory categories cannot be opted out of; bad input is refused and changes nothing', async () => {
      const optOut = await call('PATCH', '/v1/user/alice/preference/category/security-alerts/', { preference: 'opt_out' });
      assert.equal(optOut.status, 400);
      assert.equal((optOut.body['error'] as Json)['type'], 'VALIDATION_FAILED');
      assert.match(optOut.body['message'] as string, /cannot opt out of category "security-alerts": it is cant_unsubscribe/);
      const channelOut = await call('PATCH', '/v1/user/alice/preference/category/security-alerts/', {
        preference: 'opt_in',
        opt_out_channels: ['email'],
      });
      assert.equal(channelOut.status, 400);
      const security = await call('GET', '/v1/user/alice/preference/category/security-alerts/');
      assert.equal(security.body['preference'], 'opt_in');
      assert.equal(channelOf(security.body, 'email')?.['preference'], 'opt_in');
      assert.equal((await preferences.shouldDeliver(h.staging.id, 'alice', 'default', 'security-alerts', 'email')).deliver, true);

      const before = await call('GET', '/v1/user/alice/preference/');
      const bad: Array<[unknown, RegExp]> = [
        [{ preference: 'maybe' }, /preference must be "opt_in" or "opt_out"/],
        [{ preference: 'cant_unsubscribe' }, /not a user choice/],
        [{ opt_out_channels: ['sms'] }, /preference must be/],
        [{ preference: 'opt_out', opt_out_channels: ['fax', 'email'] }, /unknown channel "fax"/],
        [{ preference: 'opt_out', opt_out_channels: 'email' }, /opt_out_channels must be a list/],
        [['opt_out'], /body must be/],
      ];
      for (const [body, message] of bad) {
        const response = await call('PATCH', '/v1/user/alice/preference/category/newsletter/', body);
        assert.equal(response.status, 400, JSON.stringify(body));
        assert.match(response.body['message'] as string, message);
      }
      const unknown = await call('PATCH', '/v1/user/alice/preference/category/nope/', { preference: 'opt_out' });
      assert.equal(unknown.status, 404);
      assert.match(unknown.body['message'] as string, /category "nope" not found/);
      assert.equal((await call('GET', '/v1/user/alice/preference/category/nope/')).status, 404);
      assert.equal((await call('PATCH', '/v1/user/nobody/preference/category/newsletter/', { preference: 'opt_out' })).status, 404);
      assert.deepEqual((await call('GET', '/v1/user/alice/preference/')).body, before.body);
    });

    test('channel preferences: restricting a channel stops all but mandatory notifications on it', async () => {
      const response = await call('PATCH', '/v1/user/alice/preference/channel_preference/', {
        channel_preferences: [{ channel: 'email', is_restricted: true }],
      });
      assert.equal(response.status, 200, JSON.stringify(response.body));
      const restricted = (response.body['channel_preferences'] as Json[]).filter((c) => c['is_restricted']);
      assert.deepEqual(restricted, [{ channel: 'email', is_restricted: true }]);
      assert.ok(Array.isArray(response.body['sections']));
      const read = await call('GET', '/v1/user/alice/preference/channel_preference/');
      assert.deepEqual(read.body['channel_preferences'], response.body['channel_preferences']);

      assert.deepEqual(await preferences.shouldDeliver(h.staging.id, 'alice', 'default', 'product-updates', 'email'), {
        deliver: false,
        reason: 'the user restricted email to mandatory notifications',
      });
      assert.equal((await preferences.shouldDeliver(h.staging.id, 'alice', 'default', 'product-updates', 'inbox')).deliver, true);
      assert.equal((await preferences.shouldDeliver(h.staging.id, 'alice', 'default', 'security-alerts', 'email')).deliver, true);

      // All or nothing: one bad entry and the good one beside it is not applied either.
      const bad: Array<[unknown, RegExp]> = [
        [
          {
            channel_preferences: [
              { channel: 'sms', is_restricted: true },
              { channel: 'fax', is_restricted: true },
            ],
          },
          /channel_preferences\[1\]\.channel must be one of/,
        ],
        [{ channel_preferences: [{ channel: 'sms', is_restricted: 'yes' }] }, /is_restricted must be true or false/],
        [
          {
            channel_preferences: [
              { channel: 'sms', is_restricted: true },
              { channel: 'sms', is_restricted: false },
            ],
          },
          /lists sms twice/,
        ],
        [{ channel_preferences: [] }, /body must be/],
        [{}, /body must be/],
      ];
      for (const [body, message] of bad) {
        const rejected = await call('PATCH', '/v1/user/alice/preference/channel_preference/', body);
        assert.equal(rejected.status, 400, JSON.stringify(body));
        assert.match(rejected.body['message'] as string, message);
      }
      const after = await call('GET', '/v1/user/alice/preference/channel_preference/');
      assert.deepEqual(after.body['channel_preferences'], response.body['channel_preferences']);

      // Lifting the restriction delivers again.
      await call('PATCH', '/v1/user/alice/preference/channel_preference/', {
        channel_preferences: [{ channel: 'email', is_restricted: false }],
      });
      assert.equal((await preferences.shouldDeliver(h.staging.id, 'alice', 'default', 'product-updates', 'email')).deliver, true);
    });

    test("a tenant's category settings: disabled, blocked and mandatory channels, tenant defaults", async () => {
      await insertTenant(h.staging.id, 'acme', 'Acme');
      await setTenantCategory(h.staging.id, 'acme', 'product-updates', { enabled_for_tenant: false });
      await setTenantCategory(h.staging.id, 'acme', 'billing', { preference: 'opt_out', mandatory_channels: ['email'] });
      await setTenantCategory(h.staging.id, 'acme', 'digest', { blocked_channels: ['sms'], visible_to_subscriber: true });

      const prefs = await call('GET', '/v1/user/alice/preference/?tenant_id=acme');
      assert.equal(prefs.status, 200);
      assert.equal(subcategory(prefs.body, 'product-updates'), undefined, 'a disabled category is not shown');
      const billing = subcategory(prefs.body, 'billing');
      assert.equal(billing?.['preference'], 'opt_out');
      assert.deepEqual(channelOf(billing, 'email'), { channel: 'email', preference: 'opt_in', is_editable: false });
      assert.deepEqual(channelOf(billing, 'sms'), { channel: 'sms', preference: 'opt_out', is_editable: true });
      assert.equal(channelOf(subcategory(prefs.body, 'digest'), 'sms'), undefined, 'a blocked channel is not offered');
      // Alice's newsletter choice was for the default tenant.
      assert.equal(subcategory(prefs.body, 'newsletter')?.['preference'], 'opt_out');

      const decide = (category: string, channel: string) => preferences.shouldDeliver(h.staging.id, 'alice', 'acme', category, channel);
      assert.deepEqual(await decide('product-updates', 'email'), { deliver: false, reason: 'tenant "acme" disabled "product-updates"' });
      assert.deepEqual(await decide('billing', 'email'), { deliver: true, reason: 'email is mandatory for "billing" in tenant "acme"' });
      assert.deepEqual(await decide('billing', 'sms'), { deliver: false, reason: `"billing" on sms: opt_out (the tenant's default)` });
      assert.deepEqual(await decide('digest', 'sms'), { deliver: false, reason: 'tenant "acme" blocked sms for "digest"' });
      assert.equal((await decide('digest', 'email')).deliver, true);

      const locked = await call('PATCH', '/v1/user/alice/preference/category/billing/?tenant_id=acme', {
        preference: 'opt_in',
        opt_out_channels: ['email'],
      });
      assert.equal(locked.status, 400);
      assert.match(locked.body['message'] as string, /cannot opt out of email in category "billing": mandatory in tenant "acme"/);
      // The user may opt the category in for this tenant; the explicit choice beats the tenant default.
      const optIn = await call('PATCH', '/v1/user/alice/preference/category/billing/?tenant_id=acme', { preference: 'opt_in' });
      assert.equal(optIn.status, 200);
      assert.equal(optIn.body['preference'], 'opt_in');
      assert.equal((await decide('billing', 'sms')).deliver, true);
      assert.equal((await preferences.shouldDeliver(h.staging.id, 'alice', 'default', 'billing', 'sms')).deliver, true);

      // Channel opt-outs kept from before (opt_out_channels: null) drop a channel the tenant has made mandatory since.
      const digestOut = await call('PATCH', '/v1/user/alice/preference/category/digest/?tenant_id=acme', {
        preference: 'opt_in',
        opt_out_channels: ['email', 'whatsapp'],
      });
      assert.equal(digestOut.status, 200);
      await h.herald.db
        .updateTable('tenant_category_preferences')
        .set({ settings: JSON.stringify({ blocked_channels: ['sms'], mandatory_channels: ['email'] }) })
        .where('workspace_id', '=', h.staging.id)
        .where('tenant_id', '=', 'acme')
        .where('category', '=', 'digest')
        .execute();
      const kept = await call('PATCH', '/v1/user/alice/preference/category/digest/?tenant_id=acme', {
        preference: 'opt_in',
        opt_out_channels: null,
      });
      assert.equal(kept.status, 200, JSON.stringify(kept.body));
      assert.deepEqual(channelOf(kept.body, 'email'), { channel: 'email', preference: 'opt_in', is_editable: false });
      assert.equal(channelOf(kept.body, 'whatsapp')?.['preference'], 'opt_out');
    });

    test('another workspace sees none of it: 404 like missing data, and its own preferences stay apart', async () => {
      assert.equal((await call('GET', '/v1/user/alice/preference/', undefined, other)).status, 404);
      assert.equal((await call('GET', '/v1/user/alice/preference/category/newsletter/', undefined, other)).status, 404);
      assert.equal((await call('PATCH', '/v1/user/alice/preference/category/newsletter/', { preference: 'opt_out' }, other)).status, 404);
      assert.equal(
        (
          await call(
            'PATCH',
            '/v1/user/alice/preference/channel_preference/',
            { channel_preferences: [{ channel: 'email', is_restricted: true }] },
            other,
          )
        ).status,
        404,
      );

      // The same user id and category slug in the other workspace are different records.
      assert.equal((await call('POST', '/v1/user/alice/', {}, other)).status, 200);
      const applied = await cli(
        'category',
        'apply',
        'other',
        writeJson('other.json', { slug: 'newsletter', name: 'News', default_preference: 'opt_out' }),
      );
      assert.equal(applied.code, 0, applied.stderr);
      const theirs = await call('GET', '/v1/user/alice/preference/', undefined, other);
      assert.deepEqual(
        (theirs.body['sections'] as Array<{ subcategories: Json[] }>).flatMap((s) =>
          s.subcategories.map((c) => [c['category'], c['preference']]),
        ),
        [['newsletter', 'opt_out']],
      );
      assert.equal((await preferences.shouldDeliver(other.id, 'alice', 'default', 'newsletter', 'email')).deliver, false);
      assert.equal((await preferences.shouldDeliver(h.staging.id, 'alice', 'default', 'newsletter', 'email')).deliver, true);
      const ours = await call('GET', '/v1/user/alice/preference/category/newsletter/');
      assert.equal(ours.body['preference'], 'opt_in');
    });

    test('user-tenant links: add, replace properties, list, read, remove', async () => {
      const empty = await call('GET', '/v1/user/alice/associated_tenant/');
      assert.equal(empty.status, 200);
      assert.deepEqual(empty.body, { meta: { count: 0, limit: 20, offset: 0 }, results: [] });

      const added = await call('POST', '/v1/user/alice/tenant/acme/', { role: 'admin' });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      assert.equal(added.body['tenant_id'], 'acme');
      assert.equal(added.body['tenant_name'], 'Acme');
      assert.equal(added.body['distinct_id'], 'alice');
      assert.deepEqual(added.body['properties'], { role: 'admin' });
      h.clock.advance(1000);
      const replaced = await call('POST', '/v1/user/alice/tenant/acme/', { team: 'core' });
      assert.deepEqual(replaced.body['properties'], { team: 'core' });
      assert.equal(replaced.body['created_at'], added.body['created_at']);
      assert.notEqual(replaced.body['updated_at'], added.body['updated_at']);

      // `default` exists in every workspace without being created; a bodiless POST links with no properties.
      const defaultLink = await call('POST', '/v1/user/alice/tenant/default/');
      assert.equal(defaultLink.status, 200, JSON.stringify(defaultLink.body));
      assert.deepEqual(defaultLink.body['properties'], {});

      const list = await call('GET', '/v1/user/alice/associated_tenant/?limit=1&offset=1');
      assert.equal(list.status, 200);
      assert.deepEqual(list.body['meta'], { count: 2, limit: 1, offset: 1 });
      assert.deepEqual(
        (list.body['results'] as Json[]).map((r) => r['tenant_id']),
        ['default'],
      );
      const read = await call('GET', '/v1/user/alice/tenant/acme/');
      assert.deepEqual(read.body, replaced.body);

      const unknownTenant = await call('POST', '/v1/user/alice/tenant/nope/', { role: 'x' });
      assert.equal(unknownTenant.status, 404);
      assert.match(unknownTenant.body['message'] as string, /tenant "nope" not found/);
      assert.equal((await call('POST', '/v1/user/nobody/tenant/acme/', {})).status, 404);
      const notObject = await call('POST', '/v1/user/alice/tenant/acme/', ['admin']);
      assert.equal(notObject.status, 400);
      assert.match(notObject.body['message'] as string, /body must be a JSON object/);
      assert.deepEqual((await call('GET', '/v1/user/alice/tenant/acme/')).body, replaced.body);
      assert.equal((await call('GET', '/v1/user/alice/tenant/nope/')).status, 404);
      assert.equal((await call('GET', '/v1/user/nobody/associated_tenant/')).status, 404);

      const removed = await call('DELETE', '/v1/user/alice/tenant/acme/');
      assert.equal(removed.status, 200);
      assert.deepEqual(removed.body, { success: true });
      assert.equal((await call('GET', '/v1/user/alice/tenant/acme/')).status, 404);
      const again = await call('DELETE', '/v1/user/alice/tenant/acme/');
      assert.equal(again.status, 404);
      assert.match(again.body['message'] as string, /user "alice" is not in tenant "acme"/);
    });

    test('editing a user with tenant context applies the operations like PATCH /v1/user/{id}/ and links the tenant', async () => {
      const edited = await call('PATCH', '/v1/user/carol/tenant/acme/', {
        operations: [{ $set: { plan: 'pro' } }, { $append: { $email: 'carol@example.com' } }, { $add: { logins: 2 } }],
      });
      assert.equal(edited.status, 200, JSON.stringify(edited.body));
      assert.deepEqual(edited.body['properties'], { plan: 'pro', logins: 2 });
      assert.deepEqual(edited.body['$email'], [{ value: 'carol@example.com' }]);
      assert.deepEqual((await call('GET', '/v1/user/carol/')).body, edited.body);
      const link = await call('GET', '/v1/user/carol/tenant/acme/');
      assert.equal(link.status, 200);
      assert.deepEqual(link.body['properties'], {});

      // Same result as the plain edit route for the same operations.
      const plain = await call('PATCH', '/v1/user/dora/', { operations: [{ $set: { plan: 'pro' } }] });
      const withTenant = await call('PATCH', '/v1/user/erin/tenant/acme/', { operations: [{ $set: { plan: 'pro' } }] });
      assert.deepEqual(withTenant.body['properties'], plain.body['properties']);

      // An existing link keeps its properties.
      await call('POST', '/v1/user/carol/tenant/acme/', { role: 'owner' });
      await call('PATCH', '/v1/user/carol/tenant/acme/', { operations: [{ $unset: ['logins'] }] });
      assert.deepEqual((await call('GET', '/v1/user/carol/tenant/acme/')).body['properties'], { role: 'owner' });

      // Bad operations or an unknown tenant: no user, no link.
      const bad = await call('PATCH', '/v1/user/frank/tenant/acme/', { operations: [{ $set: { ok: 1 } }, { $bogus: {} }] });
      assert.equal(bad.status, 400);
      assert.match(bad.body['message'] as string, /unknown operation "\$bogus"/);
      const noTenant = await call('PATCH', '/v1/user/frank/tenant/nope/', { operations: [{ $set: { ok: 1 } }] });
      assert.equal(noTenant.status, 404);
      assert.equal((await call('PATCH', '/v1/user/frank/tenant/acme/', { operations: 'x' })).status, 400);
      assert.equal((await call('GET', '/v1/user/frank/')).status, 404);
      assert.equal((await call('GET', '/v1/user/frank/tenant/acme/')).status, 404);
    });

    test('user-tenant links of another workspace answer 404 and cannot be changed', async () => {
      assert.equal((await call('GET', '/v1/user/carol/associated_tenant/', undefined, other)).status, 404);
      assert.equal((await call('GET', '/v1/user/carol/tenant/acme/', undefined, other)).status, 404);
      assert.equal((await call('DELETE', '/v1/user/carol/tenant/acme/', undefined, other)).status, 404);
      // alice exists in both workspaces; staging's tenant acme does not exist in `other`.
      assert.equal((await call('POST', '/v1/user/alice/tenant/acme/', {}, other)).status, 404);
      assert.equal((await call('PATCH', '/v1/user/alice/tenant/acme/', { operations: [{ $set: { x: 1 } }] }, other)).status, 404);
      const otherList = await call('GET', '/v1/user/alice/associated_tenant/', undefined, other);
      assert.deepEqual(otherList.body['results'], []);
      assert.equal((await call('GET', '/v1/user/carol/tenant/acme/')).status, 200);
      assert.equal(((await call('GET', '/v1/user/alice/', undefined, other)).body['properties'] as Json)['x'], undefined);
    });
  });
}
