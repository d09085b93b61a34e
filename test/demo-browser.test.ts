import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { browserUnavailable, launchChromium } from './helpers/browser.js';
import { ROOT } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { suprsendClient, WorkflowTriggerRequest } from './helpers/sdk.js';
import { SignJWT } from 'jose';
import { createPrivateKey } from 'node:crypto';

const ARTIFACTS = path.join(ROOT, 'artifacts');
const skip = browserUnavailable();

for (const engine of enginesUnderTest()) {
  describe(`the /demo/inbox page in headless Chromium on ${engine}`, { skip: skip ?? false }, () => {
    let t: TestEnv;
    let h: InProcess;
    let browser: Browser;

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      browser = await launchChromium();
      mkdirSync(ARTIFACTS, { recursive: true });
    });

    after(async () => {
      await browser?.close();
      await h?.close();
      await t?.cleanup();
    });

    test('shows the inbox of a user with enhanced security on and updates live when a trigger delivers', async () => {
      const staging = await h.herald.workspaces.get('staging');
      await h.herald.workspaces.setEnhancedSecurity('staging', true);
      const publicKey = await h.herald.publicKeys.create(staging, {});
      const signing = await h.herald.signingKeys.create(staging, {});
      await new WorkflowService(h.herald).apply(staging.id, [
        {
          slug: 'welcome',
          category: 'transactional',
          steps: [{ type: 'inbox', template: { header: 'Welcome {{data.name}}', text: 'Your account is ready.' } }],
        },
      ]);
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({ entity_type: 'subscriber', entity_id: 'alice' })
        .setProtectedHeader({ alg: 'ES256', kid: signing.kid })
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(createPrivateKey(signing.pem));
      await new Promise((resolve) => setTimeout(resolve, t.config.invalidationPollMs * 4));
      const backend = suprsendClient(h.staging.workspaceKey, h.staging.secret, h.baseUrl);
      await backend.workflows.trigger(new WorkflowTriggerRequest({ workflow: 'welcome', recipients: ['alice'], data: { name: 'first' } }));

      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      const fragment = new URLSearchParams({ public_key: publicKey.key, distinct_id: 'alice', token }).toString();
      await page.goto(`${h.baseUrl}/demo/inbox#${fragment}`);
      await page.waitForSelector('body[data-ready="true"]', { timeout: 15_000 });
      assert.deepEqual(await page.locator('li h2').allTextContents(), ['Welcome first']);
      // Counts arrive after the first page.
      await page.waitForSelector('#badge:text-is("1")', { timeout: 10_000 });

      // The in-process clock is frozen: move it so the live notification is the newest.
      h.clock.advance(1_000);
      await backend.workflows.trigger(new WorkflowTriggerRequest({ workflow: 'welcome', recipients: ['alice'], data: { name: 'live' } }));
      await page.waitForSelector('li h2:text("Welcome live")', { timeout: 15_000 });
      assert.deepEqual(await page.locator('li h2').allTextContents(), ['Welcome live', 'Welcome first']);
      await page.screenshot({ path: path.join(ARTIFACTS, `demo-inbox-${engine}.png`), fullPage: true });

      await page.click('#mark-all');
      await page.locator('li.unread').first().waitFor({ state: 'detached', timeout: 10_000 });
      assert.deepEqual(errors, []);
    });
  });
}
