import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WebhookTargetPolicy } from '../src/delivery/webhook-target.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { startWebhookReceiver, waitFor } from './helpers/webhook-receiver.js';

/**
 * Webhook steps cannot reach private, loopback, link-local or metadata addresses (finding 9 of
 * the security review), whatever spelling the URL uses, unless HERALD_WEBHOOK_ALLOWED_HOSTS allows
 * them; a refused target is never connected to, so its status tells nothing about its ports.
 */

test('the policy refuses private, loopback, link-local and reserved addresses, and allows what the operator lists', () => {
  const none = new WebhookTargetPolicy([]);
  for (const address of [
    '127.0.0.1',
    '127.1.2.3',
    '10.0.0.5',
    '172.16.4.4',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '::1',
    '::',
    '::ffff:127.0.0.1',
    '::ffff:169.254.169.254',
    '::ffff:7f00:1',
    '::127.0.0.1',
    'fd00::1',
    'fe80::1',
    '224.0.0.1',
  ]) {
    assert.ok(none.problem('hooks.example', address), `${address} must be refused`);
  }
  assert.match(none.problem('x', '169.254.169.254') ?? '', /link-local address \(cloud metadata/);
  assert.match(none.problem('x', '::ffff:127.0.0.1') ?? '', /loopback/);
  for (const address of ['93.184.216.34', '172.32.0.1', '2606:4700::1111', '8.8.8.8']) {
    assert.equal(none.problem('hooks.example', address), undefined, `${address} is public`);
  }
  const allowed = new WebhookTargetPolicy(['10.1.0.0/16', '127.0.0.1', 'hooks.internal']);
  assert.equal(allowed.problem('x', '10.1.2.3'), undefined);
  assert.ok(allowed.problem('x', '10.2.0.1'), 'outside the allowed range');
  assert.equal(allowed.problem('x', '127.0.0.1'), undefined);
  assert.equal(allowed.problem('HOOKS.internal', '192.168.9.9'), undefined, 'an allowed host name, whatever it resolves to');
});

for (const engine of enginesUnderTest()) {
  describe(`webhook targets on ${engine}`, { timeout: 120_000 }, () => {
    let t: TestEnv;
    let h: InProcess;
    let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
    const port = () => new URL(receiver.url).port;

    before(async () => {
      receiver = await startWebhookReceiver();
      // No allowance for loopback here (the test helpers add one by default).
      t = await createTestEnv(engine, { HERALD_WEBHOOK_ALLOWED_HOSTS: '' });
      h = await startInProcess(t);
      await new WorkflowService(h.herald).apply(h.staging.id, [
        { slug: 'hook-loopback', category: 'transactional', steps: [{ type: 'webhook', url: receiver.url }] },
        { slug: 'hook-localhost', category: 'transactional', steps: [{ type: 'webhook', url: `http://localhost:${port()}/hook` }] },
        { slug: 'hook-hex', category: 'transactional', steps: [{ type: 'webhook', url: `http://0x7f000001:${port()}/hook` }] },
        { slug: 'hook-v6', category: 'transactional', steps: [{ type: 'webhook', url: `http://[::ffff:127.0.0.1]:${port()}/hook` }] },
        { slug: 'hook-metadata', category: 'transactional', steps: [{ type: 'webhook', url: 'http://169.254.169.254/latest/meta-data/' }] },
      ]);
    });

    after(async () => {
      await h?.close();
      await receiver?.close();
      await t?.cleanup();
    });

    test('every spelling of a loopback or metadata target is refused before connecting; the error says how to allow it', async () => {
      for (const workflow of ['hook-loopback', 'hook-localhost', 'hook-hex', 'hook-v6', 'hook-metadata']) {
        const response = await h.signed('POST', '/trigger/', JSON.stringify({ workflow, recipients: ['ssrf-user'], data: {} }));
        assert.equal(response.statusCode, 202, response.body);
      }
      const outbox = () => h.herald.db.selectFrom('webhook_outbox').select(['url', 'last_error', 'attempts']).execute();
      await waitFor(async () => (await outbox()).every((row) => row.last_error !== null), 30_000);
      for (const row of await outbox()) {
        assert.match(
          row.last_error ?? '',
          /^refused: .*(loopback|link-local).*HERALD_WEBHOOK_ALLOWED_HOSTS$/,
          `${row.url}: ${row.last_error}`,
        );
      }
      assert.equal(receiver.received.length, 0, 'nothing reached the receiver');
    });
  });
}
