import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { heraldJson, ROOT } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { hmacHeaders } from './helpers/http.js';
import { startServer, type RunningServer } from './helpers/server.js';

/**
 * "No secret in any log line": a real server process at the most verbose log level goes through
 * logins (good and bad), dashboard reveals and creations, service tokens and every API credential;
 * then its whole output is searched for each secret it handled.
 */

const PASSWORD = 'correct horse battery staple 42';

function createOwner(env: Record<string, string>, email: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [path.join(ROOT, 'bin/herald.js'), 'admin', 'create', '--email', email, '--role', 'owner', '--password-stdin'],
      {
        env: { PATH: process.env['PATH'] ?? '', ...env },
        stdio: ['pipe', 'ignore', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`admin create exited ${code}: ${stderr}`))));
    child.stdin.end(`${PASSWORD}\n`);
  });
}

for (const engine of enginesUnderTest()) {
  describe(`server log lines hold no secret on ${engine}`, () => {
    let t: TestEnv;
    let server: RunningServer;
    const secrets: Array<[string, string]> = [['password', PASSWORD]];

    before(async () => {
      t = await createTestEnv(engine, { LOG_LEVEL: 'trace' });
      await heraldJson(['workspace', 'list'], t.env);
      await createOwner(t.env, 'owner@example.com');
      server = await startServer(t.env);
    });

    after(async () => {
      await server?.stop();
      await t?.cleanup();
    });

    test('logins, reveals, creations and every credential leave no secret in the output', async () => {
      const origin = new URL(server.url).origin;
      const json = { 'content-type': 'application/json', origin };
      const failed = await fetch(`${server.url}/admin/api/login`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ email: 'owner@example.com', password: `${PASSWORD}-wrong` }),
      });
      assert.equal(failed.status, 401);
      const login = await fetch(`${server.url}/admin/api/login`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ email: 'owner@example.com', password: PASSWORD }),
      });
      assert.equal(login.status, 200, await login.clone().text());
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const { csrf_token: csrf } = (await login.json()) as { csrf_token: string };
      secrets.push(['session cookie', cookie.split('=')[1] as string], ['csrf token', csrf]);
      const admin = (method: string, url: string, body?: unknown) =>
        fetch(`${server.url}${url}`, {
          method,
          headers: { ...json, cookie, 'x-csrf-token': csrf },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });

      const revealed = (await (await admin('GET', '/admin/api/workspaces/staging/secret')).json()) as {
        workspace_key: string;
        workspace_secret: string;
      };
      secrets.push(['workspace secret', revealed.workspace_secret]);
      const apiKey = (await (await admin('POST', '/admin/api/workspaces/staging/api-keys', { name: 'logs' })).json()) as { key: string };
      secrets.push(['API key', apiKey.key]);
      const signing = (await (await admin('POST', '/admin/api/workspaces/staging/signing-keys', {})).json()) as {
        pem: string;
        base64: string;
        kid: string;
      };
      secrets.push(['signing key base64', signing.base64], ['signing key PEM body', signing.pem.split('\n')[1] as string]);
      const publicKey = (await (await admin('POST', '/admin/api/workspaces/staging/public-keys', {})).json()) as { key: string };
      const serviceToken = (await (await admin('POST', '/admin/api/service-tokens', { name: 'ci', role: 'developer' })).json()) as {
        token: string;
      };
      assert.ok(serviceToken.token, 'service token created');
      secrets.push(['service token', serviceToken.token]);
      const nowS = Math.floor(Date.now() / 1000);
      const userToken = await new SignJWT({ entity_type: 'subscriber', entity_id: 'alice' })
        .setProtectedHeader({ alg: 'ES256', kid: signing.kid })
        .setIssuedAt(nowS)
        .setExpirationTime(nowS + 600)
        .sign(createPrivateKey(signing.pem));
      secrets.push(['user token', userToken]);
      await new Promise((resolve) => setTimeout(resolve, 1_000));

      // Every credential, used well and badly.
      const calls: Array<Promise<Response>> = [
        fetch(`${server.url}/v1/auth/whoami`, {
          headers: hmacHeaders(revealed.workspace_key, revealed.workspace_secret, 'GET', '/v1/auth/whoami', undefined),
        }),
        fetch(`${server.url}/v1/auth/whoami`, {
          headers: hmacHeaders(revealed.workspace_key, `${revealed.workspace_secret}x`, 'GET', '/v1/auth/whoami', undefined),
        }),
        fetch(`${server.url}/v1/auth/whoami`, { headers: { authorization: `Bearer ${apiKey.key}` } }),
        fetch(`${server.url}/v1/auth/whoami?token=${encodeURIComponent(apiKey.key)}`, {
          // One character changed (a key that already ends in A would otherwise stay valid).
          headers: { authorization: `Bearer ${apiKey.key.slice(0, -1)}${apiKey.key.endsWith('A') ? 'B' : 'A'}` },
        }),
        fetch(`${server.url}/v1/auth/whoami`, { headers: { authorization: publicKey.key, 'x-ss-signature': userToken } }),
        fetch(`${server.url}/v1/auth/whoami`, { headers: { authorization: publicKey.key, 'x-ss-signature': `${userToken}x` } }),
        fetch(`${server.url}/admin/api/workspaces`, { headers: { authorization: `ServiceToken ${serviceToken.token}` } }),
        fetch(`${server.url}/admin/api/workspaces`, { headers: { authorization: `ServiceToken ${serviceToken.token}x` } }),
      ];
      const statuses = (await Promise.all(calls)).map((r) => r.status);
      assert.deepEqual(statuses, [200, 401, 200, 401, 200, 401, 200, 401]);
      await admin('POST', '/admin/api/logout');
      await server.stop();

      const output = server.output();
      assert.match(output, /incoming request/, 'the log was captured at full verbosity');
      assert.match(output, /request rejected/);
      for (const [label, secret] of secrets) {
        assert.ok(secret.length >= 16, `${label} looks like a real secret`);
        assert.ok(!output.includes(secret), `${label} appears in the server output`);
      }
    });
  });
}
