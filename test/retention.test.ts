import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { fixedClock } from '../src/lib/clock.js';
import { RetentionSweeper } from '../src/maintenance/retention.js';
import { openHerald, type Herald } from '../src/runtime.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';

/** The retention sweep (src/maintenance/retention.ts) on the real engines. */

const DAY_MS = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);

for (const engine of enginesUnderTest()) {
  describe(`retention on ${engine}`, () => {
    let t: TestEnv;
    let herald: Herald;
    let ws: string;

    before(async () => {
      t = await createTestEnv(engine);
      herald = await openHerald(t.config);
      ws = (await herald.workspaces.get('staging')).id;
    });

    after(async () => {
      await herald?.close();
      await t?.cleanup();
    });

    test('old finished records go; recent and unfinished ones stay', async () => {
      const old = NOW - 40 * DAY_MS;
      const recent = NOW - DAY_MS;
      const db = herald.db;
      const job = (id: string, status: 'pending' | 'done' | 'failed', at: number) => ({
        id,
        workspace_id: ws,
        kind: 'trigger',
        payload: '{}',
        status,
        attempts: 1,
        run_at: at,
        locked_until: null,
        last_error: null,
        created_at: at,
        updated_at: at,
      });
      await db
        .insertInto('jobs')
        .values([
          job('job-old-done', 'done', old),
          job('job-old-failed', 'failed', old),
          job('job-old-pending', 'pending', old),
          job('job-new-done', 'done', recent),
        ])
        .execute();
      const hook = (id: string, status: 'pending' | 'sent' | 'failed', at: number) => ({
        id,
        workspace_id: ws,
        message_id: `msg-${id}`,
        url: 'https://hooks.example/x',
        payload: '{}',
        status,
        attempts: 1,
        next_attempt_at: at,
        last_error: null,
        created_at: at,
        updated_at: at,
      });
      await db
        .insertInto('webhook_outbox')
        .values([hook('wh-old-sent', 'sent', old), hook('wh-old-pending', 'pending', old), hook('wh-new-sent', 'sent', recent)])
        .execute();
      const event = (id: string, at: number) => ({
        id,
        workspace_id: ws,
        insert_id: id,
        distinct_id: 'u',
        event: 'e',
        tenant_id: null,
        properties: '{}',
        time: at,
        created_at: at,
      });
      await db
        .insertInto('events')
        .values([event('ev-old', old), event('ev-new', recent)])
        .execute();
      const execution = (id: string, at: number) => ({
        id,
        workspace_id: ws,
        source: 'trigger',
        workflow_slug: 'w',
        category: 'transactional',
        tenant_id: 'default',
        cancellation_key: null,
        recipient_count: 1,
        created_at: at,
      });
      await db
        .insertInto('executions')
        .values([execution('exe-old', old), execution('exe-new', recent)])
        .execute();
      const key = (k: string, at: number) => ({ workspace_id: ws, scope: 'trigger', key: k, response: '{}', created_at: at });
      await db
        .insertInto('idempotency_keys')
        .values([key('idem-old', NOW - 2 * DAY_MS), key('idem-new', NOW - 3_600_000)])
        .execute();

      const sweeper = new RetentionSweeper(
        db,
        engine,
        fixedClock(NOW),
        { retentionMs: 30 * DAY_MS, auditRetentionMs: 365 * DAY_MS },
        pino({ level: 'silent' }),
      );
      assert.deepEqual(await sweeper.sweep(), { idempotencyKeys: 1, jobs: 2, webhooks: 1, events: 1, executions: 1, auditLog: 0 });

      const ids = async (table: 'jobs' | 'webhook_outbox' | 'events' | 'executions') =>
        (await db.selectFrom(table).select('id').orderBy('id').execute()).map((row) => row.id);
      assert.deepEqual(await ids('jobs'), ['job-new-done', 'job-old-pending']);
      assert.deepEqual(await ids('webhook_outbox'), ['wh-new-sent', 'wh-old-pending']);
      assert.deepEqual(await ids('events'), ['ev-new']);
      assert.deepEqual(await ids('executions'), ['exe-new']);
      assert.deepEqual(
        (await db.selectFrom('idempotency_keys').select('key').execute()).map((row) => row.key),
        ['idem-new'],
      );
      // Nothing left to do: a second sweep deletes nothing.
      assert.deepEqual(await sweeper.sweep(), { idempotencyKeys: 0, jobs: 0, webhooks: 0, events: 0, executions: 0, auditLog: 0 });
    });

    test('the audit log ages out after its own retention; the database refuses to delete recent entries', async () => {
      const db = herald.db;
      // The database's 30-day floor reads the real clock, so these ages are from now.
      const now = Date.now();
      const entry = (action: string, at: number) => ({
        created_at: at,
        workspace_id: ws,
        actor_type: 'cli' as const,
        actor_id: null,
        actor_label: 'retention test',
        action,
        target_type: null,
        target_id: null,
        ip: null,
        details: '{}',
      });
      await db
        .insertInto('audit_log')
        .values([entry('test.ancient', now - 400 * DAY_MS), entry('test.older', now - 100 * DAY_MS), entry('test.recent', now - DAY_MS)])
        .execute();
      const actions = async () =>
        (await db.selectFrom('audit_log').select('action').where('action', 'like', 'test.%').orderBy('created_at').execute()).map(
          (row) => row.action,
        );
      const sweep = (auditRetentionMs: number) =>
        new RetentionSweeper(
          db,
          engine,
          fixedClock(now),
          { retentionMs: 30 * DAY_MS, auditRetentionMs },
          pino({ level: 'silent' }),
        ).sweep();

      assert.equal((await sweep(365 * DAY_MS)).auditLog, 1);
      assert.deepEqual(await actions(), ['test.older', 'test.recent']);
      assert.equal((await sweep(30 * DAY_MS)).auditLog, 1);
      assert.deepEqual(await actions(), ['test.recent']);

      // Neither a hand-written delete of a recent entry nor any update gets through.
      await assert.rejects(db.deleteFrom('audit_log').where('action', '=', 'test.recent').execute(), /append-only/);
      await assert.rejects(
        db.updateTable('audit_log').set({ action: 'test.rewritten' }).where('action', '=', 'test.recent').execute(),
        /append-only/,
      );
      assert.deepEqual(await actions(), ['test.recent']);
    });
  });
}
