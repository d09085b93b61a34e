import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { CategoryService } from '../src/preferences/categories.service.js';
import { browserUnavailable, launchChromium } from './helpers/browser.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

/**
 * The unmodified `@suprsend/web-sdk` 1.3.3 (installed as `@suprsend/web-sdk-v1`) in headless
 * Chromium, on a page of another origin, signing with the workspace key + secret as
 * `init(WORKSPACE_KEY, WORKSPACE_SECRET, {api_url})` does: the date in x-amz-date (so every call is
 * pre-flighted), events batched from localStorage to `POST /event/` every 3 s, preferences read
 * with GET and written with POST on `/v1/subscriber/{id}/…`. The user is identified by a number.
 */

const require = createRequire(import.meta.url);
const BUNDLE = readFileSync(require.resolve('@suprsend/web-sdk-v1/dist/cdn_bundle.js'), 'utf8');
const skip = browserUnavailable();
/** What the page logged and fetched, for the message of a timeout. */
const PAGE_LOG: string[] = [];

async function waitUntil<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${PAGE_LOG.join(' | ')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

for (const engine of enginesUnderTest()) {
  describe(`web-sdk 1.3.3 (key+secret signed) in headless Chromium on ${engine}`, { skip: skip ?? false }, () => {
    let t: TestEnv;
    let h: InProcess;
    let browser: Browser;
    let page: Page;
    /** The app's page, served from another origin on the loopback (Chromium lets no public page call 127.0.0.1): CORS applies. */
    let appServer: Server;
    const failedRequests: string[] = [];

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      await new CategoryService(h.herald).apply(h.staging.id, [{ slug: 'promotional', name: 'Promotions' }]);
      browser = await launchChromium();
      page = await browser.newPage();
      page.on('console', (m) => PAGE_LOG.push(`console ${m.text()}`));
      page.on('requestfailed', (r) => PAGE_LOG.push(`failed ${r.url()} ${r.failure()?.errorText}`));
      page.on('response', async (response) => {
        PAGE_LOG.push(
          `${response.status()} ${response.request().method()} ${response.url()} ${response.status() >= 400 ? await response.text() : ''}`,
        );
        if (response.url().startsWith(h.baseUrl) && response.status() >= 400) failedRequests.push(`${response.status()} ${response.url()}`);
      });
      appServer = createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        response.end(`<!doctype html><title>legacy app</title><script>${BUNDLE}</script>`);
      });
      await new Promise<void>((resolve) => appServer.listen(0, '127.0.0.1', resolve));
      await page.goto(`http://127.0.0.1:${(appServer.address() as AddressInfo).port}/`);
    });

    after(async () => {
      await browser?.close();
      await new Promise((resolve) => appServer?.close(resolve));
      await h?.close();
      await t?.cleanup();
    });

    test('events (identify with a numeric id, set, track) arrive through the batch flush, and preferences read and update', async () => {
      await page.evaluate(
        ([key, secret, apiUrl]) => {
          const sdk = (globalThis as unknown as { suprsend: { default: Record<string, (...args: unknown[]) => unknown> } }).suprsend
            .default;
          sdk['init']?.(key, secret, { api_url: apiUrl });
          sdk['identify']?.(424242);
          (sdk['user'] as unknown as { set: (k: string, v: unknown) => void }).set('plan', 'legacy');
          sdk['track']?.('button_clicked', { colour: 'blue' });
        },
        [h.staging.workspaceKey, h.staging.secret, h.baseUrl] as const,
      );
      const events = await waitUntil('the flushed events', async () => {
        const rows = await h.herald.db
          .selectFrom('events')
          .select(['event', 'distinct_id'])
          .where('workspace_id', '=', h.staging.id)
          .where('distinct_id', '=', '424242')
          .execute();
        return rows.some((r) => r.event === 'button_clicked') ? rows : undefined;
      });
      assert.ok(
        events.some((r) => r.event === '$identify'),
        JSON.stringify(events),
      );
      const profile = await h.herald.db
        .selectFrom('users')
        .select('properties')
        .where('workspace_id', '=', h.staging.id)
        .where('distinct_id', '=', '424242')
        .executeTakeFirstOrThrow();
      assert.equal((JSON.parse(profile.properties) as { plan?: string }).plan, 'legacy');
      // The queue is emptied only after a 2xx: nothing left in localStorage means every batch was accepted.
      await waitUntil('an empty event queue', async () =>
        (await page.evaluate(() =>
          (globalThis as unknown as { localStorage: { getItem: (k: string) => string | null } }).localStorage.getItem('_bulk_api_call'),
        )) === '[]'
          ? true
          : undefined,
      );

      const before = await page.evaluate(async () => {
        const sdk = (
          globalThis as unknown as { suprsend: { default: { user: { preferences: { get_preferences: () => Promise<unknown> } } } } }
        ).suprsend.default;
        return sdk.user.preferences.get_preferences();
      });
      const sections = (before as { sections?: Array<{ subcategories: Array<{ category: string; preference: string }> }> }).sections;
      assert.ok(sections, `get_preferences answered ${JSON.stringify(before)}`);
      assert.equal(sections.flatMap((s) => s.subcategories).find((c) => c.category === 'promotional')?.preference, 'opt_in');

      await page.evaluate(() => {
        const sdk = (
          globalThis as unknown as {
            suprsend: { default: { user: { preferences: { update_category_preference: (c: string, p: string) => unknown } } } };
          }
        ).suprsend.default;
        sdk.user.preferences.update_category_preference('promotional', 'opt_out');
      });
      await waitUntil('the category update (debounced 1 s)', async () => {
        const response = await h.signed('GET', '/v1/user/424242/preference/category/promotional');
        return (response.json() as { preference?: string }).preference === 'opt_out' ? true : undefined;
      });
      assert.deepEqual(failedRequests, []);
    });
  });
}
