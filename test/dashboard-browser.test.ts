import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import Fastify from 'fastify';
import { createAdminGroupDeps } from '../src/admin/admin-group.js';
import { registerDashboardRoutes } from '../src/dashboard/dashboard.routes.js';
import { registerErrorHandling } from '../src/http/error-handler.js';
import type { Role } from '../src/admin/admin-principal.js';
import { UserService } from '../src/users/users.service.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { browserUnavailable, launchChromium } from './helpers/browser.js';
import { ROOT } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

const ARTIFACTS = path.join(ROOT, 'artifacts');
const PASSWORD = 'correct horse battery staple';
const CLI_ACTOR = { type: 'cli' as const, id: null, label: 'cli:test', ip: null };
const WAIT_MS = 10_000;
const skip = browserUnavailable();

/** Shapes of every secret Herald issues (as in test/admin-api.test.ts). */
const SECRET_SHAPES: ReadonlyArray<readonly [string, RegExp]> = [
  ['workspace secret', /hws_(test|live)_[0-9A-Za-z]{46}/],
  ['API key', /hak_(test|live)_[0-9A-Za-z]{36}/],
  ['service token', /hst_[0-9A-Za-z]{36}/],
  ['private key PEM', /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/],
  ['base64 of a PEM', /LS0tLS1CRUdJTi/],
];

