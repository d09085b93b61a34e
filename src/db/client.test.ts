import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { loadConfig } from '../config.js';
import { openDb } from './client.js';

test('SQLite: a transaction holds the write lock from its start, so another process cannot commit between its read and its write', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-client-'));
  const handle = await openDb(loadConfig({ HERALD_DATA_DIR: dir }));
  // The other process (the CLI beside the server): a second connection to the same file.
  const other = new BetterSqlite3(path.join(dir, 'herald.db'));
  try {
    await sql`create table t (id integer primary key, n integer not null)`.execute(handle.db);
    await sql`insert into t (id, n) values (1, 0)`.execute(handle.db);
    other.pragma('busy_timeout = 0');
    const otherWrite = () => other.prepare('update t set n = n + 100 where id = 1').run();

    await handle.db.transaction().execute(async (trx) => {
      const before = await sql<{ n: number }>`select n from t where id = 1`.execute(trx);
      // With a deferred `begin` this write would commit, and the update below would fail at once
      // with SQLITE_BUSY (the snapshot this transaction read is no longer the latest).
      assert.throws(otherWrite, { code: 'SQLITE_BUSY' });
      await sql`update t set n = ${before.rows[0]!.n + 1} where id = 1`.execute(trx);
    });

    otherWrite();
    const after = await sql<{ n: number }>`select n from t where id = 1`.execute(handle.db);
    assert.equal(after.rows[0]!.n, 101);
  } finally {
    other.close();
    await handle.db.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
