import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createAdminGroupDeps } from '../src/admin/admin-group.js';
import type { Role } from '../src/admin/admin-principal.js';
import { CategoryService } from '../src/preferences/categories.service.js';
import { browserUnavailable, launchChromium } from './helpers/browser.js';
import { ROOT } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

/**
 * The Categories and Tenants & lists pages in headless Chromium, against the built dashboard
 * (`npx vite build --config web/vite.config.ts` first): a developer creates and edits a category
 * through the form, tenants and list members page with "Load more", tenant properties read as
 * labelled values (never JSON), and a viewer gets no write control.
 */

const ARTIFACTS = path.join(ROOT, 'artifacts');
const PASSWORD = 'correct horse battery staple';
const CLI_ACTOR = { type: 'cli' as const, id: null, label: 'cli:test', ip: null };
const WAIT_MS = 10_000;
/** One more than the pages' page sizes (25 tenants, 50 members), so "Load more" shows. */
const TENANTS = 30;
const MEMBERS = 60;
const skip = browserUnavailable();

for (const engine of enginesUnderTest()) {
  describe(`dashboard categories, tenants and lists in headless Chromium on ${engine}`, { skip: skip ?? false }, () => {
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
      await page.waitForSelector('[data-testid="account-role"]', { timeout: WAIT_MS });
      return page;
    }

    async function shot(page: Page, name: string): Promise<void> {
      await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-${name}-${engine}.png`), fullPage: true });
    }

    async function hub(url: string, body: unknown): Promise<void> {
      const res = await h.signed('POST', url, JSON.stringify(body));
      assert.ok(res.statusCode < 300, `POST ${url}: ${res.statusCode} ${res.body}`);
    }

    /** No JSON text anywhere in the element: objects and arrays read as lists. */
    async function assertNoJson(page: Page, selector: string): Promise<void> {
      const text = (await page.locator(selector).textContent()) ?? '';
      assert.doesNotMatch(text, /[{[]\s*"|":\s*[{["\d]/, `raw JSON in ${selector}: ${text.slice(0, 300)}`);
    }

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      browser = await launchChromium();
      mkdirSync(ARTIFACTS, { recursive: true });
      const deps = createAdminGroupDeps(h.herald);
      for (const role of ['developer', 'viewer'] as const) {
        emails[role] = `${role}-${engine}@example.com`;
        await deps.accounts.create({ email: emails[role], password: PASSWORD, role }, { kind: 'cli' }, CLI_ACTOR);
      }
      await new CategoryService(h.herald).apply(h.staging.id, [
        { slug: 'security', name: 'Security alerts', section: 'Account', default_preference: 'cant_unsubscribe' },
        {
          slug: 'product-news',
          name: 'Product news',
          section: 'Marketing',
          description: 'Launches and release notes, at most once a week',
          default_preference: 'opt_out',
        },
      ]);
      await hub('/v1/tenant/acme', {
        tenant_name: 'Acme Corporation',
        timezone: 'Europe/Paris',
        logo: 'https://acme.example/logo.png',
        primary_color: '#3e63dd',
        secondary_color: '#e5484d',
        blocked_channels: ['sms'],
        social_links: { website: 'https://acme.example' },
        properties: {
          plan: 'enterprise',
          seats: 250,
          regions: ['eu-west', 'us-east'],
          billing: { contact: 'ap@acme.example', net_days: 30 },
        },
      });
      for (let i = 0; i < TENANTS - 1; i += 1) {
        await hub(`/v1/tenant/tenant-${String(i).padStart(2, '0')}`, { tenant_name: `Tenant ${i}` });
      }
      await hub('/v1/subscriber_list', {
        list_id: 'newsletter',
        list_name: 'Weekly newsletter',
        list_description: 'Everyone who opted in',
      });
      await hub('/v1/subscriber_list', { list_id: 'beta', list_name: 'Beta testers' });
      await hub('/v1/subscriber_list/newsletter/subscriber/add', {
        distinct_ids: Array.from({ length: MEMBERS }, (_, i) => `reader-${String(i).padStart(3, '0')}`),
      });
    });

    after(async () => {
      assert.deepEqual(pageErrors, [], 'no script errors in the dashboard');
      await browser?.close();
      await h?.close();
      await t?.cleanup();
    });

    test('a developer creates and edits a category through the form and sees it listed', async () => {
      const page = await signIn('developer');
      await page.click('[data-testid="nav-categories"]');
      await page.waitForSelector('[data-testid="category-row"][data-slug="security"]', { timeout: WAIT_MS });
      assert.equal(
        await page.textContent('[data-testid="category-row"][data-slug="security"] [data-testid="category-default"]'),
        'Mandatory',
      );
      assert.equal(
        await page.textContent('[data-testid="category-row"][data-slug="product-news"] [data-testid="category-default"]'),
        'Off by default',
      );

      // A slug the service refuses: its message shows, nothing is created.
      await page.click('[data-testid="new-category"]');
      await page.fill('[data-testid="category-slug"]', 'Billing Alerts');
      await page.fill('[data-testid="category-name"]', 'Billing');
      await page.click('[data-testid="category-save"]');
      const error = await page.waitForSelector('[data-testid="category-error"]', { timeout: WAIT_MS });
      assert.match((await error.textContent()) ?? '', /slug must be 1-100 lower-case letters/);
      assert.equal((await new CategoryService(h.herald).list(h.staging.id)).length, 2);

      await page.fill('[data-testid="category-slug"]', 'billing');
      await page.fill('[data-testid="category-section"]', 'Account');
      await page.fill('[data-testid="category-description"]', 'Invoices, receipts and failed payments');
      await page.selectOption('[data-testid="category-default-select"]', 'opt_in');
      await shot(page, 'category-form');
      await page.click('[data-testid="category-save"]');
      await page.waitForSelector('[data-testid="category-message"]:has-text("created")', { timeout: WAIT_MS });
      const row = '[data-testid="category-row"][data-slug="billing"]';
      await page.waitForSelector(row, { timeout: WAIT_MS });
      assert.match((await page.textContent(row)) ?? '', /Billing.*billing.*Account.*Invoices, receipts and failed payments.*On by default/);
      const stored = await new CategoryService(h.herald).get(h.staging.id, 'billing');
      assert.deepEqual([stored.name, stored.section, stored.default_preference], ['Billing', 'Account', 'opt_in']);

      // Edit: the slug is fixed, the rest changes.
      await page.click(`${row} [data-testid="edit-category"]`);
      assert.equal(await page.getAttribute('[data-testid="category-slug"]', 'readonly'), '');
      await page.selectOption('[data-testid="category-default-select"]', 'cant_unsubscribe');
      await page.click('[data-testid="category-save"]');
      await page.waitForSelector(`${row} [data-testid="category-default"]:has-text("Mandatory")`, { timeout: WAIT_MS });
      await assertNoJson(page, '[data-testid="categories-table"]');
      await shot(page, 'categories');
      await page.context().close();
    });

    test('tenants and list members page with "Load more"; properties read as labelled values', async () => {
      const page = await signIn('viewer');
      await page.click('[data-testid="nav-tenants-lists"]');
      await page.waitForSelector('[data-testid="page-tenants-lists"]', { timeout: WAIT_MS });
      await page.waitForSelector('[data-testid="tenant-row"]', { timeout: WAIT_MS });
      // The default tenant and the 30 stored ones, 25 at a time.
      assert.equal(await page.locator('[data-testid="tenant-row"]').count(), 25);
      await page.click('[data-testid="tenants-load-more"]');
      await page.locator('[data-testid="tenant-row"]').nth(30).waitFor({ timeout: WAIT_MS });
      assert.equal(await page.locator('[data-testid="tenant-row"]').count(), 31);
      assert.equal(await page.locator('[data-testid="tenants-load-more"]').count(), 0);
      const ids = await page.locator('[data-testid="tenant-row"]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id')));
      assert.equal(new Set(ids).size, 31, 'no tenant twice');

      const acme = '[data-testid="tenant-row"][data-id="acme"]';
      assert.match((await page.textContent(acme)) ?? '', /Acme Corporation.*acme.*Europe\/Paris/);
      await page.click(`${acme} [data-testid="tenant-details-toggle"]`);
      const details = await page.waitForSelector('[data-testid="tenant-details"]', { timeout: WAIT_MS });
      const text = (await details.textContent()) ?? '';
      for (const expected of [
        'Properties',
        'plan',
        'enterprise',
        'seats',
        '250',
        'eu-west, us-east',
        'contact',
        'ap@acme.example',
        'Blocked channels',
        'sms',
      ]) {
        assert.ok(text.includes(expected), `tenant details show ${expected}: ${text}`);
      }
      await assertNoJson(page, '[data-testid="tenants-table"]');

      await page.click('[data-testid="list-row"][data-id="newsletter"] [data-testid="list-members-toggle"]');
      await page.waitForSelector('[data-testid="list-member"]', { timeout: WAIT_MS });
      assert.equal(await page.textContent('[data-testid="list-row"][data-id="newsletter"] [data-testid="list-member-count"]'), '60');
      assert.equal(await page.locator('[data-testid="list-member"]').count(), 50);
      await page.click('[data-testid="list-members-load-more"]');
      await page
        .locator('[data-testid="list-member"]')
        .nth(MEMBERS - 1)
        .waitFor({ timeout: WAIT_MS });
      const members = await page.locator('[data-testid="list-member"]').allTextContents();
      assert.deepEqual(
        members,
        Array.from({ length: MEMBERS }, (_, i) => `reader-${String(i).padStart(3, '0')}`),
      );
      assert.equal(await page.locator('[data-testid="list-members-load-more"]').count(), 0);
      await assertNoJson(page, '[data-testid="lists-table"]');
      // Wide tables scroll inside their card instead of widening the page.
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
      await shot(page, 'tenants-lists');
      await page.context().close();
    });

    test('a viewer sees categories without write controls, and empty states say what to do', async () => {
      const page = await signIn('viewer');
      await page.click('[data-testid="nav-categories"]');
      await page.waitForSelector('[data-testid="category-row"]', { timeout: WAIT_MS });
      for (const control of ['new-category', 'edit-category', 'category-form']) {
        assert.equal(await page.locator(`[data-testid="${control}"]`).count(), 0, `${control} is hidden from viewers`);
      }
      await page.selectOption('[data-testid="workspace-switcher"]', 'production');
      const empty = await page.waitForSelector('[data-testid="categories-empty"]', { timeout: WAIT_MS });
      assert.match((await empty.textContent()) ?? '', /No categories yet\..*npm run herald -- category apply production categories\.json/);
      await shot(page, 'categories-empty');
      await page.click('[data-testid="nav-tenants-lists"]');
      const noLists = await page.waitForSelector('[data-testid="lists-empty"]', { timeout: WAIT_MS });
      assert.match((await noLists.textContent()) ?? '', /No lists yet\./);
      await page.context().close();
    });
  });
}
