import { closeSync, mkdirSync, openSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type LogEvent, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config, Engine } from '../config.js';
import { logAtMostEvery } from '../lib/log-throttle.js';
import { statementNameOf } from './prepared.js';
import { startBackgroundCheckpoints } from './checkpointer.js';
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
  /** SQLite: checkpoint the WAL from a worker thread instead of on commit (the server does). */
  backgroundCheckpoints?: boolean;
}

// A lost server drops every pooled connection at once: one line per outage, not one per connection.
const CONNECTION_ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * A connection that PostgreSQL ends (a restart, a failover, a pooler, an admin's
 * pg_terminate_backend, idle_session_timeout) raises an 'error' event: on the pool while the
 * connection sits idle in it, on the client itself while it is checked out between two queries (a
 * transaction in progress). Without a listener Node ends the process. With one, the query in
 * flight fails (its request answers an error) and the pool opens a new connection when needed.
 */
function reportConnectionErrors(pool: pg.Pool, logger: Pick<Logger, 'warn'> | undefined): void {
  const shouldLog = logAtMostEvery(CONNECTION_ERROR_LOG_INTERVAL_MS);
  const report = (error: Error & { code?: string }) => {
    const { log, suppressed } = shouldLog();
    if (!log) return;
    const message = 'PostgreSQL closed a connection; the pool opens a new one when needed';
    if (logger) logger.warn({ code: error.code, reason: error.message, alsoLost: suppressed }, message);
    else process.stderr.write(`herald: ${message} (${error.message})\n`);
  };
  pool.on('error', report);
  pool.on('connect', (client) => client.on('error', report));
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

// Distinct SQL texts Herald runs are a few hundred; `in (?, ?, …)` lists add one per length.
const MAX_CACHED_STATEMENTS = 1_000;

/**
 * Kysely's SQLite driver prepares every query again; preparing costs as much as running a point
 * lookup. Statements are kept per SQL text (most recently used kept when the cache is full).
 * Safe because better-sqlite3 runs a statement to completion synchronously (Herald never streams).
 */
function withStatementCache(sqlite: BetterSqlite3.Database, onClose: () => void): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(sqlText: string) {
      // Kysely opens transactions with a deferred `begin`: the write lock is taken at the first
      // write, and if another process (the CLI beside the server) committed after this
      // transaction's first read, SQLite refuses the upgrade at once (SQLITE_BUSY, busy_timeout
      // not consulted). Herald's transactions all write, so they take the lock when they begin,
      // where busy_timeout waits for it.
      if (sqlText === 'begin') sqlText = 'begin immediate';
      let statement = statements.get(sqlText);
      if (statement) {
        statements.delete(sqlText);
      } else {
        statement = sqlite.prepare(sqlText);
        if (statements.size >= MAX_CACHED_STATEMENTS) statements.delete(statements.keys().next().value as string);
      }
      statements.set(sqlText, statement);
      return statement;
    },
    close() {
      onClose();
      statements.clear();
      sqlite.close();
    },
  };
}

/**
 * Sends the SQL of prepared queries (db/prepared.ts) as named statements on this connection, so
 * PostgreSQL parses and plans each once per connection. Other SQL is sent as before. A pooler in
 * transaction mode must keep prepared statements per client (PgBouncer ≥ 1.21
 * `max_prepared_statements`).
 */
function useNamedStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  // A table changed under a prepared `select *` (a migration by a newer process during a rolling
  // upgrade) makes PostgreSQL refuse that statement ("cached plan must not change result type",
  // 0A000) on this connection from then on: it is sent unnamed here instead.
  const unnamed = new Set<string>();
  (client as { query: unknown }).query = (text: unknown, values?: unknown, callback?: unknown) => {
    const name = typeof text === 'string' && !unnamed.has(text) ? statementNameOf(text) : undefined;
    if (name === undefined || callback !== undefined) return query(text, values, callback);
    return (query({ name, text, values }) as Promise<unknown>).catch((error: unknown) => {
      if ((error as { code?: string }).code !== '0A000') throw error;
      unnamed.add(text as string);
      return query(text, values);
    });
  };
}

export async function openDb(config: Config, options: OpenDbOptions = {}): Promise<DbHandle> {
  const log = options.onQuery;
  if (config.engine === 'postgres') {
    const url = config.databaseUrl as string;
    const pool = new pg.Pool({
      connectionString: url,
      max: config.dbPoolSize,
      // A server that does not answer fails the request instead of holding it.
      connectionTimeoutMillis: config.dbConnectTimeoutMs,
      // Dead peers (a failover, a cut network) are noticed by TCP instead of hanging a query.
      keepAlive: true,
      // search_path on the startup packet: every pooled connection sees the same schema, and the
      // server cancels statements that run past the timeout.
      options: `-c search_path=${config.databaseSchema} -c statement_timeout=${config.dbStatementTimeoutMs}`,
    });
    reportConnectionErrors(pool, options.logger);
    pool.on('connect', useNamedStatements);
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
  const checkpointer = options.backgroundCheckpoints
    ? startBackgroundCheckpoints(sqlite, config.sqlitePath, options.logger ?? { warn: () => {} })
    : undefined;
  const database = withStatementCache(sqlite, () => checkpointer?.stop());
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }), ...(log ? { log } : {}) });
  return { db, engine: 'sqlite', location: config.sqlitePath };
}
