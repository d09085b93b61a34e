import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { CancellationService } from '../src/delivery/cancellation.service.js';
import { claimJob, JobCancelledError, updateJob } from '../src/delivery/delivery.repo.js';
import { createPipeline } from '../src/delivery/pipeline.js';
import { ListService } from '../src/lists/lists.service.js';
import { CategoryService } from '../src/preferences/categories.service.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';
import { hmacHeaders } from './helpers/http.js';
import { SubscriberListBroadcast, suprsendClient, Workflow, WorkflowTriggerRequest } from './helpers/sdk.js';
import { waitFor } from './helpers/webhook-receiver.js';

/**
 * Issue #13 parity: triggers on object recipients (fan-out to subscribers and to the subscribers
 * of subscribed objects, each with their own preferences, each once), cancellation of delayed and
 * scheduled runs (POST /v1/workflow_run/cancel/, /v1/broadcast_run/cancel/), and the members of a
 * list in cursor pages (GET /v1/subscriber_list/{id}/subscriber/). Real server, real database, the
 * real Node SDK where it has a method.
 */

const TEAM_ALERT = {
  slug: 'team-alert',
  category: 'promotional',
  steps: [{ type: 'inbox', template: { text: 'Deploy {{data.n}}' } }],
};
const LATER = { slug: 'later', category: 'transactional', steps: [{ type: 'inbox', template: { text: 'Later {{data.n}}' } }] };

