import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createAdminGroupDeps } from '../src/admin/admin-group.js';
import { UserService } from '../src/users/users.service.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { browserUnavailable, launchChromium } from './helpers/browser.js';
import { ROOT } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { startWebhookReceiver, waitFor } from './helpers/webhook-receiver.js';

/**
 * The dashboard's message log in headless Chromium: delivered inbox messages, a webhook that
 * failed once and then went through, and one that keeps failing; rows open to their details.
 */

const ARTIFACTS = path.join(ROOT, 'artifacts');
const PASSWORD = 'correct horse battery staple';
const CLI_ACTOR = { type: 'cli' as const, id: null, label: 'cli:test', ip: null };
const WAIT_MS = 10_000;
const EMAIL = 'viewer@example.com';
/** webhook-sender.ts: the first retry waits 10 s. */
const FIRST_BACKOFF_MS = 10_000;
const skip = browserUnavailable();

for (const engine of enginesUnderTest()) {
  describe(`the dashboard message log in headless Chromium on ${engine}`, { skip: skip ?? false }, () => {
    let t: TestEnv;
    let h: InProcess;
    let browser: Browser;
    let flaky: Awaited<ReturnType<typeof startWebhookReceiver>>;
    let down: Awaited<ReturnType<typeof startWebhookReceiver>>;
    const pageErrors: string[] = [];

    async function trigger(workflow: string, recipients: string[], data: Record<string, unknown>): Promise<void> {
      const res = await h.signed('POST', '/trigger', JSON.stringify({ workflow, recipients, data }));
      assert.equal(res.statusCode, 202, res.body);
    }

    async function webhookStatuses(): Promise<string[]> {
      const rows = await h.herald.db
        .selectFrom('messages')
        .select('status')
        .where('workspace_id', '=', h.staging.id)
        .where('channel', '=', 'webhook')
        .execute();
      return rows.map((r) => r.status).sort();
    }

    async function signIn(width: number): Promise<Page> {
      const context = await browser.newContext({ viewport: { width, height: 900 } });
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(`${h.baseUrl}/dashboard/`);
      await page.waitForSelector('[data-testid="login-form"]', { timeout: WAIT_MS });
      await page.fill('[data-testid="login-email"]', EMAIL);
      await page.fill('[data-testid="login-password"]', PASSWORD);
      await page.click('[data-testid="login-submit"]');
      await page.click('[data-testid="nav-messages"]', { timeout: WAIT_MS });
      await page.waitForSelector('[data-testid="messages-table"][data-loading="false"]', { timeout: WAIT_MS });
      return page;
    }

    /** Opens the row and returns its details' text. */
    async function expand(page: Page, selector: string): Promise<string> {
      await page.click(`${selector} [data-testid="message-toggle"]`);
      const details = await page.waitForSelector(`${selector} + tr [data-testid="message-details"]`, { timeout: WAIT_MS });
      return (await details.textContent()) ?? '';
    }

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      browser = await launchChromium();
      mkdirSync(ARTIFACTS, { recursive: true });
      flaky = await startWebhookReceiver(500);
      down = await startWebhookReceiver(503);
      await createAdminGroupDeps(h.herald).accounts.create(
        { email: EMAIL, password: PASSWORD, role: 'viewer' },
        { kind: 'cli' },
        CLI_ACTOR,
      );
      await new UserService(h.herald).upsert(h.staging.id, 'alice', { name: 'Alice Liddell' });
      await new WorkflowService(h.herald).apply(h.staging.id, [
        {
          slug: 'welcome',
          name: 'Welcome',
          category: 'transactional',
          steps: [{ type: 'inbox', template: { header: 'Welcome {{recipient.name}}', text: 'Your order {{data.order}} is confirmed.' } }],
        },
        { slug: 'order-paid', category: 'transactional', steps: [{ type: 'webhook', url: flaky.url }] },
        { slug: 'crm-sync', category: 'transactional', steps: [{ type: 'webhook', url: down.url }] },
      ]);
      await trigger('welcome', ['alice', 'bob'], { order: 'A-1001' });
      await trigger('order-paid', ['alice'], { order: 'A-1001', amount: 42.5, paid: true });
      await waitFor(() => flaky.received.length === 1);
      flaky.setStatus(200);
      h.clock.advance(1_000);
      await trigger('crm-sync', ['bob'], { plan: 'pro' });
      await waitFor(() => down.received.length === 1);
      // The paid webhook's retry is due; the CRM one's not yet.
      h.clock.advance(FIRST_BACKOFF_MS - 1_000);
      await waitFor(async () => (await webhookStatuses()).join() === 'queued,sent');
    });

    after(async () => {
      assert.deepEqual(pageErrors, [], 'no script errors in the dashboard');
      await browser?.close();
      await h?.close();
      await flaky?.close();
      await down?.close();
      await t?.cleanup();
    });

    test('lists the delivered messages and opens their details', async () => {
      const page = await signIn(1360);
      assert.equal(await page.locator('[data-testid="message-row"]').count(), 4);
      const table = (await page.textContent('[data-testid="messages-table"]')) ?? '';
      for (const text of [
        'In-app inbox',
        'Webhook',
        'Delivered',
        'Sent',
        'Retrying',
        'alice',
        'bob',
        'welcome',
        'order-paid',
        'crm-sync',
      ]) {
        assert.ok(table.includes(text), `the table shows ${text}`);
      }
      const attempts = await page.locator('[data-testid="message-attempts"]').allTextContents();
      assert.deepEqual([...attempts].sort(), ['1', '2', '—', '—']);

      const inbox = '[data-testid="message-row"][data-channel="inbox"]:has(td:text-is("alice"))';
      const inboxText = await expand(page, inbox);
      assert.match(inboxText, /Welcome Alice Liddell/);
      assert.match(inboxText, /Your order A-1001 is confirmed\./);

      const retrying = '[data-testid="message-row"][data-channel="webhook"]:has([data-status="queued"])';
      const retryingText = await expand(page, retrying);
      assert.match(retryingText, /Refused: the target answered HTTP 503/);
      assert.match(retryingText, /Next retry/);
      assert.match(retryingText, /Attempts1/);

      const sent = '[data-testid="message-row"][data-channel="webhook"]:has([data-status="sent"])';
      const sentText = await expand(page, sent);
      assert.match(sentText, new RegExp(`Target host${new URL(flaky.url).host.replace(/\./g, '\\.')}`));
      assert.match(sentText, /Attempts2/);
      assert.match(sentText, /Accepted \(HTTP 2xx\) after 1 failed attempt/);
      assert.match(sentText, /amount42\.5/);
      assert.doesNotMatch(sentText, /Next retry/);

      // Human labels, not JSON.
      for (const text of [sentText, retryingText, inboxText]) assert.doesNotMatch(text, /[{[]"|":/, 'no JSON in the details');
      await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-messages-${engine}.png`), fullPage: true });

      // Filters: a channel, then a recipient nobody is.
      await page.selectOption('[data-testid="filter-channel"]', 'webhook');
      await page.click('[data-testid="filter-apply"]');
      await waitFor(async () => (await page.locator('[data-testid="message-row"]').count()) === 2, WAIT_MS);
      assert.deepEqual(
        await page.locator('[data-testid="message-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-channel'))),
        ['webhook', 'webhook'],
      );
      await page.fill('[data-testid="filter-recipient"]', 'nobody');
      await page.click('[data-testid="filter-apply"]');
      await page.waitForSelector('[data-testid="messages-empty"] >> text=No messages match these filters', { timeout: WAIT_MS });
      await page.context().close();
    });

    test('a narrow window scrolls the table, not the page; an empty workspace says how to send a message', async () => {
      const page = await signIn(700);
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
      const scrolls = await page.evaluate<boolean>(
        "(() => { const w = document.querySelector('[data-testid=\"messages-table\"]').closest('.table-scroll'); return w.scrollWidth > w.clientWidth; })()",
      );
      assert.ok(scrolls, 'the table scrolls inside its wrapper');

      await page.selectOption('[data-testid="workspace-switcher"]', 'production');
      const empty = await page.waitForSelector('[data-testid="messages-empty"]', { timeout: WAIT_MS });
      assert.match((await empty.textContent()) ?? '', /npm run herald -- trigger production welcome --user demo-user/);
      await page.context().close();
    });
  });
}
