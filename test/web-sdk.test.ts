import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SuprSend } from '@suprsend/web-sdk';
import { SignJWT } from 'jose';
import { CategoryService } from '../src/preferences/categories.service.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { heraldJson } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { suprsendClient, WorkflowTriggerRequest } from './helpers/sdk.js';
import { waitFor } from './helpers/webhook-receiver.js';

/**
 * The acceptance flow of the client surface: the unmodified @suprsend/web-sdk (4.x) in Node,
 * identified with a token minted by `herald token sign`, in a workspace with enhanced security on,
 * receiving what the unmodified @suprsend/node-sdk triggers.
 */

type Notification = { n_id: string; message: { header?: string } };

for (const engine of enginesUnderTest()) {
  describe(`the real web SDK against Herald on ${engine}`, () => {
    let t: TestEnv;
    let h: InProcess;
    let publicKey: string;
    let signingPem: string;
    let token: string;
    let backend: ReturnType<typeof suprsendClient>;
    const clients: SuprSend[] = [];

    const trigger = (header: string) =>
      backend.workflows.trigger(new WorkflowTriggerRequest({ workflow: 'news', recipients: ['alice'], data: { header } }));
    const newClient = () => {
      const client = new SuprSend(publicKey, { host: h.baseUrl });
      clients.push(client);
      return client;
    };
    const feedOf = (client: SuprSend) => client.feeds.initialize({ host: { apiHost: h.baseUrl, socketHost: h.baseUrl } });

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
      const staging = await h.herald.workspaces.get('staging');
      await h.herald.workspaces.setEnhancedSecurity('staging', true);
      publicKey = (await h.herald.publicKeys.create(staging, { name: 'web' })).key;
      const signing = await heraldJson<{ pem: string; base64: string }>(['signing-key', 'create', 'staging'], t.env);
      signingPem = signing.pem;
      token = (await heraldJson<{ token: string }>(['token', 'sign', '--key', signing.base64, '--user', 'alice', '--ttl', '1h'], t.env))
        .token;
      await new CategoryService(h.herald).apply(staging.id, [
        { slug: 'newsletter', name: 'Newsletter', section: 'Updates' },
        { slug: 'security', name: 'Security', section: 'Account', default_preference: 'cant_unsubscribe' },
      ]);
      await new WorkflowService(h.herald).apply(staging.id, [
        { slug: 'news', category: 'newsletter', steps: [{ type: 'inbox', template: { header: '{{data.header}}', text: 'Read more' } }] },
      ]);
      backend = suprsendClient(h.staging.workspaceKey, h.staging.secret, h.baseUrl);
      // The in-process clock is frozen; move it so the three notifications have distinct times.
      for (const header of ['one', 'two', 'three']) {
        h.clock.advance(1_000);
        await trigger(header);
      }
      await new Promise((resolve) => setTimeout(resolve, t.config.invalidationPollMs * 4));
    });

    after(async () => {
      for (const client of clients) client.feeds.removeAll();
      await h?.close();
      await t?.cleanup();
    });

    test('identify, fetch the feed and counts, mark read, archive and mark all read', async () => {
      const client = newClient();
      const identified = await client.identify('alice', token);
      assert.equal(identified.status, 'success', JSON.stringify(identified));
      const feed = feedOf(client);
      const fetched = await feed.fetch();
      assert.equal(fetched.status, 'success', JSON.stringify(fetched));
      assert.deepEqual(
        feed.data.notifications.map((n: Notification) => n.message.header),
        ['three', 'two', 'one'],
      );
      // The SDK fetches counts in the background after the first page.
      await waitFor(() => feed.data.meta['badge'] === 3, 5_000);

      const [three, two] = feed.data.notifications;
      assert.ok(three && two);
      assert.equal((await feed.markAsRead(three.n_id)).status, 'success');
      assert.equal((await feed.markAsArchived(two.n_id)).status, 'success');
      const rows = await h.herald.db.selectFrom('notifications').selectAll().where('distinct_id', '=', 'alice').execute();
      assert.ok(rows.find((r) => r.id === three.n_id)?.read_at);
      assert.ok(rows.find((r) => r.id === two.n_id)?.archived_at);

      assert.equal((await feed.markAllAsRead()).status, 'success');
      const unread = await h.herald.db
        .selectFrom('notifications')
        .select('id')
        .where('distinct_id', '=', 'alice')
        .where('read_at', 'is', null)
        .execute();
      assert.deepEqual(unread, []);
      const refetched = feedOf(client);
      await refetched.fetch();
      assert.deepEqual(
        refetched.data.notifications.map((n: Notification) => n.message.header),
        ['three', 'one'],
        'the archived notification leaves the default store',
      );
    });

    test('read and update preferences', async () => {
      const client = newClient();
      await client.identify('alice', token);
      const preferences = await client.user.preferences.getPreferences();
      assert.equal(preferences.status, 'success', JSON.stringify(preferences));
      const sections = (
        preferences.body as { sections: Array<{ name: string; subcategories: Array<{ category: string; is_editable: boolean }> }> }
      ).sections;
      const categories = sections.flatMap((s) => s.subcategories.map((c) => [c.category, c.is_editable]));
      assert.deepEqual(Object.fromEntries(categories), { newsletter: true, security: false });

      const updated = await client.user.preferences.updateCategoryPreference('newsletter', 'opt_out' as never);
      assert.equal(updated.status, 'success', JSON.stringify(updated));
      // The SDK updates optimistically and sends the PATCH after a 1 s debounce.
      const stored = () => h.herald.db.selectFrom('user_preferences').selectAll().where('distinct_id', '=', 'alice').execute();
      await waitFor(async () => (await stored()).length > 0, 5_000);
      assert.deepEqual(
        (await stored()).map((r) => [r.category, r.preference]),
        [['newsletter', 'opt_out']],
      );
      // The opt-out now suppresses the newsletter for alice.
      await trigger('suppressed');
      const suppressed = await h.herald.db
        .selectFrom('notifications')
        .select('id')
        .where('distinct_id', '=', 'alice')
        .where('content', 'like', '%suppressed%')
        .execute();
      assert.deepEqual(suppressed, []);
      await client.user.preferences.updateCategoryPreference('newsletter', 'opt_in' as never);
      await waitFor(async () => (await stored())[0]?.preference === 'opt_in', 5_000);
    });

    test('a backend trigger arrives over the socket as new_notification', async () => {
      const client = newClient();
      await client.identify('alice', token);
      const feed = feedOf(client);
      await feed.fetch();
      const arrived: string[] = [];
      feed.emitter.on('feed.new_notification', (notification: Notification) => arrived.push(notification.message.header ?? ''));
      feed.initializeSocketConnection();
      // The socket connects asynchronously; keep triggering until one arrives (each is a real delivery).
      await waitFor(async () => {
        if (arrived.length === 0) await trigger('live');
        await new Promise((resolve) => setTimeout(resolve, 300));
        return arrived.length > 0;
      }, 15_000);
      assert.equal(arrived[0], 'live');
      assert.equal(feed.data.notifications[0]?.message.header, 'live');
    });

    test('an expired token is rejected; with refreshUserToken the SDK refreshes and goes on', async () => {
      const nowS = Math.floor(h.clock.now() / 1000);
      const expired = await new SignJWT({ entity_type: 'subscriber', entity_id: 'alice' })
        .setProtectedHeader({ alg: 'ES256' })
        .setIssuedAt(nowS - 7200)
        .setExpirationTime(nowS - 3600)
        .sign(createPrivateKey(signingPem));

      const stale = newClient();
      const rejected = await stale.identify('alice', expired);
      assert.equal(rejected.status, 'error');
      assert.equal(rejected.statusCode, 401);
      assert.equal(rejected.error?.type, 'TOKEN_EXPIRED');

      let refreshed = 0;
      const refreshing = newClient();
      const identified = await refreshing.identify('alice', expired, {
        refreshUserToken: async () => {
          refreshed++;
          return token;
        },
      });
      assert.equal(identified.status, 'success', JSON.stringify(identified));
      const feed = feedOf(refreshing);
      const fetched = await feed.fetch();
      assert.equal(fetched.status, 'success', JSON.stringify(fetched));
      assert.ok(refreshed >= 1);
      assert.equal(refreshing.userToken, token);
    });
  });
}
