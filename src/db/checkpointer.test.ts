import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import type { Logger } from 'pino';
import { startBackgroundCheckpoints, type Checkpointer } from './checkpointer.js';

test('a worker thread moves committed WAL pages into the database file; commits no longer do', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'herald-ckpt-'));
  const file = path.join(dir, 'test.db');
  const sqlite = new BetterSqlite3(file);
  const warnings: string[] = [];
  let checkpointer: Checkpointer | undefined;
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.exec('create table t (id integer primary key, body text not null)');
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const warn = ((_fields: unknown, message: string) => void warnings.push(message)) as Logger['warn'];
    checkpointer = startBackgroundCheckpoints(sqlite, file, { warn });
    const sizeBefore = statSync(file).size;
    const insert = sqlite.prepare('insert into t (body) values (?)');
    // About 2,000 pages: enough that SQLite's own automatic checkpoint (every 1,000) would have run.
    sqlite.transaction(() => {
      for (let i = 0; i < 8_000; i++) insert.run('x'.repeat(900));
    })();
    assert.equal(statSync(file).size, sizeBefore, 'the commit itself checkpointed');
    const deadline = Date.now() + 15_000;
    // A checkpoint writes page by page: wait until (nearly) all of them reached the file.
    const isCheckpointed = () => statSync(file).size > sizeBefore + 4_000_000;
    while (!isCheckpointed() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(isCheckpointed(), 'the worker checkpointed the WAL into the database file');
    assert.deepEqual(warnings, []);
  } finally {
    checkpointer?.stop();
    sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
