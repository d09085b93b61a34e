import { closeSync, mkdirSync, openSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type LogEvent } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
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
  /** Where connection faults are reported (the server's logger); stderr when absent (the CLI). */
  logger?: Pick<Logger, 'warn'>;
}

// A lost server drops every pooled connection at once: one line per outage, not one per connection.
const CONNECTION_ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * A pooled connection that PostgreSQL ends while idle (a restart, a failover, a pooler, an admin's
 * pg_terminate_backend, idle_session_timeout) is reported to the pool's 'error' event; without a
 * listener Node ends the process. The pool drops that connection and opens a new one when needed.
 */
function reportConnectionErrors(pool: pg.Pool, logger: Pick<Logger, 'warn'> | undefined): void {
  let lastLoggedAt = -Infinity;
  let suppressed = 0;
  pool.on('error', (error: Error & { code?: string }) => {
    const now = Date.now();
    if (now - lastLoggedAt < CONNECTION_ERROR_LOG_INTERVAL_MS) {
      suppressed++;
      return;
    }
    const fields = { code: error.code, reason: error.message, alsoLost: suppressed };
    const message = 'PostgreSQL closed an idle connection; the pool opens a new one when needed';
    if (logger) logger.warn(fields, message);
    else process.stderr.write(`herald: ${message} (${error.message})\n`);
    lastLoggedAt = now;
    suppressed = 0;
  });
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
    reportConnectionErrors(pool, options.logger);
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
