import { closeSync, mkdirSync, openSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type LogEvent } from 'kysely';
import pg from 'pg';
import type { Config, Engine } from '../config.js';
import type { Database } from './schema.js';

// BIGINT columns hold epoch milliseconds, well inside Number's exact range.
pg.types.setTypeParser(pg.types.builtins.INT8, (value: string) => Number(value));

export interface DbHandle {
  db: Kysely<Database>;
  engine: Engine;
  /** Where the data lives, for humans (file path or redacted URL). */
  location: string;
}

export interface OpenDbOptions {
  /** Called for every executed query; tests count queries with it. */
  onQuery?: (event: LogEvent) => void;
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}

export async function openDb(config: Config, options: OpenDbOptions = {}): Promise<DbHandle> {
  const log = options.onQuery;
  if (config.engine === 'postgres') {
    const url = config.databaseUrl as string;
    const pool = new pg.Pool({
      connectionString: url,
      max: 10,
      // search_path on the startup packet: every pooled connection sees the same schema.
      options: `-c search_path=${config.databaseSchema}`,
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...(log ? { log } : {}) });
    if (config.databaseSchema !== 'public') {
      await sql`create schema if not exists ${sql.id(config.databaseSchema)}`.execute(db);
    }
    return { db, engine: 'postgres', location: `${redactUrl(url)} (schema ${config.databaseSchema})` };
  }

  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // Create the file owner-only before SQLite does (its -wal and -shm files copy these permissions).
  closeSync(openSync(config.sqlitePath, 'a', 0o600));
  const sqlite = new BetterSqlite3(config.sqlitePath);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  // The CLI and the server write the same file; wait for a lock rather than fail.
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }), ...(log ? { log } : {}) });
  return { db, engine: 'sqlite', location: config.sqlitePath };
}
