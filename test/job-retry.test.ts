import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import pino from 'pino';
import { createPipeline, type Pipeline } from '../src/delivery/pipeline.js';
import { fixedClock } from '../src/lib/clock.js';
import { ListService } from '../src/lists/lists.service.js';
import { PreferenceService } from '../src/preferences/preferences.service.js';
import { openHerald, type Herald } from '../src/runtime.js';
import { WorkflowService } from '../src/workflows/workflows.service.js';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';

/**
 * A delayed trigger is delivered once, however its job ends: the job is marked done in the
 * transaction of its deliveries. Here the database refuses to mark it done (a fault injected with
 * a trigger on `jobs`), as if the connection had been lost between the two: the deliveries roll
 * back with it, and the retry delivers each recipient exactly once.
 */

const START = Date.parse('2026-06-01T10:00:00Z');

for (const engine of enginesUnderTest()) {
  describe(`delayed trigger retries on ${engine}`, { timeout: 120_000 }, () => {
    let t: TestEnv;
    let herald: Herald;
    let pipeline: Pipeline;
    const clock = fixedClock(START);
    let workspace: { id: string; slug: string };

    before(async () => {
      t = await createTestEnv(engine);
      herald = await openHerald(t.config, { clock });
      const preferences = new PreferenceService(herald);
      // Not started: the test runs the job rounds itself.
      pipeline = createPipeline(herald, pino({ level: 'silent' }), {
        gate: (db, workspaceId, distinctId, tenantId, category, channel) =>
          preferences.shouldDeliver(workspaceId, distinctId, tenantId, category, channel, db),
        lists: new ListService(herald),
      });
      const staging = await herald.workspaces.get('staging');
      workspace = { id: staging.id, slug: staging.slug };
      await new WorkflowService(herald).apply(staging.id, [
        { slug: 'later', category: 'transactional', steps: [{ type: 'inbox', template: { text: 'Hello {{data.n}}' } }] },
      ]);
    });

    after(async () => {
      await pipeline?.stop();
      await herald?.close();
      await t?.cleanup();
    });

    async function refuseMarkingJobsDone(isOn: boolean): Promise<void> {
      if (engine === 'sqlite') {
        await sql
          .raw(
            isOn
              ? `create trigger refuse_job_done before update of status on jobs when new.status = 'done'
                 begin select raise(abort, 'injected fault: job cannot be marked done'); end`
              : 'drop trigger refuse_job_done',
          )
          .execute(herald.db);
        return;
      }
      if (isOn) {
        await sql
          .raw(
            `create function refuse_job_done() returns trigger language plpgsql as $$
             begin raise exception 'injected fault: job cannot be marked done'; end $$;
             create trigger refuse_job_done before update of status on jobs
             for each row when (new.status = 'done') execute function refuse_job_done()`,
          )
          .execute(herald.db);
      } else {
        await sql.raw('drop trigger refuse_job_done on jobs; drop function refuse_job_done()').execute(herald.db);
      }
    }

    const inboxCount = async (distinctId: string) =>
      Number(
        (
          await herald.db
            .selectFrom('notifications')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('workspace_id', '=', workspace.id)
            .where('distinct_id', '=', distinctId)
            .executeTakeFirstOrThrow()
        ).n,
      );

    test('a job that cannot be marked done delivers nothing; its retry delivers each recipient once', async () => {
      const recipients = ['retry-alice', 'retry-bob'].map((distinctId) => ({
        distinctId,
        profile: null,
        channels: null,
        isTransient: false,
      }));
      const { message_id: jobId } = await pipeline.delivery.schedule(
        workspace,
        { source: 'legacy_trigger', workflow: 'later', recipients, data: { n: 1 }, actor: null, tenantId: 'default' },
        START + 60_000,
      );

      await refuseMarkingJobsDone(true);
      clock.set(START + 60_000);
      await pipeline.jobs.drain();
      const failed = await herald.db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirstOrThrow();
      assert.equal(failed.status, 'pending', 'the failed round is to be retried');
      assert.match(failed.last_error ?? '', /injected fault/);
      assert.equal(await inboxCount('retry-alice'), 0, 'the deliveries rolled back with the job');
      assert.equal(await inboxCount('retry-bob'), 0);

      await refuseMarkingJobsDone(false);
      clock.set(failed.run_at);
      await pipeline.jobs.drain();
      clock.advance(3_600_000);
      await pipeline.jobs.drain();
      const done = await herald.db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirstOrThrow();
      assert.equal(done.status, 'done');
      assert.equal(await inboxCount('retry-alice'), 1, 'delivered once');
      assert.equal(await inboxCount('retry-bob'), 1, 'delivered once');
    });
  });
}
