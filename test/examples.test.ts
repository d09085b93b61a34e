import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { browserUnavailable, launchChromium } from './helpers/browser.js';
import { killWithTestProcess } from './helpers/children.js';
import { heraldJson, ROOT } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { getJson } from './helpers/http.js';
import { startServer, type RunningServer } from './helpers/server.js';
import { waitFor } from './helpers/webhook-receiver.js';

/**
 * `examples/` cannot rot: each example runs, as its README says, against the real server (what
 * `npm start` runs) with only the environment it documents, and its effect is checked through the
 * API or in headless Chromium. The README's snippets must be literal excerpts of the examples.
 */

const EXAMPLES = path.join(ROOT, 'examples');
const ARTIFACTS = path.join(ROOT, 'artifacts');
const browserSkip = browserUnavailable();

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs an example with node, from the repository, with nothing in its environment but what is given. */
function runExample(file: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(EXAMPLES, file), ...args], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killWithTestProcess(child);
    const run: Run = { code: null, stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => (run.stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ...run, code }));
  });
}

/** Starts examples/web/serve.mjs and resolves with the URL it prints; stop() ends it. */
function serveWebExample(env: Record<string, string>): Promise<{ url: string; stop(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(EXAMPLES, 'web/serve.mjs')], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'] ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    killWithTestProcess(child);
    let output = '';
    const stop = () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      });
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const url = /^Open (\S+)$/m.exec(output)?.[1];
      if (url) resolve({ url, stop });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`serve.mjs exited with ${code}:\n${output}`)));
  });
}

/** A token with its payload replaced (another user), keeping the original signature. */
function retargeted(token: string, distinctId: string): string {
  const [header, payload, signature] = token.split('.');
  assert.ok(header && payload && signature, `a compact JWS: ${token}`);
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  const forged = Buffer.from(JSON.stringify({ ...claims, entity_id: distinctId })).toString('base64url');
  return `${header}.${forged}.${signature}`;
}

describe('the README snippets are excerpts of examples/', () => {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const excerpts = [...readme.matchAll(/<!-- excerpt of (examples\/\S+) -->\n```\w*\n([\s\S]*?)\n```/g)];

  test('each excerpt appears in its example, line for line (a `// …` line stands for lines left out)', () => {
    assert.deepEqual(
      excerpts.map(([, file]) => file),
      ['examples/node-sdk/trigger.mjs', 'examples/node-sdk/user-token.mjs', 'examples/web/inbox.html'],
    );
    for (const [, file, snippet] of excerpts) {
      const source = readFileSync(path.join(ROOT, file!), 'utf8')
        .split('\n')
        .map((line) => line.trim());
      let from = 0;
      for (const part of snippet!.split(/^\s*\/\/ …\s*$/m)) {
        const lines = part
          .split('\n')
          .map((line) => line.trim())
          .filter((line) => line !== '');
        const at = source.findIndex((_, i) => i >= from && lines.every((line, j) => source[i + j] === line));
        assert.ok(at >= 0, `README's excerpt of ${file} is not in it (from its line ${from + 1}):\n${lines.join('\n')}`);
        from = at + lines.length;
      }
    }
  });

  test('examples/README.md names only files that exist', () => {
    const named = [...readFileSync(path.join(EXAMPLES, 'README.md'), 'utf8').matchAll(/examples\/[\w./-]+\.(?:mjs|html|json)/g)];
    assert.ok(named.length >= 4);
    for (const [file] of named) assert.ok(existsSync(path.join(ROOT, file)), `${file} exists`);
  });
});