/** Clicks the page's refresh button until `selector` shows up (the request log is written in batches). */
async function refreshUntil(page: Page, selector: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await page.click('[data-testid="refresh"]');
    try {
      await page.waitForSelector(selector, { timeout: 500 });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

/** Calls whoami with the key until it answers `status` (revocations reach the credential cache within a poll). */
async function whoamiUntil(h: InProcess, key: string, status: number): Promise<Response> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const response = await fetch(`${h.baseUrl}/v1/auth/whoami`, { headers: { authorization: `Bearer ${key}` } });
    if (response.status === status || Date.now() > deadline) return response;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('without a build, /dashboard/ answers a clear 503 instead of crashing', async () => {
  const app = Fastify({ logger: false });
  registerErrorHandling(app);
  registerDashboardRoutes(app, path.join(ROOT, 'artifacts', 'no-such-build'));
  try {
    for (const url of ['/dashboard/', '/dashboard/staging/api-keys']) {
      const response = await app.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 503);
      assert.match(response.json<{ error: { type: string; message: string } }>().error.message, /npm run build/);
    }
  } finally {
    await app.close();
  }
});

for (const engine of enginesUnderTest()) {
  describe(`the /dashboard/ web UI in headless Chromium on ${engine}`, { skip: skip ?? false }, () => {
    let t: TestEnv;
    let h: InProcess;
    let browser: Browser;
    const emails: Partial<Record<Role, string>> = {};
    const pageErrors: string[] = [];

    async function signIn(role: Role): Promise<Page> {
      const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`${h.baseUrl}/dashboard/`);
      await page.waitForSelector('[data-testid="login-form"]', { timeout: WAIT_MS });
      await page.fill('[data-testid="login-email"]', emails[role] as string);
      await page.fill('[data-testid="login-password"]', PASSWORD);
      await page.click('[data-testid="login-submit"]');
      // A new session lands on Getting started; these tests begin with the credentials page.
      await page.waitForSelector('[data-testid="page-getting-started"]', { timeout: WAIT_MS });
      await page.click('[data-testid="nav-api-keys"]');
      await page.waitForSelector('[data-testid="page-api-keys"]', { timeout: WAIT_MS });
      return page;
    }

    async function shot(page: Page, name: string): Promise<void> {
      await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-${name}-${engine}.png`), fullPage: true });
    }

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      browser = await launchChromium();
      mkdirSync(ARTIFACTS, { recursive: true });
      const deps = createAdminGroupDeps(h.herald);
      for (const role of ['owner', 'viewer'] as const) {
        emails[role] = `${role}-${engine}@example.com`;
        await deps.accounts.create({ email: emails[role], password: PASSWORD, role }, { kind: 'cli' }, CLI_ACTOR);
      }
      await new UserService(h.herald).upsert(h.staging.id, 'alice', { name: 'Alice Liddell', $email: ['alice@example.com'] });
      await new WorkflowService(h.herald).apply(h.staging.id, [
        {
          slug: 'welcome',
          name: 'Welcome',
          category: 'transactional',
          steps: [{ type: 'inbox', template: { header: 'Hi', text: 'Welcome' } }],
        },
      ]);
    });

    after(async () => {
      assert.deepEqual(pageErrors, [], 'no script errors in the dashboard');
      await browser?.close();
      await h?.close();
      await t?.cleanup();
    });

    test('serves the app with security headers, no caching of index.html and an SPA fallback', async () => {
      for (const url of ['/dashboard/', '/dashboard/staging/request-log']) {
        const response = await fetch(`${h.baseUrl}${url}`);
        assert.equal(response.status, 200);
        assert.match(response.headers.get('content-type') ?? '', /text\/html/);
        assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'self'.*frame-ancestors 'none'/);
        assert.equal(response.headers.get('x-frame-options'), 'DENY');
        assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
        assert.equal(response.headers.get('cache-control'), 'no-store');
        assert.match(await response.text(), /<div id="root">/);
      }
      const root = await fetch(`${h.baseUrl}/`, { redirect: 'manual' });
      assert.equal(root.status, 302);
      assert.equal(root.headers.get('location'), '/dashboard/');
      assert.equal((await fetch(`${h.baseUrl}/dashboard/assets/missing.js`)).status, 404);
    });

    test('login shows errors for a wrong password', async () => {
      const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
      await page.goto(`${h.baseUrl}/dashboard/`);
      await page.waitForSelector('[data-testid="login-form"]', { timeout: WAIT_MS });
      await shot(page, 'login');
      await page.fill('[data-testid="login-email"]', emails.owner as string);
      await page.fill('[data-testid="login-password"]', 'not the right password');
      await page.click('[data-testid="login-submit"]');
      const error = await page.waitForSelector('[data-testid="login-error"]', { timeout: WAIT_MS });
      assert.match((await error.textContent()) ?? '', /incorrect/);
      await page.context().close();
    });

    test('an owner generates an API key, uses it, sees it in the request log, revokes it, and manages signing keys and enhanced security', async () => {
      const page = await signIn('owner');
      assert.equal(await page.textContent('[data-testid="account-role"]'), 'owner');
      assert.equal(await page.textContent('[data-testid="workspace-key"]'), h.staging.workspaceKey);
      assert.equal(await page.locator('[data-testid="workspace-secret"]').count(), 0);

      // The workspace switcher marks production as live.
      assert.equal(await page.locator('[data-testid="live-badge"]').count(), 0);
      await page.selectOption('[data-testid="workspace-switcher"]', 'production');
      await page.waitForSelector('[data-testid="live-badge"]', { timeout: WAIT_MS });
      await page.selectOption('[data-testid="workspace-switcher"]', 'staging');
      await page.waitForSelector('[data-testid="live-badge"]', { state: 'detached', timeout: WAIT_MS });

      // Reveal after the session went stale: the password is asked for again.
      h.clock.advance(11 * 60_000);
      await page.click('[data-testid="reveal-secret"]');
      await page.waitForSelector('[data-testid="reauth-dialog"]', { timeout: WAIT_MS });
      await page.fill('[data-testid="reauth-password"]', PASSWORD);
      await page.click('[data-testid="reauth-submit"]');
      const secret = await page.waitForSelector('[data-testid="workspace-secret"]', { timeout: WAIT_MS });
      assert.equal(await secret.textContent(), h.staging.secret);
      await page.click('[data-testid="hide-secret"]');
      await page.waitForSelector('[data-testid="workspace-secret-masked"]', { timeout: WAIT_MS });

      // Generate: the key is shown once.
      await page.click('[data-testid="generate-api-key"]');
      await page.fill('[data-testid="api-key-name"]', 'ci-backend');
      await page.click('[data-testid="api-key-create"]');
      const box = await page.waitForSelector('[data-testid="new-api-key-value"]', { timeout: WAIT_MS });
      const key = ((await box.textContent()) ?? '').trim();
      assert.match(key, /^hak_test_[0-9A-Za-z]{36}$/);
      assert.match((await page.textContent('[data-testid="new-api-key"]')) ?? '', /will not be shown again/);
      await page.waitForSelector('[data-testid="api-key-row"][data-name="ci-backend"]', { timeout: WAIT_MS });
      await shot(page, 'api-keys-created');

      await page.reload();
      await page.waitForSelector('[data-testid="api-key-row"][data-name="ci-backend"]', { timeout: WAIT_MS });
      assert.equal(await page.locator('[data-testid="new-api-key"]').count(), 0);
      assert.ok(!(await page.content()).includes(key), 'the key is not shown after a reload');
      const prefix = (
        (await page.textContent('[data-testid="api-key-row"][data-name="ci-backend"] [data-testid="api-key-prefix"]')) ?? ''
      ).replace('…', '');
      assert.ok(prefix.length >= 8 && key.startsWith(prefix), `prefix ${prefix} of ${key}`);
      assert.equal(
        await page.textContent('[data-testid="api-key-row"][data-name="ci-backend"] [data-testid="api-key-scope-cell"]'),
        'Full',
      );

      // A least-privilege key: read-only, users routes only.
      await page.click('[data-testid="generate-api-key"]');
      await page.fill('[data-testid="api-key-name"]', 'support-reader');
      await page.selectOption('[data-testid="api-key-scope"]', 'read');
      await page.check('[data-testid="api-key-groups"] input[value="users"]');
      await shot(page, 'api-key-scope-form');
      await page.click('[data-testid="api-key-create"]');
      await page.waitForSelector('[data-testid="new-api-key-value"]', { timeout: WAIT_MS });
      const scoped = await page.waitForSelector(
        '[data-testid="api-key-row"][data-name="support-reader"] [data-testid="api-key-scope-cell"]',
        { timeout: WAIT_MS },
      );
      assert.equal(await scoped.textContent(), 'Read only: users');
      await page.click('[data-testid="new-api-key-done"]');

      // The webhook signing secret: rolled with a grace period, shown once.
      await page.click('[data-testid="roll-webhook-secret"]');
      await page.selectOption('[data-testid="webhook-secret-grace"]', '1h');
      await page.click('[data-testid="roll-webhook-secret-confirm"]');
      const webhookSecret = await page.waitForSelector('[data-testid="new-webhook-secret-value"]', { timeout: WAIT_MS });
      assert.match(((await webhookSecret.textContent()) ?? '').trim(), /^hwh_test_[0-9A-Za-z]{46}$/);
      await page.waitForSelector('[data-testid="webhook-secret-status"] >> text=Still signs until', { timeout: WAIT_MS });
      await shot(page, 'webhook-secret');
      await page.click('[data-testid="new-webhook-secret-done"]');

      // A real call with the key shows up in the request log.
      const ok = await whoamiUntil(h, key, 200);
      assert.equal(ok.status, 200);
      await page.click('[data-testid="nav-request-log"]');
      await page.waitForSelector('[data-testid="page-request-log"]', { timeout: WAIT_MS });
      await refreshUntil(page, '[data-testid="request-log-row"][data-status="200"]');
      assert.match((await page.textContent('[data-testid="request-log-row"][data-status="200"]')) ?? '', /\/v1\/auth\/whoami/);

      // Revoke in the UI; the next call is refused and the log says why.
      await page.click('[data-testid="nav-api-keys"]');
      await page.waitForSelector('[data-testid="api-key-row"][data-name="ci-backend"][data-status="active"]', { timeout: WAIT_MS });
      page.once('dialog', (dialog) => void dialog.accept());
      await page.click('[data-testid="api-key-row"][data-name="ci-backend"] [data-testid="revoke-api-key"]');
      await page.waitForSelector('[data-testid="api-key-row"][data-name="ci-backend"][data-status="revoked"]', { timeout: WAIT_MS });
      const refused = await whoamiUntil(h, key, 401);
      assert.equal(refused.status, 401);
      await page.click('[data-testid="nav-request-log"]');
      await page.waitForSelector('[data-testid="page-request-log"]', { timeout: WAIT_MS });
      await refreshUntil(page, '[data-testid="request-log-row"][data-status="401"]');
      assert.match(
        (await page.textContent('[data-testid="request-log-row"][data-status="401"] [data-testid="request-log-reason"]')) ?? '',
        /revoked/i,
      );
      await page.check('[data-testid="errors-only"]');
      await page.waitForSelector('[data-testid="request-log-row"][data-status="200"]', { state: 'detached', timeout: WAIT_MS });
      await page.waitForSelector('[data-testid="request-log-row"][data-status="401"]', { timeout: WAIT_MS });
      await page.uncheck('[data-testid="errors-only"]');
      await page.waitForSelector('[data-testid="request-log-row"][data-status="200"]', { timeout: WAIT_MS });
      await shot(page, 'request-log');

      // Signing key: private halves shown once.
      await page.click('[data-testid="nav-api-keys"]');
      await page.waitForSelector('[data-testid="page-api-keys"]', { timeout: WAIT_MS });
      await page.click('[data-testid="generate-signing-key"]');
      await page.fill('[data-testid="signing-key-name"]', 'web backend');
      await page.click('[data-testid="signing-key-create"]');
      const pem = ((await page.textContent('[data-testid="new-signing-key-pem"]', { timeout: WAIT_MS })) ?? '').trim();
      const base64 = ((await page.textContent('[data-testid="new-signing-key-base64"]')) ?? '').trim();
      assert.match(pem, /^-----BEGIN PRIVATE KEY-----/);
      assert.equal(Buffer.from(base64, 'base64').toString('utf8').trim(), pem);
      assert.equal(await page.locator('[data-testid="download-signing-pem"]').count(), 1);
      assert.equal(await page.locator('[data-testid="download-signing-base64"]').count(), 1);
      await page.waitForSelector('[data-testid="signing-key-row"][data-status="active"]', { timeout: WAIT_MS });
      assert.match((await page.textContent('[data-testid="signing-key-row"][data-status="active"]')) ?? '', /web backend/);
      await page.reload();
      await page.waitForSelector('[data-testid="signing-key-row"][data-status="active"]', { timeout: WAIT_MS });
      const reloaded = await page.content();
      assert.ok(!reloaded.includes('PRIVATE KEY') && !reloaded.includes(base64), 'the private key is not shown again');

      // Public key with allowed origins.
      await page.click('[data-testid="create-public-key"]');
      await page.fill('[data-testid="public-key-name"]', 'web app');
      await page.fill('[data-testid="public-key-origins"]', 'https://app.example.com');
      await page.click('[data-testid="public-key-create"]');
      await page.waitForSelector('[data-testid="public-key-row"]:has-text("https://app.example.com")', { timeout: WAIT_MS });

      // Enhanced security: a warning first, then the API reflects it.
      assert.equal(await page.textContent('[data-testid="enhanced-security-status"]'), 'Off');
      await page.click('[data-testid="enhanced-security-toggle"]');
      assert.match((await page.textContent('[data-testid="enhanced-security-warning"]', { timeout: WAIT_MS })) ?? '', /stop working/);
      await page.click('[data-testid="enhanced-security-confirm"]');
      await page.waitForSelector('[data-testid="enhanced-security-status"]:text-is("On")', { timeout: WAIT_MS });
      assert.equal((await h.herald.workspaces.get('staging')).isEnhancedSecurity, true);
      // The signed-client switch (web-sdk 1.x, Android 1.x): off by default, its warning names the risk.
      assert.equal(await page.textContent('[data-testid="signed-clients-status"]'), 'Off');
      await page.click('[data-testid="signed-clients-toggle"]');
      assert.match(
        (await page.textContent('[data-testid="signed-clients-warning"]', { timeout: WAIT_MS })) ?? '',
        /extracts the workspace secret/,
      );
      await page.click('[data-testid="signed-clients-confirm"]');
      await page.waitForSelector('[data-testid="signed-clients-status"]:text-is("On")', { timeout: WAIT_MS });
      assert.equal((await h.herald.workspaces.get('staging')).allowsSignedClients, true);
      await shot(page, 'api-keys');

      // The audit log lists what was done.
      await page.click('[data-testid="nav-audit-log"]');
      await page.waitForSelector('[data-testid="audit-log-row"]', { timeout: WAIT_MS });
      // Read as a product: human action names, the key's name, no raw JSON.
      const created = page.locator('[data-testid="audit-log-row"][data-action="api_key.created"]').first();
      assert.equal(await created.locator('[data-testid="audit-action"]').textContent(), 'API key created');
      assert.match((await created.textContent()) ?? '', /API key “(ci-backend|support-reader)”/);
      assert.doesNotMatch((await page.locator('[data-testid="audit-log-table"]').textContent()) ?? '', /[{]"/);
      await shot(page, 'audit-log');
      // Sign-ins (and the failed one at the start) belong to no workspace: the owner sees them too.
      await page.click('[data-testid="audit-scope-account"]');
      await page.waitForSelector('[data-testid="audit-log-row"][data-action="login.succeeded"]', { timeout: WAIT_MS });
      await page.waitForSelector('[data-testid="audit-log-row"][data-action="login.failed"]', { timeout: WAIT_MS });
      await shot(page, 'audit-log-account');

      await page.click('[data-testid="nav-users"]');
      await page.waitForSelector('[data-testid="user-row"]', { timeout: WAIT_MS });
      await page.click('[data-testid="user-row"] a');
      await page.waitForSelector('[data-testid="user-profile"]:has-text("alice@example.com")', { timeout: WAIT_MS });
      assert.doesNotMatch((await page.textContent('[data-testid="user-profile"]')) ?? '', /[{[]"/, 'no raw JSON');
      await shot(page, 'users');

      await page.click('[data-testid="nav-workflows"]');
      await page.waitForSelector('[data-testid="workflow-row"]', { timeout: WAIT_MS });
      await page.click('[data-testid="workflow-row"] a');
      await page.waitForSelector('[data-testid="workflow-editor"]', { timeout: WAIT_MS });
      await page.fill('[data-testid="workflow-test-recipient"]', 'alice');
      await page.click('[data-testid="workflow-test"]');
      await page.waitForSelector('[data-testid="workflow-message"]:has-text("Triggered")', { timeout: WAIT_MS });
      await shot(page, 'workflows');

      await page.click('[data-testid="logout"]');
      await page.waitForSelector('[data-testid="login-form"]', { timeout: WAIT_MS });
      await page.context().close();
    });

    test('a viewer sees no secret and no write control', async () => {
      const staging = await h.herald.workspaces.get('staging');
      await h.herald.apiKeys.create(staging, { name: 'viewer-fixture' });
      await h.herald.signingKeys.create(staging, {});
      const page = await signIn('viewer');
      await page.waitForSelector('[data-testid="api-key-row"][data-name="viewer-fixture"]', { timeout: WAIT_MS });
      await page.waitForSelector('[data-testid="signing-key-row"]', { timeout: WAIT_MS });
      for (const control of [
        'reveal-secret',
        'copy-secret',
        'rotate-secret',
        'generate-api-key',
        'revoke-api-key',
        'create-public-key',
        'revoke-public-key',
        'generate-signing-key',
        'import-signing-key',
        'revoke-signing-key',
        'enhanced-security-toggle',
        'signed-clients-toggle',
        'nav-audit-log',
        'nav-team',
      ]) {
        assert.equal(await page.locator(`[data-testid="${control}"]`).count(), 0, `${control} is hidden from viewers`);
      }
      const checkNoSecrets = async () => {
        const html = await page.content();
        assert.ok(!html.includes(h.staging.secret), 'no workspace secret');
        for (const [what, shape] of SECRET_SHAPES) assert.doesNotMatch(html, shape, `no ${what}`);
      };
      await checkNoSecrets();
      await shot(page, 'api-keys-viewer');
      await page.click('[data-testid="nav-workflows"]');
      await page.click('[data-testid="workflow-row"] a', { timeout: WAIT_MS });
      await page.waitForSelector('[data-testid="workflow-editor"]', { timeout: WAIT_MS });
      assert.equal(await page.locator('[data-testid="workflow-save"]').count(), 0);
      assert.equal(await page.locator('[data-testid="workflow-test"]').count(), 0);
      await page.click('[data-testid="nav-request-log"]');
      await page.waitForSelector('[data-testid="page-request-log"]', { timeout: WAIT_MS });
      await checkNoSecrets();
      await page.click('[data-testid="nav-getting-started"]');
      await page.waitForSelector('[data-testid="snippet-node"]', { timeout: WAIT_MS });
      assert.equal(await page.locator('[data-testid="send-test"]').count(), 0, 'viewers cannot trigger');
      await checkNoSecrets();
      await page.context().close();
    });

    test('getting started shows the workspace’s own snippets and sends a test notification that reaches the inbox', async () => {
      const staging = await h.herald.workspaces.get('staging');
      const demoKey = await h.herald.publicKeys.create(staging, { name: 'getting-started' });
      const page = await signIn('owner');
      await page.click('[data-testid="nav-getting-started"]');
      const node = (await (await page.waitForSelector('[data-testid="snippet-node"]', { timeout: WAIT_MS })).textContent()) ?? '';
      assert.match(node, new RegExp(`new Suprsend\\('${h.staging.workspaceKey}', process\\.env\\.HERALD_WORKSPACE_SECRET`));
      assert.match(node, new RegExp(`base_url: '${h.baseUrl}'`));
      assert.match(node, /workflow: 'welcome'/);
      assert.ok(!node.includes(h.staging.secret), 'the snippet reads the secret from the environment');
      assert.match((await page.textContent('[data-testid="snippet-rest"]')) ?? '', /Authorization: Bearer \$HERALD_API_KEY/);
      await page.selectOption('[data-testid="public-key-choice"]', demoKey.key);
      const browserCode = (await page.textContent('[data-testid="snippet-browser"]')) ?? '';
      assert.ok(browserCode.includes(`new SuprSend('${demoKey.key}'`), browserCode);
      // Staging's enhanced security was turned on by the owner test when it ran first; either way the text must say which.
      const isEnhanced = (await h.herald.workspaces.get('staging')).isEnhancedSecurity;
      assert.match(browserCode, isEnhanced ? /user token/ : /public key alone/);
      const link = await page.getAttribute('[data-testid="demo-inbox-link"]', 'href');
      assert.ok(link?.startsWith(`${h.baseUrl}/demo/inbox#public_key=`), String(link));

      await page.click('[data-testid="send-test"]');
      await page.waitForSelector('[data-testid="test-sent"]', { timeout: WAIT_MS });
      const feed = await h.herald.db
        .selectFrom('notifications')
        .select(['id'])
        .where('workspace_id', '=', staging.id)
        .where('distinct_id', '=', 'demo-user')
        .execute();
      assert.equal(feed.length, 1, 'the test notification was delivered to demo-user');
      await shot(page, 'getting-started');
      await page.context().close();
    });

    test('the team page adds a member, changes their role, disables them, and issues and revokes a service token', async () => {
      const page = await signIn('owner');
      await page.click('[data-testid="nav-team"]');
      await page.waitForSelector(`[data-testid="member-row"][data-email="${emails.viewer}"]`, { timeout: WAIT_MS });
      const email = `teammate-${engine}@example.com`;
      await page.click('[data-testid="add-member"]');
      await page.fill('[data-testid="member-email"]', email);
      await page.fill('[data-testid="member-password"]', PASSWORD);
      await page.selectOption('[data-testid="member-role"]', 'viewer');
      await page.click('[data-testid="member-create"]');
      const row = `[data-testid="member-row"][data-email="${email}"]`;
      await page.waitForSelector(row, { timeout: WAIT_MS });
      await page.selectOption(`${row} [data-testid="member-role-select"]`, 'developer');
      await page.waitForFunction(
        async (address) => {
          const answer = await fetch('/admin/api/accounts').then(
            (r) => r.json() as Promise<{ accounts: Array<{ email: string; role: string }> }>,
          );
          return answer.accounts.find((a) => a.email === address)?.role === 'developer';
        },
        email,
        { timeout: WAIT_MS },
      );
      page.once('dialog', (dialog) => void dialog.accept());
      await page.click(`${row} [data-testid="disable-member"]`);
      await page.waitForSelector(`${row}[data-status="disabled"]`, { timeout: WAIT_MS });
      const account = await createAdminGroupDeps(h.herald).accounts.get(email);
      assert.equal(account.role, 'developer');
      assert.equal(account.status, 'disabled');

      await page.click('[data-testid="create-service-token"]');
      await page.fill('[data-testid="service-token-name"]', 'deploy-bot');
      await page.selectOption('[data-testid="service-token-role"]', 'viewer');
      await page.click('[data-testid="service-token-create"]');
      const token = (
        (await (await page.waitForSelector('[data-testid="new-service-token-value"]', { timeout: WAIT_MS })).textContent()) ?? ''
      ).trim();
      assert.match(token, /^hst_[0-9A-Za-z]{36}$/);
      const me = await fetch(`${h.baseUrl}/admin/api/workspaces`, { headers: { authorization: `ServiceToken ${token}` } });
      assert.equal(me.status, 200, 'the new token works');
      await shot(page, 'team');
      await page.click('[data-testid="new-service-token-done"]');
      page.once('dialog', (dialog) => void dialog.accept());
      await page.click('[data-testid="service-token-row"][data-name="deploy-bot"] [data-testid="revoke-service-token"]');
      await page.waitForSelector('[data-testid="service-token-row"][data-name="deploy-bot"][data-status="revoked"]', { timeout: WAIT_MS });
      const after = await fetch(`${h.baseUrl}/admin/api/workspaces`, { headers: { authorization: `ServiceToken ${token}` } });
      assert.equal(after.status, 401, 'the revoked token is refused');
      await page.context().close();
    });

    test('at 768 px wide every page fits the window: navigation wraps and wide tables scroll inside their card', async () => {
      const page = await signIn('owner');
      await page.setViewportSize({ width: 768, height: 1000 });
      const navIds = await page.locator('nav.sidebar a').evaluateAll((links) => links.map((a) => a.getAttribute('data-testid') ?? ''));
      for (const navId of navIds) {
        await page.click(`[data-testid="${navId}"]`);
        const pageId = navId.replace(/^nav-/, 'page-');
        await page.waitForSelector(`[data-testid="${pageId}"]`, { timeout: WAIT_MS });
        const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
        assert.ok(overflow <= 0, `${pageId} is ${overflow} px wider than a 768 px window`);
        if (navId === 'nav-api-keys' || navId === 'nav-request-log') await shot(page, `${pageId.replace(/^page-/, '')}-768`);
      }
      await page.context().close();
    });
  });
}
