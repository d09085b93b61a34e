import { CompiledQuery, type Compilable, type Insertable, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * A query written with Kysely's typed builder, built and compiled once per SQL dialect and then
 * run with new values. Building and compiling a query costs Kysely as much as SQLite takes to run
 * it; the hot paths (feed counts and pages, trigger delivery) would otherwise pay that every time.
 *
 * The builder receives placeholders in place of values (`p.workspaceId`), and each one must reach
 * the query as a plain bound value: compared, inserted, or given to `limit`. A placeholder that
 * is computed with, put in a list, or used to choose the shape of the query would be compiled
 * wrong, so the first compile refuses anything that looks like it; queries whose shape depends on
 * the values (lists, optional filters) keep one prepared query per shape.
 */

const SLOT = Symbol('herald.preparedSlot');
interface Slot {
  readonly [SLOT]: string;
}

function isSlot(value: unknown): value is Slot {
  return typeof value === 'object' && value !== null && SLOT in value;
}

type Parameter = { slot: string } | { value: unknown };

interface Compiled {
  sql: string;
  parameters: Parameter[];
}

/**
 * The SQL of every prepared query compiled so far, each with a statement name. The PostgreSQL
 * connection (db/client.ts) sends these as named statements: the server parses and plans each
 * once per connection instead of on every call. The set is bounded by the code (a few dozen shapes).
 */
const statementNames = new Map<string, string>();

export function statementNameOf(sqlText: string): string | undefined {
  return statementNames.get(sqlText);
}

export class PreparedQuery<P extends object, Row> {
  // Keyed by the dialect's adapter class: SQLite and PostgreSQL compile the same build differently.
  readonly #compiled = new Map<unknown, Compiled>();

  constructor(
    private readonly name: string,
    private readonly build: (db: Kysely<Database>, p: P) => Compilable<Row>,
  ) {}

  #compile(db: Kysely<Database>): Compiled {
    const dialect = db.getExecutor().adapter.constructor;
    let compiled = this.#compiled.get(dialect);
    if (compiled) return compiled;
    const slots = new Proxy({} as P, {
      get: (_target, key) => (typeof key === 'string' ? Object.freeze({ [SLOT]: key }) : undefined),
    });
    const query = this.build(db, slots).compile();
    const parameters = query.parameters.map((value): Parameter => (isSlot(value) ? { slot: value[SLOT] } : { value }));
    // A computed placeholder turns into "[object Object]…"; a nested one (p.a.b) into undefined.
    const misused = query.parameters.some(
      (value) => value === undefined || (typeof value === 'string' && value.includes('[object Object]')),
    );
    if (misused || query.sql.includes('[object Object]')) {
      throw new Error(`prepared query ${this.name}: a placeholder was used in an expression, not as a bound value`);
    }
    compiled = { sql: query.sql, parameters };
    this.#compiled.set(dialect, compiled);
    if (!statementNames.has(query.sql)) statementNames.set(query.sql, `herald_${statementNames.size + 1}`);
    return compiled;
  }

  #query(db: Kysely<Database>, params: P): CompiledQuery<Row> {
    const { sql, parameters } = this.#compile(db);
    // undefined is not a value either driver binds: an absent optional value is SQL null.
    const values = parameters.map((parameter) =>
      'slot' in parameter ? ((params as Record<string, unknown>)[parameter.slot] ?? null) : parameter.value,
    );
    return CompiledQuery.raw(sql, values) as CompiledQuery<Row>;
  }

  async execute(db: Kysely<Database>, params: P): Promise<Row[]> {
    return (await db.executeQuery(this.#query(db, params))).rows;
  }

  async executeTakeFirst(db: Kysely<Database>, params: P): Promise<Row | undefined> {
    return (await this.execute(db, params))[0];
  }
}

/** See PreparedQuery. `name` appears only in the error a misused placeholder raises. */
export function prepared<P extends object, Row>(
  name: string,
  build: (db: Kysely<Database>, p: P) => Compilable<Row>,
): PreparedQuery<P, Row> {
  return new PreparedQuery(name, build);
}

/**
 * `insert into <table> (<columns>) values (…)` as a prepared query. A row may leave out nullable
 * columns (they are inserted as null), but a key that is not in `columns` is refused rather than
 * silently dropped.
 */
export function preparedInsert<T extends keyof Database & string>(
  table: T,
  columns: ReadonlyArray<keyof Database[T] & string>,
): { execute(db: Kysely<Database>, row: Insertable<Database[T]>): Promise<void> } {
  const known = new Set<string>(columns);
  const query = prepared(`insert into ${table}`, (db, p: Record<string, unknown>) =>
    db.insertInto(table).values(Object.fromEntries(columns.map((column) => [column, p[column]])) as Insertable<Database[T]>),
  );
  return {
    async execute(db, row) {
      for (const key of Object.keys(row)) {
        if (!known.has(key)) throw new Error(`prepared insert into ${table}: column ${key} is not in its column list`);
      }
      await query.execute(db, row as Record<string, unknown>);
    },
  };
}