for (const engine of enginesUnderTest()) {
  describe(`examples/ against the real server on ${engine}`, { timeout: 180_000 }, () => {
    let t: TestEnv;
    let server: RunningServer;
    let backendEnv: Record<string, string>;
    let publicKey: string;
    let signingKey: { pem: string; base64: string };
    let signingKeyFile: string;
    let browser: Browser | undefined;

    const feed = async (userToken?: string) =>
      getJson(`${server.url}/v1/feed/notifications?distinct_id=demo-user`, {
        authorization: publicKey,
        ...(userToken ? { 'x-ss-signature': userToken } : {}),
      });
    /** Switches staging's mode with the CLI (another process) and waits until the server enforces it. */
    const setEnhancedSecurity = async (isOn: boolean) => {
      await heraldJson(['enhanced-security', 'staging', isOn ? 'on' : 'off'], t.env);
      await waitFor(async () => (await feed()).status === (isOn ? 401 : 200), 15_000);
    };
    const signToken = async () => {
      const signed = await runExample('node-sdk/user-token.mjs', ['demo-user'], { HERALD_SIGNING_KEY_FILE: signingKeyFile });
      assert.equal(signed.code, 0, signed.stderr);
      return signed.stdout.trim();
    };

    before(async () => {
      // SQLite: the first start's sample (the `welcome` workflow), exactly what `npm start` gives.
      // PostgreSQL has no sample: the workflow comes from the file examples/README.md names for that case.
      t = await createTestEnv(engine, engine === 'sqlite' ? { HERALD_SAMPLE_DATA: 'on' } : {});
      server = await startServer(t.env);
      if (engine === 'postgres') await heraldJson(['workflow', 'apply', 'staging', path.join(EXAMPLES, 'welcome-workflow.json')], t.env);
      const secret = await heraldJson<{ workspace_key: string; workspace_secret: string }>(['workspace', 'secret', 'staging'], t.env);
      backendEnv = { HERALD_URL: server.url, HERALD_WORKSPACE_KEY: secret.workspace_key, HERALD_WORKSPACE_SECRET: secret.workspace_secret };
      publicKey = (await heraldJson<{ key: string }>(['public-key', 'create', 'staging', '--name', 'examples'], t.env)).key;
      signingKey = await heraldJson<{ pem: string; base64: string }>(['signing-key', 'create', 'staging'], t.env);
      signingKeyFile = path.join(t.dataDir, 'signing-key.pem');
      writeFileSync(signingKeyFile, signingKey.pem, { mode: 0o600 });
    });

    after(async () => {
      await browser?.close();
      await server?.stop();
      await t?.cleanup();
    });

    test('node-sdk/trigger.mjs triggers welcome for demo-user: the notification is in their feed', async () => {
      // Staging's default, as `npm start` leaves it: the public key alone reads the feed.
      await setEnhancedSecurity(false);
      const feedNow = async () => {
        const read = await feed();
        assert.equal(read.status, 200, JSON.stringify(read.body));
        return read.body['results'] as Array<{ message: { header: string; text: string } }>;
      };
      const countBefore = (await feedNow()).length;
      const sent = await runExample('node-sdk/trigger.mjs', ['Hello from trigger.mjs'], backendEnv);
      assert.equal(sent.code, 0, `${sent.stdout}\n${sent.stderr}`);
      assert.match(sent.stdout, /success: true/);
      const delivered = await feedNow();
      assert.equal(delivered.length, countBefore + 1);
      assert.deepEqual([delivered[0]?.message.header, delivered[0]?.message.text], ['Welcome to Herald', 'Hello from trigger.mjs']);

      const refused = await runExample('node-sdk/trigger.mjs', [], {
        ...backendEnv,
        HERALD_WORKSPACE_SECRET: `${backendEnv['HERALD_WORKSPACE_SECRET']}x`,
      });
      assert.equal(refused.code, 1, 'a refused trigger exits non-zero');
      assert.match(refused.stdout, /status_code: 401/);
      assert.equal((await feedNow()).length, countBefore + 1, 'the refused trigger delivered nothing');

      const unconfigured = await runExample('node-sdk/trigger.mjs', [], { HERALD_URL: server.url });
      assert.equal(unconfigured.code, 2);
      assert.match(unconfigured.stderr, /HERALD_WORKSPACE_KEY/);
    });

    test('node-sdk/user-token.mjs signs a token a client route accepts in enhanced security mode; a tampered one is refused', async () => {
      const fromFile = await signToken();
      const fromBase64 = await runExample('node-sdk/user-token.mjs', [], { HERALD_SIGNING_KEY: signingKey.base64 });
      assert.equal(fromBase64.code, 0, fromBase64.stderr);
      const fromPem = await runExample('node-sdk/user-token.mjs', [], { HERALD_SIGNING_KEY: signingKey.pem });
      assert.equal(fromPem.code, 0, fromPem.stderr);

      await setEnhancedSecurity(true);
      const without = await feed();
      assert.equal(without.status, 401, 'enhanced security on: the public key alone is refused');
      for (const token of [fromFile, fromBase64.stdout.trim(), fromPem.stdout.trim()]) {
        const read = await feed(token);
        assert.equal(read.status, 200, JSON.stringify(read.body));
        assert.ok(Array.isArray(read.body['results']));
      }

      const tampered = await feed(retargeted(fromFile, 'someone-else'));
      assert.equal(tampered.status, 401, JSON.stringify(tampered.body));
      assert.equal((tampered.body['error'] as { type: string }).type, 'TOKEN_INVALID');
      const forOtherUser = await runExample('node-sdk/user-token.mjs', ['someone-else'], { HERALD_SIGNING_KEY_FILE: signingKeyFile });
      assert.equal((await feed(forOtherUser.stdout.trim())).status, 403, 'a valid token acts only for its own user');
    });

    test(
      'web/inbox.html lists the feed and shows a notification from node-sdk/trigger.mjs live',
      { skip: browserSkip ?? false },
      async () => {
        await setEnhancedSecurity(true);
        const listed = await runExample('node-sdk/trigger.mjs', ['Listed by inbox.html'], backendEnv);
        assert.equal(listed.code, 0, `${listed.stdout}\n${listed.stderr}`);
        const web = await serveWebExample({ HERALD_URL: server.url, HERALD_PUBLIC_KEY: publicKey, HERALD_USER_TOKEN: await signToken() });
        try {
          browser = await launchChromium();
          const page = await browser.newPage();
          const errors: string[] = [];
          page.on('pageerror', (error) => errors.push(error.message));
          await page.goto(web.url);
          await page.waitForSelector('body[data-ready], body[data-error]', { timeout: 30_000 });
          assert.equal(await page.getAttribute('body', 'data-error'), null, 'the page opened the feed');
          await page.waitForSelector('li p:text("Listed by inbox.html")', { timeout: 10_000 });

          // The socket connects in the background after the first page; until it has, a delivery is
          // not pushed, so send again until one arrives (each is a real delivery, shown live).
          const live = 'Live from trigger.mjs';
          await waitFor(async () => {
            const sent = await runExample('node-sdk/trigger.mjs', [live], backendEnv);
            assert.equal(sent.code, 0, `${sent.stdout}\n${sent.stderr}`);
            return page
              .waitForSelector(`li p:text("${live}")`, { timeout: 3_000 })
              .then(() => true)
              .catch(() => false);
          }, 45_000);
          assert.match((await page.locator('li').first().textContent()) ?? '', /Welcome to Herald.*Live from trigger\.mjs/);
          mkdirSync(ARTIFACTS, { recursive: true });
          await page.screenshot({ path: path.join(ARTIFACTS, `examples-web-${engine}.png`), fullPage: true });
          assert.deepEqual(errors, []);
        } finally {
          await web.stop();
        }
      },
    );
  });
}
