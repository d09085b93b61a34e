import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

/**
 * `GET /metrics` (src/metrics/metrics.ts): Prometheus text with requests by route and status,
 * auth rejections by code, deliveries, queue depths and sockets; labels never carry ids; the
 * optional bearer token.
 */

const TOKEN = 'metrics-token-0123456789abcdef';

/** The value of one sample line (`name{labels} value`), or undefined when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = (match[2] ?? '').split(',').filter(Boolean);
    if (wanted.every((label) => present.includes(label))) return Number(match[3]);
  }
  return undefined;
}

for (const engine of enginesUnderTest()) {
  describe(`metrics on ${engine}`, { timeout: 120_000 }, () => {
    let t: TestEnv;
    let h: InProcess;

    const trigger = (distinctId: string) =>
      h.signed('POST', '/trigger/', JSON.stringify({ workflow: 'metrics-inbox', recipients: [distinctId], data: {} }));
    const scrape = (token?: string) =>
      h.app.inject({ method: 'GET', url: '/metrics', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

    before(async () => {
      t = await createTestEnv(engine, { HERALD_METRICS_TOKEN: TOKEN });
      h = await startInProcess(t);
      await new WorkflowService(h.herald).apply(h.staging.id, [
        { slug: 'metrics-inbox', category: 'transactional', steps: [{ type: 'inbox', template: { text: 'Hello' } }] },
      ]);
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    test('without the token a scrape is refused; with it, the exposition format', async () => {
      const refused = await scrape();
      assert.equal(refused.statusCode, 401);
      assert.match(refused.headers['www-authenticate'] as string, /^Bearer/);
      assert.equal((await scrape('metrics-token-wrong-wrong-wrong')).statusCode, 401);
      const ok = await scrape(TOKEN);
      assert.equal(ok.statusCode, 200);
      assert.match(ok.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
      assert.ok(sample(ok.body, 'herald_process_cpu_user_seconds_total') !== undefined, 'process metrics are there');
    });

    test('requests, rejections and deliveries are counted; labels carry patterns, not ids', async () => {
      const before = (await scrape(TOKEN)).body;
      const routeOf = (text: string) =>
        (sample(text, 'herald_http_requests_total', { method: 'POST', route: '/trigger', status: '202' }) ?? 0) +
        (sample(text, 'herald_http_requests_total', { method: 'POST', route: '/trigger/', status: '202' }) ?? 0);
      for (const user of ['metrics-user-a', 'metrics-user-b']) assert.equal((await trigger(user)).statusCode, 202);
      const forged = await h.app.inject({
        method: 'GET',
        url: '/v1/feed/notifications?distinct_id=metrics-user-a',
        headers: { authorization: 'pk_nosuchkey_0000000000000000000000' },
      });
      assert.equal(forged.statusCode, 401);
      const missing = await h.app.inject({ method: 'GET', url: '/v1/no-such-route/metrics-user-a' });
      assert.equal(missing.statusCode, 404);

      const after = (await scrape(TOKEN)).body;
      assert.equal(routeOf(after) - routeOf(before), 2);
      assert.equal(
        (sample(after, 'herald_deliveries_total', { channel: 'inbox' }) ?? 0) -
          (sample(before, 'herald_deliveries_total', { channel: 'inbox' }) ?? 0),
        2,
      );
      assert.ok((sample(after, 'herald_auth_rejections_total', { code: 'UNAUTHENTICATED' }) ?? 0) >= 1, after);
      assert.ok((sample(after, 'herald_http_requests_total', { route: '(unmatched)', status: '404' }) ?? 0) >= 1);
      assert.ok((sample(after, 'herald_http_request_duration_seconds_count', { method: 'POST' }) ?? 0) >= 2);
      for (const secretish of ['metrics-user-a', 'metrics-user-b', h.staging.id, h.staging.workspaceKey, 'no-such-route']) {
        assert.ok(!after.includes(secretish), `${secretish} must not appear in metrics`);
      }
    });

    test('queue depths, sockets and the feed cache are reported', async () => {
      const text = (await scrape(TOKEN)).body;
      assert.equal(sample(text, 'herald_jobs', { status: 'pending' }), 0);
      assert.equal(sample(text, 'herald_jobs', { status: 'running' }), 0);
      assert.equal(sample(text, 'herald_webhook_outbox', { status: 'pending' }), 0);
      assert.equal(sample(text, 'herald_realtime_connected_clients'), 0);
      assert.ok(sample(text, 'herald_feed_cache_bytes') !== undefined);
    });
  });
}