for (const engine of enginesUnderTest()) {
  describe(`object recipients, run cancellation and list members on ${engine}`, { timeout: 180_000 }, () => {
    let t: TestEnv;
    let h: InProcess;
    let client: ReturnType<typeof suprsendClient>;

    const inboxCount = async (distinctId: string) =>
      Number(
        (
          await h.herald.db
            .selectFrom('notifications')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('workspace_id', '=', h.staging.id)
            .where('distinct_id', '=', distinctId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const allNotifications = async () =>
      (await h.herald.db.selectFrom('notifications').select('id').where('workspace_id', '=', h.staging.id).execute()).length;
    const post = async (url: string, body: unknown) => {
      const response = await h.signed('POST', url, JSON.stringify(body));
      return { status: response.statusCode, json: response.json() as Record<string, unknown> };
    };
    const jobsFor = (distinctId: string) =>
      h.herald.db
        .selectFrom('jobs')
        .selectAll()
        .where('workspace_id', '=', h.staging.id)
        .where('payload', 'like', `%"${distinctId}"%`)
        .execute();

    before(async () => {
      t = await createTestEnv(engine);
      // The real time: the SDK signs with the machine's clock.
      h = await startInProcess(t);
      await new CategoryService(h.herald).apply(h.staging.id, [{ slug: 'promotional', name: 'Promotions', default_preference: 'opt_in' }]);
      await new WorkflowService(h.herald).apply(h.staging.id, [TEAM_ALERT, LATER]);
      client = suprsendClient(h.staging.workspaceKey, h.staging.secret, h.baseUrl);
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    test('an object trigger reaches its subscribers and those of subscribed objects, once each, minus who opted out', async () => {
      await client.objects.upsert('teams', 'eng', { name: 'Engineering' });
      await client.objects.create_subscriptions('teams', 'eng', {
        recipients: ['ann', 'olga', { object_type: 'teams', id: 'eng-backend' }],
      });
      await client.objects.create_subscriptions('teams', 'eng-backend', { recipients: ['bob', 'ann'] });
      // A subscriber two levels down is not reached: SuprSend fans out one level of objects.
      await client.objects.create_subscriptions('teams', 'eng-backend-db', { recipients: ['dave'] });
      await client.objects.create_subscriptions('teams', 'eng-backend', { recipients: [{ object_type: 'teams', id: 'eng-backend-db' }] });
      const optOut = await h.signed('PATCH', '/v1/user/olga/preference/category/promotional/', '{"preference": "opt_out"}');
      assert.equal(optOut.statusCode, 200, optOut.body);

      const result = await client.workflows.trigger(
        new WorkflowTriggerRequest({
          workflow: 'team-alert',
          recipients: [{ object_type: 'teams', id: 'eng', region: 'eu' }, 'carl', 'ann'],
          data: { n: 1 },
        }),
      );
      assert.equal(result.success, true, JSON.stringify(result));
      assert.equal(await inboxCount('ann'), 1, 'named, direct subscriber and via eng-backend: delivered once');
      assert.equal(await inboxCount('bob'), 1, 'subscriber of an object subscribed to the object');
      assert.equal(await inboxCount('carl'), 1, 'a user named beside the object');
      assert.equal(await inboxCount('olga'), 0, 'opted out of the category');
      assert.equal(await inboxCount('dave'), 0, 'two levels down');
      const eng = (await client.objects.get('teams', 'eng')) as { properties: Record<string, unknown> };
      assert.equal(eng.properties['region'], 'eu', 'fields sent with an inline object are upserted onto it');
    });

    test('an unknown object is accepted and delivers to nobody; bad object recipients are a 400 that changes nothing', async () => {
      const before = await allNotifications();
      const unknown = await post('/trigger/', { workflow: 'team-alert', recipients: [{ object_type: 'teams', id: 'ghost' }], data: {} });
      assert.equal(unknown.status, 202, JSON.stringify(unknown.json));
      assert.equal(await allNotifications(), before);
      for (const recipient of [{ object_type: 'teams' }, { id: 'eng' }, { object_type: '', id: 'eng' }, { object_type: 'teams', id: 7 }]) {
        const bad = await post('/trigger/', { workflow: 'team-alert', recipients: [recipient], data: {} });
        assert.equal(bad.status, 400, JSON.stringify(recipient));
        assert.match(String(bad.json['message']), /recipients\[0\]/);
      }
      assert.equal(await allNotifications(), before);
    });

    test('a fan-out past 1000 users is refused with a 400 that says so, and delivers nothing', async () => {
      const users = Array.from({ length: 1001 }, (_, i) => `crowd-${String(i).padStart(4, '0')}`);
      for (let i = 0; i < users.length; i += 100) {
        await client.objects.create_subscriptions('teams', 'crowd', { recipients: users.slice(i, i + 100) });
      }
      const before = await allNotifications();
      const refused = await post('/trigger/', { workflow: 'team-alert', recipients: [{ object_type: 'teams', id: 'crowd' }], data: {} });
      assert.equal(refused.status, 400);
      assert.match(String(refused.json['message']), /more than 1000 users, the limit per trigger/);
      assert.equal(await allNotifications(), before);
      const objects = await h.herald.db.selectFrom('executions').select('id').where('workflow_slug', '=', 'team-alert').execute();
      assert.equal(objects.length, 2, 'no execution was recorded for the refused trigger');
    });

    test('delayed runs cancelled by each filter never deliver; the others still do', async () => {
      const start = h.clock.now();
      const legacy = (ids: string[], extra: Record<string, unknown> = {}, options: Record<string, unknown> = {}) =>
        client.trigger_workflow(
          new Workflow(
            {
              name: 'later',
              template: 'later',
              notification_category: 'transactional',
              users: ids.map((id) => ({ distinct_id: id })),
              data: { n: 2 },
              delay: 60,
              ...extra,
            },
            options,
          ),
        );
      for (const result of [
        await legacy(['c-key'], { cancellation_key: 'ck-1' }),
        await legacy(['c-idem'], {}, { idempotency_key: 'idem-1' }),
        await legacy(['c-r1', 'c-r2'], { trigger_at: new Date(start + 90_000).toISOString() }),
        await legacy(['c-part-1', 'c-part-2']),
        await legacy(['c-keep'], { cancellation_key: 'ck-keep' }, { tenant_id: 'acme' }),
      ]) {
        assert.equal(result.success, true, JSON.stringify(result));
      }
      const [keyJob] = await jobsFor('c-key');
      const [idemJob] = await jobsFor('c-idem');
      const [recipientsJob] = await jobsFor('c-r1');
      const [partJob] = await jobsFor('c-part-1');
      const [keepJob] = await jobsFor('c-keep');

      // Bad filters: a clear 400, nothing cancelled.
      for (const body of [{}, { cancellation_key: '' }, { recipients: 'c-key' }, { recipients: [] }, { foo: 'x' }, { tenant_id: 5 }, []]) {
        const bad = await post('/v1/workflow_run/cancel/', body);
        assert.equal(bad.status, 400, JSON.stringify(body));
        assert.equal(bad.json['status'], 'error');
      }
      // Filters combine with AND: a matching key with another tenant cancels nothing.
      assert.deepEqual((await post('/v1/workflow_run/cancel/', { cancellation_key: 'ck-keep', tenant_id: 'other' })).json, {
        execution_ids: [],
      });

      assert.deepEqual((await post('/v1/workflow_run/cancel/', { cancellation_key: 'ck-1' })).json, { execution_ids: [keyJob?.id] });
      const staging = await h.herald.workspaces.get('staging');
      const { key } = await h.herald.apiKeys.create(staging, { name: 'cancel' });
      const byBearer = await fetch(`${h.baseUrl}/v1/workflow_run/cancel/`, {
        method: 'POST',
        body: JSON.stringify({ idempotency_key: 'idem-1', workflow_slug: 'later' }),
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      });
      assert.equal(byBearer.status, 200);
      assert.deepEqual(await byBearer.json(), { execution_ids: [idemJob?.id] });
      assert.deepEqual((await post('/v1/workflow_run/cancel/', { recipients: ['c-r1', 'c-r2', 'nobody'] })).json, {
        execution_ids: [recipientsJob?.id],
      });
      // One of two recipients: the run goes on for the other.
      assert.deepEqual((await post('/v1/workflow_run/cancel/', { recipients: ['c-part-1'], execution_id: partJob?.id })).json, {
        execution_ids: [partJob?.id],
      });
      assert.deepEqual((await post('/v1/workflow_run/cancel/', { cancellation_key: 'ck-1' })).json, { execution_ids: [] }, 'once only');

      h.clock.set(start + 120_000);
      await waitFor(async () => (await inboxCount('c-keep')) === 1 && (await inboxCount('c-part-2')) === 1, 20_000);
      const jobs = await h.herald.db
        .selectFrom('jobs')
        .select(['id', 'status'])
        .where('id', 'in', [keyJob?.id ?? '', idemJob?.id ?? '', recipientsJob?.id ?? '', keepJob?.id ?? ''])
        .execute();
      const status = new Map(jobs.map((job) => [job.id, job.status]));
      assert.equal(status.get(keepJob?.id ?? ''), 'done');
      for (const distinctId of ['c-key', 'c-idem', 'c-r1', 'c-r2', 'c-part-1']) assert.equal(await inboxCount(distinctId), 0, distinctId);
      for (const job of [keyJob, idemJob, recipientsJob]) assert.equal(status.get(job?.id ?? ''), 'failed', 'stored as cancelled');
    });

    test('list broadcasts not yet delivered are cancelled by their filters; another workspace cancels nothing', async () => {
      for (const [list, members] of [
        ['bc-list', ['bc-1', 'bc-2']],
        ['bc-keep', ['bc-keeper']],
      ] as const) {
        await client.subscriber_lists.create({ list_id: list, list_name: list });
        await client.subscriber_lists.add(list, [...members]);
      }
      const start = h.clock.now();
      for (const list of ['bc-list', 'bc-keep']) {
        const result = await client.subscriber_lists.broadcast(
          new SubscriberListBroadcast({
            list_id: list,
            template: 'later',
            notification_category: 'transactional',
            data: { n: 4 },
            delay: 60,
          }),
        );
        assert.equal(result.success, true, JSON.stringify(result));
      }
      const [pending] = await h.herald.db
        .selectFrom('jobs')
        .select('id')
        .where('kind', '=', 'broadcast')
        .where('payload', 'like', '%"bc-list"%')
        .execute();

      const production = await h.herald.workspaces.get('production');
      const secret = await h.herald.workspaceSecrets.reveal(production.id);
      const body = JSON.stringify({ list_id: 'bc-list' });
      const foreign = await h.app.inject({
        method: 'POST',
        url: '/v1/broadcast_run/cancel/',
        payload: body,
        headers: hmacHeaders(production.workspaceKey, secret, 'POST', '/v1/broadcast_run/cancel/', body),
      });
      assert.equal(foreign.statusCode, 200);
      assert.deepEqual(foreign.json(), { execution_ids: [] }, "another workspace's credential does not reach staging's runs");

      for (const bad of [{}, { recipients: ['bc-1'] }, { list_id: 3 }]) {
        assert.equal((await post('/v1/broadcast_run/cancel/', bad)).status, 400, JSON.stringify(bad));
      }
      assert.deepEqual((await post('/v1/broadcast_run/cancel/', { list_id: 'BC-List', tenant_id: 'default' })).json, {
        execution_ids: [pending?.id],
      });

      h.clock.set(start + 120_000);
      await waitFor(async () => (await inboxCount('bc-keeper')) === 1, 20_000);
      assert.equal(await inboxCount('bc-1'), 0);
      assert.equal(await inboxCount('bc-2'), 0);
    });

    test('a run cancelled while its runner delivers it rolls back: it delivers fully or not at all', async () => {
      const workspace = { id: h.staging.id, slug: 'staging' };
      const cancellation = new CancellationService(h.herald);
      // A pipeline of its own, not started: this test plays the job runner's part step by step.
      const pipeline = createPipeline(h.herald, pino({ level: 'silent' }), {
        gate: async () => ({ deliver: true, reason: 'test' }),
        lists: new ListService(h.herald),
      });
      const leaseMs = h.herald.config.jobLeaseMs;
      // Far ahead, so the app's own runner (at the test clock's time) never claims these jobs.
      const runAt = h.clock.now() + 86_400_000;
      const race = async (distinctId: string, cancelFirst: boolean) => {
        const request = {
          source: 'legacy_trigger' as const,
          workflow: 'later',
          recipients: [{ distinctId, profile: null, channels: null, isTransient: false }],
          data: { n: 3 },
          actor: null,
          tenantId: 'default',
          cancellationKey: `ck-${distinctId}`,
        };
        const { message_id: jobId } = await pipeline.delivery.schedule(workspace, request, runAt);
        const job = await claimJob(h.herald.db, engine, runAt, leaseMs);
        assert.equal(job?.id, jobId, 'claimed as the runner claims it');
        const claimed = job as NonNullable<typeof job>;
        const markDone = (db: Parameters<typeof updateJob>[0]) =>
          updateJob(db, claimed.id, claimed.attempts, { status: 'done', locked_until: null, last_error: null }, runAt);
        const cancel = () => cancellation.cancelWorkflowRuns(h.staging.id, { cancellationKey: `ck-${distinctId}` });
        if (cancelFirst) {
          assert.deepEqual(await cancel(), { execution_ids: [jobId] }, 'a claimed run can still be cancelled');
          await assert.rejects(pipeline.delivery.trigger(workspace, request, markDone), JobCancelledError);
          assert.equal(await inboxCount(distinctId), 0, 'the deliveries rolled back with the job');
        } else {
          await pipeline.delivery.trigger(workspace, request, markDone);
          assert.deepEqual(await cancel(), { execution_ids: [] }, 'a delivered run is not cancelled');
          assert.equal(await inboxCount(distinctId), 1);
        }
      };
      await race('c-race-cancelled', true);
      await race('c-race-delivered', false);
    });

    test('list members in cursor pages, both sorts, SuprSend’s shape; bad cursors are a 400', async () => {
      await client.subscriber_lists.create({ list_id: 'paged', list_name: 'Paged' });
      const members = Array.from({ length: 5 }, (_, i) => `m-${i}`);
      await client.subscriber_lists.add('paged', members);
      const get = async (query: string) => {
        const response = await h.signed('GET', `/v1/subscriber_list/paged/subscriber/${query}`);
        return {
          status: response.statusCode,
          json: response.json() as { meta: Record<string, unknown>; results: Array<Record<string, unknown>> },
        };
      };
      const first = await get('?limit=2');
      assert.equal(first.status, 200);
      assert.deepEqual(
        first.json.results.map((r) => r['distinct_id']),
        ['m-4', 'm-3'],
        'default sort -id: descending',
      );
      assert.deepEqual(Object.keys(first.json.results[0] ?? {}).sort(), ['created_at', 'distinct_id', 'id']);
      assert.equal(first.json.meta['has_next'], true);
      assert.equal(first.json.meta['has_prev'], false);
      const second = await get(`?limit=2&after=${String(first.json.meta['after'])}`);
      assert.deepEqual(
        second.json.results.map((r) => r['distinct_id']),
        ['m-2', 'm-1'],
      );
      const back = await get(`?limit=2&before=${String(second.json.meta['before'])}`);
      assert.deepEqual(
        back.json.results.map((r) => r['distinct_id']),
        ['m-4', 'm-3'],
      );
      const ascending = await get('?limit=10&sort=id');
      assert.deepEqual(
        ascending.json.results.map((r) => r['distinct_id']),
        members,
      );
      assert.equal(ascending.json.meta['has_next'], false);
      for (const query of ['?after=not-a-cursor', '?sort=name', '?limit=-1']) assert.equal((await get(query)).status, 400, query);
      assert.equal((await h.signed('GET', '/v1/subscriber_list/no-such-list/subscriber/')).statusCode, 404);
    });
  });
}
