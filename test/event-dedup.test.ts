import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestEnv, enginesUnderTest, type TestEnv } from './helpers/engines.js';
import { startInProcess, type InProcess } from './helpers/in-process.js';

/**
 * `$insert_id` (findings 8 and 13 of the security review): a repeated event is recorded once per
 * user — one user's id cannot suppress another user's event — and a repeated identity event is
 * not applied to the profile again.
 */

for (const engine of enginesUnderTest()) {
  describe(`$insert_id deduplication on ${engine}`, { timeout: 60_000 }, () => {
    let t: TestEnv;
    let h: InProcess;

    const send = async (event: Record<string, unknown>) => {
      const response = await h.signed('POST', '/event/', JSON.stringify(event));
      assert.equal(response.statusCode, 202, response.body);
    };
    const eventsOf = async (distinctId: string) =>
      h.herald.db.selectFrom('events').select(['id', 'event']).where('distinct_id', '=', distinctId).execute();

    before(async () => {
      t = await createTestEnv(engine);
      h = await startInProcess(t);
    });

    after(async () => {
      await h?.close();
      await t?.cleanup();
    });

    test("one user's $insert_id does not suppress another user's event", async () => {
      await send({ distinct_id: 'dedup-alice', event: 'order_placed', $insert_id: 'shared-id', properties: {} });
      await send({ distinct_id: 'dedup-bob', event: 'order_placed', $insert_id: 'shared-id', properties: {} });
      assert.equal((await eventsOf('dedup-alice')).length, 1);
      assert.equal((await eventsOf('dedup-bob')).length, 1, "bob's event is recorded although alice used the same id");
    });

    test("a user's resent event is recorded once", async () => {
      for (let i = 0; i < 3; i++) await send({ distinct_id: 'dedup-carol', event: 'order_placed', $insert_id: 'resent', properties: {} });
      assert.equal((await eventsOf('dedup-carol')).length, 1);
    });

    test('a resent identity event changes the profile once', async () => {
      const add = { distinct_id: 'dedup-dave', $insert_id: 'add-once', $user_operations: [{ $add: { logins: 1 } }] };
      for (let i = 0; i < 3; i++) await send(add);
      await send({ ...add, $insert_id: 'add-twice' });
      const row = await h.herald.db
        .selectFrom('users')
        .select('properties')
        .where('workspace_id', '=', h.staging.id)
        .where('distinct_id', '=', 'dedup-dave')
        .executeTakeFirstOrThrow();
      assert.equal((JSON.parse(row.properties) as { logins: number }).logins, 2, 'three copies of one event and one other');
      assert.deepEqual(
        (await eventsOf('dedup-dave')).map((e) => e.event),
        ['$identify', '$identify'],
      );
    });
  });
}
