import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import BetterSqlite3 from 'better-sqlite3';
import { heraldJson } from './helpers/cli.js';
import { createTestEnv, enginesUnderTest, PG_URL, type TestEnv } from './helpers/engines.js';
import { hmacHeaders } from './helpers/http.js';
import { startServer } from './helpers/server.js';

/** Counts notifications straight from the database, with no Herald code in between. */
async function countNotifications(t: TestEnv, distinctId: string): Promise<number> {
  if (t.engine === 'sqlite') {
    const db = new BetterSqlite3(path.join(t.dataDir, 'herald.db'), { readonly: true });
    try {
      return (db.prepare('select count(*) as n from notifications where distinct_id = ?').get(distinctId) as { n: number }).n;
    } finally {
      db.close();
    }
  }
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    const result = await client.query(`select count(*)::int as n from "${t.schema}".notifications where distinct_id = $1`, [distinctId]);
    return (result.rows[0] as { n: number }).n;
  } finally {
    await client.end();
  }
}

for (const engine of enginesUnderTest()) {
  describe(`accepted triggers survive a crash on ${engine}`, () => {
    let t: TestEnv;

    before(async () => {
      t = await createTestEnv(engine);
      const file = path.join(t.dataDir, 'workflow.json');
      writeFileSync(
        file,
        JSON.stringify({
          slug: 'welcome',
          category: 'transactional',
          steps: [{ type: 'inbox', template: { text: 'Welcome {{data.n}}' } }],
        }),
      );
      await heraldJson(['workflow', 'apply', 'staging', file], t.env);
    });

    after(async () => {
      await t?.cleanup();
    });

    test('every trigger answered 2xx is in the database after the process is killed with SIGKILL', async () => {
      const { workspace_key, workspace_secret } = await heraldJson<{ workspace_key: string; workspace_secret: string }>(
        ['workspace', 'secret', 'staging'],
        t.env,
      );
      const server = await startServer(t.env);
      const accepted: number[] = [];
      for (let n = 0; n < 20; n++) {
        const body = JSON.stringify({ workflow: 'welcome', recipients: ['crash-user'], data: { n } });
        const response = await fetch(`${server.url}/trigger/`, {
          method: 'POST',
          body,
          headers: hmacHeaders(workspace_key, workspace_secret, 'POST', '/trigger/', body),
        });
        if (response.status === 202) accepted.push(n);
      }
      // No graceful shutdown: the process dies right after its last answer.
      server.process.kill('SIGKILL');
      await new Promise((resolve) => server.process.once('exit', resolve));
      assert.equal(accepted.length, 20);
      assert.equal(await countNotifications(t, 'crash-user'), 20);
    });
  });
}
