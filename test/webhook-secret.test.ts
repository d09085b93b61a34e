import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createAdminGroupDeps } from '../src/admin/admin-group.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import type { Workspace } from '../src/workspaces/workspaces.service.js';
import { heraldJson, runHerald } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { startWebhookReceiver, waitFor, type ReceivedWebhook } from './helpers/webhook-receiver.js';

/**
 * Webhooks are signed with a secret of their own (src/credentials/webhook-secrets.service.ts), not
 * with the workspace secret: shown once, rolled with a grace period during which every webhook
 * carries one signature per valid secret, untouched by a workspace-secret rotation. A workspace
 * older than webhook secrets keeps its workspace-secret signature until its first roll.
 */

const CLI_ACTOR = { type: 'cli' as const, id: null, label: 'cli:test', ip: null };
const HOUR = 3_600_000;

/** What a receiver does (README): any `v1=` that matches is good. */
function verifies(hook: ReceivedWebhook, secret: string): boolean {
  const parts = String(hook.headers['x-herald-signature']).split(',');
  const t = parts.find((p) => p.startsWith('t='))?.slice(2);
  const expected = createHmac('sha256', secret).update(`${t}.${hook.body}`).digest();
  return parts
    .filter((p) => p.startsWith('v1='))
    .some((p) => {
      const given = Buffer.from(p.slice(3), 'hex');
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

const signatureCount = (hook: ReceivedWebhook) =>
  String(hook.headers['x-herald-signature'])
    .split(',')
    .filter((p) => p.startsWith('v1=')).length;

for (const engine of enginesUnderTest()) {
  describe(`webhook signing secrets on ${engine}`, { timeout: 120_000 }, () => {
    let t: TestEnv;
    let h: InProcess;
    let staging: Workspace;
    let production: Workspace;
    let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
    let apiKey: string;

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      receiver = await startWebhookReceiver();
      staging = await h.herald.workspaces.get('staging');
      production = await h.herald.workspaces.get('production');
      apiKey = (await h.herald.apiKeys.create(staging, { name: 'trigger', expiresInMs: 1000 * 24 * HOUR })).key;
      for (const w of [staging, production]) {
        await new WorkflowService(h.herald).apply(w.id, [
          { slug: 'hook', category: 'transactional', steps: [{ type: 'webhook', url: receiver.url }] },
        ]);
      }
    });

    after(async () => {
      await h?.close();
      await receiver?.close();
      await t?.cleanup();
    });

    /** Triggers the webhook workflow in staging and returns what the receiver got. */
    async function deliverOne(): Promise<ReceivedWebhook> {
      const before = receiver.received.length;
      // A Bearer key: the test moves the server's clock, which a signed Date header would not follow.
      const res = await h.app.inject({
        method: 'POST',
        url: '/trigger/',
        headers: { authorization: `Bearer ${apiKey}` },
        payload: { workflow: 'hook', recipients: ['hook-user'], data: {} },
      });
      assert.equal(res.statusCode, 202, res.body);
      await waitFor(() => receiver.received.length > before, 20_000);
      return receiver.received[before] as ReceivedWebhook;
    }

    test('a new workspace signs webhooks with its own secret; a roll overlaps old and new for the grace period', async () => {
      const first = await h.herald.webhookSecrets.roll(staging, 0);
      assert.match(first.webhook_secret, /^hwh_test_[0-9A-Za-z]{46}$/);
      assert.notEqual(first.previous_valid_until, null, 'the secret made with the workspace was the previous one');
      const hook = await deliverOne();
      assert.ok(verifies(hook, first.webhook_secret));
      assert.ok(!verifies(hook, h.staging.secret), 'the workspace secret signs nothing here');
      assert.equal(signatureCount(hook), 1, 'grace 0: the previous secret stopped at once');

      const second = await h.herald.webhookSecrets.roll(staging, HOUR);
      assert.equal(second.previous_valid_until, h.clock.now() + HOUR);
      const during = await deliverOne();
      assert.equal(signatureCount(during), 2);
      assert.ok(verifies(during, second.webhook_secret) && verifies(during, first.webhook_secret), 'both verify during the grace');
      assert.match(String(during.headers['x-herald-signature']), /^t=\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}$/);

      await h.herald.workspaceSecrets.rotate(staging, 0);
      const afterWorkspaceRotation = await deliverOne();
      assert.ok(verifies(afterWorkspaceRotation, second.webhook_secret), 'a workspace-secret rotation leaves webhooks alone');

      h.clock.advance(HOUR + 1);
      const afterGrace = await deliverOne();
      assert.equal(signatureCount(afterGrace), 1);
      assert.ok(verifies(afterGrace, second.webhook_secret));
      assert.ok(!verifies(afterGrace, first.webhook_secret), 'the rolled-out secret stopped signing when its grace ended');
    });

    test('a workspace older than webhook secrets keeps the workspace-secret signature until its first roll', async () => {
      // As a workspace made before migration 0012 looks: no webhook secret at all.
      await h.herald.db.deleteFrom('webhook_secrets').where('workspace_id', '=', staging.id).execute();
      const workspaceSecret = await h.herald.workspaceSecrets.reveal(staging.id);
      const legacy = await deliverOne();
      assert.ok(verifies(legacy, workspaceSecret));
      assert.equal((await h.herald.webhookSecrets.status(staging.id)).has_own_secret, false);

      const rolled = await h.herald.webhookSecrets.roll(staging, HOUR);
      const during = await deliverOne();
      assert.ok(verifies(during, rolled.webhook_secret) && verifies(during, workspaceSecret), 'receivers switch over during the grace');
      h.clock.advance(HOUR + 1);
      const afterGrace = await deliverOne();
      assert.ok(verifies(afterGrace, rolled.webhook_secret));
      assert.ok(!verifies(afterGrace, workspaceSecret));
    });

    test('shown once: stored encrypted, never in a status, a list or the audit log; rolls are for admins', async () => {
      const deps = createAdminGroupDeps(h.herald);
      const viewer = await deps.serviceTokens.create({ name: 'viewer', role: 'viewer' }, { kind: 'cli' }, CLI_ACTOR);
      const admin = await deps.serviceTokens.create({ name: 'admin', role: 'admin' }, { kind: 'cli' }, CLI_ACTOR);
      const call = (token: string, method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
        h.app.inject({ method, url, headers: { authorization: `ServiceToken ${token}`, origin: 'http://localhost' }, payload });

      assert.equal((await call(viewer.token, 'POST', '/admin/api/workspaces/staging/webhook-secret/roll', {})).statusCode, 403);
      const badGrace = await call(admin.token, 'POST', '/admin/api/workspaces/staging/webhook-secret/roll', { grace: 'soon' });
      assert.equal(badGrace.statusCode, 400);
      const rolled = await call(admin.token, 'POST', '/admin/api/workspaces/staging/webhook-secret/roll', { grace: '0' });
      assert.equal(rolled.statusCode, 200, rolled.body);
      assert.equal(rolled.headers['cache-control'], 'no-store');
      const secret = (rolled.json() as { webhook_secret: string }).webhook_secret;
      assert.ok(verifies(await deliverOne(), secret));

      const status = await call(viewer.token, 'GET', '/admin/api/workspaces/staging/webhook-secret');
      assert.equal(status.statusCode, 200);
      assert.equal((status.json() as { has_own_secret: boolean }).has_own_secret, true);
      const everything = JSON.stringify({
        status: status.body,
        secrets: await h.herald.db.selectFrom('webhook_secrets').selectAll().execute(),
        audit: await h.herald.db.selectFrom('audit_log').selectAll().execute(),
      });
      assert.ok(!everything.includes(secret), 'the secret is nowhere but in the roll answer');
      assert.ok(!everything.includes(secret.slice(9, 30)));
      const entry = await h.herald.db.selectFrom('audit_log').selectAll().where('action', '=', 'webhook_secret.rolled').executeTakeFirst();
      assert.ok(entry, 'the roll is audited');

      // Another workspace's secret is its own.
      const other = await h.herald.webhookSecrets.roll(production, 0);
      assert.notEqual(other.webhook_secret, secret);
    });

    test('the CLI rolls (printing the secret once) and shows the status without it', async () => {
      const rolled = await heraldJson<{ webhook_secret: string; previous_valid_until: number | null }>(
        ['webhook-secret', 'roll', 'staging', '--grace', '2h'],
        t.env,
      );
      assert.match(rolled.webhook_secret, /^hwh_test_/);
      assert.ok(rolled.previous_valid_until !== null);
      const status = await runHerald(['webhook-secret', 'status', 'staging'], t.env);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /Current secret whsec_/);
      assert.match(status.stdout, /Previous secret whsec_\S+ still signs until/);
      assert.ok(!status.stdout.includes(rolled.webhook_secret));
      const refused = await runHerald(['webhook-secret', 'roll', 'staging', '--grace', 'later'], t.env);
      assert.notEqual(refused.code, 0);
    });
  });
}
