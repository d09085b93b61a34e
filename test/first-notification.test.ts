import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { browserUnavailable, launchChromium } from './helpers/browser.js';
import { killWithTestProcess } from './helpers/children.js';
import { ROOT } from './helpers/cli.js';
import { createTestEnv, type TestEnv } from './helpers/engines.js';
import { startServer, type RunningServer } from './helpers/server.js';

/**
 * The README's first notification, followed literally: a fresh embedded installation starts
 * (`npm start`), its banner names the demo inbox and the one command that sends to it; the page
 * opens in headless Chromium, the printed command runs in a shell, and the notification appears
 * live. Nothing is written by hand: no workflow file, no key, no token.
 */

const ARTIFACTS = path.join(ROOT, 'artifacts');
const skip = browserUnavailable();

/** Runs a command line in a shell in the project folder, as a person would paste it. */
function shell(commandLine: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', commandLine], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    killWithTestProcess(child);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

test('the banner is one block after the info log lines, even with a log line per listening address', { timeout: 60_000 }, async () => {
  const env = await createTestEnv('sqlite');
  // Every interface: Fastify logs one "Server listening" line per address, at info.
  const server = await startServer({ ...env.env, HERALD_SAMPLE_DATA: 'on', LOG_LEVEL: 'info', HOST: '0.0.0.0' });
  try {
    const deadline = Date.now() + 30_000;
    while (!/then send demo-user a notification/.test(server.output()) && Date.now() < deadline) {
      await new Promise((resolve) => server.process.stdout?.once('data', resolve));
    }
    const lines = server.output().split('\n');
    const first = lines.findIndex((line) => line.startsWith('Herald listening on'));
    const last = lines.findIndex((line) => line.includes('then send demo-user a notification'));
    assert.ok(first >= 0 && last > first, server.output());
    const block = lines.slice(first, last + 1);
    assert.deepEqual(
      block.filter((line) => line.startsWith('{')),
      [],
      `no JSON log line inside the banner:\n${block.join('\n')}`,
    );
    const listening = lines.filter((line) => line.includes('"Server listening at'));
    assert.ok(listening.length >= 1, 'the listen lines are logged');
    assert.ok(
      lines.slice(0, first).filter((line) => line.includes('"Server listening at')).length === listening.length,
      'every listen line comes before the banner',
    );
  } finally {
    await server.stop();
    await env.cleanup();
  }
});

describe('first notification, as the README tells it', { skip: skip ?? false, timeout: 180_000 }, () => {
  let t: TestEnv;
  let server: RunningServer;
  let browser: Browser;
  let env: Record<string, string>;

  before(async () => {
    t = await createTestEnv('sqlite');
    env = { ...t.env, HERALD_SAMPLE_DATA: 'on' };
    delete env['HERALD_MASTER_KEY'];
    server = await startServer(env);
    browser = await launchChromium();
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await t?.cleanup();
  });

  test('start, open the printed demo inbox, run the printed command: the notification shows up live', async () => {
    const banner = server.output();
    const demoUrl = /Try it: open (\S+)/.exec(banner)?.[1];
    const command = /then send demo-user a notification: (.+)$/m.exec(banner)?.[1];
    assert.ok(demoUrl && command, `the banner names the page and the command:\n${banner}`);
    assert.match(banner, /Dashboard: http:\/\/\S+\/dashboard\//);
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    assert.ok(readme.includes('npm run herald -- trigger staging welcome --user demo-user'), 'the README shows the same command');

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(demoUrl);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });

    const sent = await shell(command, { ...env, PATH: process.env['PATH'] ?? '' });
    assert.equal(sent.code, 0, sent.output);
    assert.match(sent.output, /Triggered welcome for demo-user in staging/);
    await page.waitForSelector('li h2:text("Welcome to Herald")', { timeout: 30_000 });
    assert.match((await page.locator('li').first().textContent()) ?? '', /Hello from Herald/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'first-notification.png'), fullPage: true });
    assert.deepEqual(errors, []);
  });
});
