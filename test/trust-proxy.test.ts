import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { createAdminGroupDeps } from '../src/admin/admin-group.js';
import { loadConfig } from '../src/config.js';
import { createTestEnv, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

/**
 * HERALD_TRUST_PROXY: behind a load balancer the client's address comes from X-Forwarded-For, and
 * only from the proxies named; without the setting the header is ignored (anyone can send it).
 */

const CLIENT = '203.0.113.7';
const PROXY = '10.9.8.7';

describe('the client address behind a proxy', { timeout: 60_000 }, () => {
  const opened: Array<{ t: TestEnv; h: InProcess }> = [];

  after(async () => {
    for (const { t, h } of opened) {
      await h.close();
      await t.cleanup();
    }
  });

  /** The address the audit log records for a failed sign-in sent through PROXY. */
  async function recordedAddress(env: Record<string, string>): Promise<string | null> {
    const t = await createTestEnv('sqlite', env);
    const h = await startInProcess(t);
    opened.push({ t, h });
    await createAdminGroupDeps(h.herald).accounts.create(
      { email: 'proxy@example.com', password: 'correct horse battery staple', role: 'owner' },
      { kind: 'cli' },
      { type: 'cli', id: null, label: 'cli:test', ip: null },
    );
    const response = await h.app.inject({
      method: 'POST',
      url: '/admin/api/login',
      payload: { email: 'proxy@example.com', password: 'wrong password' },
      remoteAddress: PROXY,
      headers: { 'x-forwarded-for': CLIENT, origin: 'http://localhost' },
    });
    assert.equal(response.statusCode, 401, response.body);
    const entry = await h.herald.db.selectFrom('audit_log').select('ip').where('action', '=', 'login.failed').executeTakeFirstOrThrow();
    return entry.ip;
  }

  test('trusted proxy: the forwarded client address is recorded', async () => {
    assert.equal(await recordedAddress({ HERALD_TRUST_PROXY: '10.0.0.0/8' }), CLIENT);
  });

  test('no setting, or a proxy not in the list: the peer address is recorded, the header ignored', async () => {
    assert.equal(await recordedAddress({}), PROXY);
    assert.equal(await recordedAddress({ HERALD_TRUST_PROXY: '192.168.0.0/16' }), PROXY);
  });

  test('the setting takes true, a hop count or addresses, and refuses anything else', () => {
    const parse = (value: string) => loadConfig({ HERALD_TRUST_PROXY: value }).trustProxy;
    assert.equal(parse('true'), true);
    assert.equal(parse('1'), 1);
    assert.equal(parse('10.0.0.1, 10.0.0.0/8, loopback'), '10.0.0.1, 10.0.0.0/8, loopback');
    assert.throws(() => parse('everyone'), /HERALD_TRUST_PROXY must be/);
  });
});
