import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { claimJob, insertJob, JobLeaseLostError, updateJob } from '../src/delivery/delivery.repo.js';
import { openHerald, type Herald } from '../src/runtime.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';

/**
 * Job leases (src/delivery/delivery.repo.ts): a job whose lease ran out is claimed again, and the
 * process that held it before can no longer record progress or finish it — so a broadcast page is
 * never delivered by two processes.
 */

const LEASE_MS = 5_000;

for (const engine of enginesUnderTest()) {
  describe(`job leases on ${engine}`, { timeout: 60_000 }, () => {
    let t: TestEnv;
    let herald: Herald;
    let workspaceId: string;

    before(async () => {
      t = await createTestEnv(engine);
      herald = await openHerald(t.config);
      workspaceId = (await herald.workspaces.get('staging')).id;
    });

    after(async () => {
      await herald?.close();
      await t?.cleanup();
    });

    test('a lapsed lease is claimed again, and the first holder is fenced out', async () => {
      const now = Date.now();
      await insertJob(herald.db, {
        id: 'job_lease_test',
        workspace_id: workspaceId,
        kind: 'broadcast',
        payload: '{}',
        status: 'pending',
        attempts: 0,
        run_at: now,
        locked_until: null,
        last_error: null,
        created_at: now,
        updated_at: now,
      });
      const first = await claimJob(herald.db, engine, now, LEASE_MS);
      assert.equal(first?.id, 'job_lease_test');
      assert.equal(await claimJob(herald.db, engine, now + LEASE_MS - 1, LEASE_MS), undefined, 'held while the lease runs');
      await updateJob(herald.db, 'job_lease_test', first.attempts, { payload: '{"after":"a"}', locked_until: now + 2 * LEASE_MS }, now);

      const later = now + 2 * LEASE_MS + 1;
      const second = await claimJob(herald.db, engine, later, LEASE_MS);
      assert.equal(second?.id, 'job_lease_test', 'claimed again once the lease lapsed');
      assert.equal(second.attempts, first.attempts + 1);
      await assert.rejects(
        herald.db.transaction().execute((trx) => updateJob(trx, 'job_lease_test', first.attempts, { payload: '{"after":"stale"}' }, later)),
        JobLeaseLostError,
      );
      await assert.rejects(updateJob(herald.db, 'job_lease_test', first.attempts, { status: 'done' }, later), JobLeaseLostError);
      const row = await herald.db.selectFrom('jobs').selectAll().where('id', '=', 'job_lease_test').executeTakeFirstOrThrow();
      assert.equal(row.payload, '{"after":"a"}', 'the fenced-out holder changed nothing');
      assert.equal(row.status, 'running');
      await updateJob(herald.db, 'job_lease_test', second.attempts, { status: 'done', locked_until: null }, later);
    });
  });
}
