import type { Sequelize, Transaction } from 'sequelize';
import { sqlDate, type ConfiguredDatabase, type Dialect } from './connection';

/**
 * Plain statements for the hot paths (an owner's action runs a dozen in one transaction): SQL with
 * bound parameters, sent to the driver's own connection without Sequelize's query machinery (its
 * options cloned, a Query object built, its retry wrapper, its result handling: about 120 µs of
 * the main thread a statement) nor a model's (building an instance, validating). On MariaDB/MySQL
 * as text, each value escaped into it by mysql2 (`query(sql, values)`, see onMysql). On SQLite by
 * the connection's statement of it, prepared once and kept (ConfiguredDatabase#runKept): one trip to
 * libuv's pool a read instead of three (prepare, run, finalize), two a write (run, reset). Tried once
 * before and dropped, as the benchmark's owner actions then stalled for seconds. Their likely cause,
 * a write outside any transaction waiting in SQLite's busy handler on the pool, is since queued in
 * JavaScript (src/db/index.ts, Turns), and 1,000 owner actions with the worker on no longer stall
 * with kept statements (`PROFILE_ACTION=… PROFILE_WORKER=1 bench:profile`, reset, resend and
 * deactivate: the slowest answer took 0.7–3.6 s in 10 runs, 0.9–3.0 s without them, both with 50
 * actions at a time on a loaded machine).
 *
 * The statement's effects and errors are the driver's: a lost conflict on MariaDB (ER_LOCK_DEADLOCK,
 * `errno` 1213) is still run again by Database.transaction, a database gone still answers 503
 * (the driver's `code`, src/plugin/middleware/errors.ts). Sequelize's `beforeQuery` hooks (the
 * tests' statement counters and fault injection) still hear of each statement.
 */

/** What a statement needs of the Database: its Sequelize instance (for connections and hooks) and its dialect. */
export interface StatementTarget {
  sequelize: Sequelize;
  dialect: Dialect;
}

/**
 * A value as a bound parameter. An instant is given as Sequelize writes it in a DATE(3) column, in
 * UTC: `2026-03-01 09:00:00.000 +00:00` on SQLite (text, which sorts and compares as such, so rows
 * written either way compare alike), `2026-03-01 09:00:00.000` on MariaDB/MySQL.
 * @throws TypeError for a value that is not one SQL value (an array or another object than a Date or
 *   a Buffer): mysql2 would write an array as a list and an object as `column = value` pairs.
 */
export function boundValue(dialect: Dialect, value: unknown): unknown {
  if (value instanceof Date) return sqlDate(dialect, value);
  if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) throw new TypeError(`not one SQL value: ${Object.prototype.toString.call(value)}`);
  return value === undefined ? null : value;
}

/** An instant a plain SELECT read: SQLite gives the text boundValue wrote, MariaDB a Date or UTC text. */
export function instantOf(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  const text = String(value);
  return new Date(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : `${text}Z`);
}

/** Runs one statement with `$1`… parameters (`values` in order) in `t`; returns how many rows it changed. */
export async function execute(db: StatementTarget, sql: string, values: readonly unknown[], t: Transaction): Promise<number> {
  const { changes } = await send(db, sql, values, t, 'run');
  return changes;
}

/**
 * Sequelize's transactions begin (isolation level, BEGIN) and commit with these plain statements on
 * their connection, as execute sends its own: each is otherwise a trip through Sequelize's query
 * machinery. A savepoint (nested transaction) and a rollback keep Sequelize's way. On SQLite BEGIN
 * and COMMIT go by the driver's `exec` (one trip to libuv's pool, not three: they have no parameters),
 * and one that answers SQLITE_BUSY is sent again as Sequelize's `retry` option did (its default: 5
 * attempts, 100 ms × 1.1ⁿ apart): BEGIN IMMEDIATE answers it once the busy timeout has passed while
 * another process holds the write lock (two workers on one file got "database is locked" in CI's
 * access-end suite without it).
 */
export function plainTransactionStatements(db: StatementTarget): void {
  type Started = Transaction & { parent?: Transaction; finished?: string };
  const queryInterface = db.sequelize.getQueryInterface() as unknown as {
    queryGenerator: {
      setIsolationLevelQuery(value: string, options: { parent?: Transaction }): string | undefined;
      startTransactionQuery(t: Transaction): string;
      commitTransactionQuery(t: Transaction): string;
    };
    setIsolationLevel(t: Started, value: string | undefined, options: object): Promise<unknown>;
    startTransaction(t: Started, options: object): Promise<unknown>;
    commitTransaction(t: Started, options: object): Promise<unknown>;
  };
  const sequelizes = { setIsolationLevel: queryInterface.setIsolationLevel, startTransaction: queryInterface.startTransaction, commitTransaction: queryInterface.commitTransaction };
  const generator = queryInterface.queryGenerator;
  queryInterface.setIsolationLevel = async (t, value, options) => {
    if (t.parent) return sequelizes.setIsolationLevel.call(queryInterface, t, value, options);
    // SQLite's generator answers a comment (`-- SQLite is not able to choose…`) that Sequelize never sends.
    const sql = value ? generator.setIsolationLevelQuery(value, {}) : undefined;
    if (sql && !sql.startsWith('-- ')) await send(db, sql, [], t, 'run');
  };
  const method = db.dialect === 'sqlite' ? 'exec' : 'run';
  queryInterface.startTransaction = async (t, options) => {
    if (t.parent) return sequelizes.startTransaction.call(queryInterface, t, options);
    await whileBusy(db, () => send(db, generator.startTransactionQuery(t), [], t, method));
  };
  queryInterface.commitTransaction = async (t, options) => {
    if (t.parent) return sequelizes.commitTransaction.call(queryInterface, t, options);
    const committing = whileBusy(db, () => send(db, generator.commitTransactionQuery(t), [], t, method, { completes: true }));
    // As Sequelize marks it: finished once COMMIT is sent, whatever its answer.
    t.finished = 'commit';
    await committing;
  };
}

/** Sequelize's default `retry` for SQLite: attempts, and the first wait (ms) and its growth between them. */
const BUSY_ATTEMPTS = 5;
const BUSY_BACKOFF_MS = 100;
const BUSY_BACKOFF_EXPONENT = 1.1;

/** `send()` again while SQLite answers SQLITE_BUSY, as Sequelize's retry did; other errors, and other dialects, at once. */
async function whileBusy<T>(db: StatementTarget, send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await send();
    } catch (error) {
      if (db.dialect !== 'sqlite' || (error as { code?: string }).code !== 'SQLITE_BUSY' || attempt >= BUSY_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, BUSY_BACKOFF_MS * BUSY_BACKOFF_EXPONENT ** (attempt - 1)));
    }
  }
}

/**
 * The rows of one SELECT with `$1`… parameters, in `t`, or outside any transaction when `t` is
 * undefined: as the driver gives them (column names as written; SQLite's instants as text, see
 * instantOf; MariaDB's as Dates).
 */
export async function select<R extends object = Record<string, unknown>>(db: StatementTarget, sql: string, values: readonly unknown[], t?: Transaction): Promise<R[]> {
  const { rows } = await send(db, sql, values, t, 'all');
  return rows as R[];
}

/**
 * SQL written with Sequelize's named replacements (`:name`) as `$n` parameters for `select`, with
 * their values in order: each name is one parameter wherever it appears. The values are bound, not
 * written into the text: one text for every value, and no pass of Sequelize's over the SQL to quote
 * them in.
 * @throws Error when the SQL names a value `named` lacks.
 */
export function namedParameters(sql: string, named: Record<string, unknown>): { sql: string; values: unknown[] } {
  const names: string[] = [];
  const text = sql.replace(NAMED, (_, name: string) => {
    if (!(name in named)) throw new Error(`no value for :${name} in ${sql.slice(0, 60)}…`);
    const at = names.indexOf(name);
    return `$${at >= 0 ? at + 1 : names.push(name)}`;
  });
  return { sql: text, values: names.map((name) => named[name]) };
}
const NAMED = /:([A-Za-z_]\w*)/g;

/** Sequelize's own way of calling its hooks (not in its types). */
type Hooks = { runHooks(name: string, ...args: unknown[]): Promise<void> };
type Outcome = { rows: unknown[]; changes: number };
type Method = 'run' | 'all' | 'exec';
/** The driver's connection of a Sequelize transaction (`connection`, not in Sequelize's types). */
type Held = Transaction & { connection?: unknown; finished?: string };
interface ConnectionManager {
  getConnection(options?: { type?: string }): Promise<unknown>;
  releaseConnection(connection: unknown): void;
}

/**
 * `method`: `all` answers rows, `run` how many rows changed, `exec` neither (SQLite's one trip to the
 * pool for a statement without parameters; `run` elsewhere). `completes`: the statement that ends `t`
 * (COMMIT), sent once `t` is marked finished.
 */
async function send(db: StatementTarget, sql: string, values: readonly unknown[], t: Transaction | undefined, method: Method, { completes = false } = {}): Promise<Outcome> {
  const bound = values.map((value) => boundValue(db.dialect, value));
  if (t && !completes && (t as Held).finished) throw new Error(`${(t as Held).finished} has been called on this transaction, you can no longer use it (${sql.slice(0, 60)}…)`);
  if (db.sequelize.hasHook('beforeQuery')) await (db.sequelize as unknown as Hooks).runHooks('beforeQuery', { bind: bound, transaction: t }, { sql });
  if (t) return onConnection(db.dialect, (t as Held).connection, sql, bound, method);
  const manager = db.sequelize.connectionManager as unknown as ConnectionManager;
  const connection = await manager.getConnection(method === 'all' ? { type: 'SELECT' } : {});
  let outcome: Outcome;
  try {
    outcome = await onConnection(db.dialect, connection, sql, bound, method);
  } finally {
    manager.releaseConnection(connection);
  }
  await ownTurn();
  return outcome;
}

/** Who waits for a turn of the event loop of its own to go on with its result (ownTurn), oldest first. */
const waitingTurns: Array<() => void> = [];

/**
 * Resolves in a turn of the event loop of its own (its check phase), after those that asked before.
 *
 * SQLite's statements run on libuv's pool, and libuv hands every one that has finished to the loop in
 * the same turn: the benchmark's 50 connections' session reads finished together (SQLite runs them
 * one after another on its handle) and 20-25 pages were rendered in one turn, 55-75 ms of the main
 * thread during which no other request, timer or socket was served (README, Benchmark). MariaDB's
 * answers on the pool's sockets arrive together the same way (event-loop p99 21.7–22.6 ms at 50
 * connections on `?q=rossi` at 100,000, 16.7–17.1 with a turn each; CPU 0.51 → 0.55–0.64 ms a page).
 * A statement outside a transaction goes on with its result in a turn of its own: at most one page a
 * turn, the statements themselves still run together. Not in a transaction: its statements hold
 * SQLite's write lock (MariaDB's row locks) until COMMIT and must not wait behind pages.
 */
function ownTurn(): Promise<void> {
  return new Promise((resolve) => {
    if (waitingTurns.push(resolve) === 1) setImmediate(giveTurn);
  });
}

function giveTurn(): void {
  waitingTurns.shift()?.();
  if (waitingTurns.length > 0) setImmediate(giveTurn);
}

function onConnection(dialect: Dialect, connection: unknown, sql: string, values: unknown[], method: Method): Promise<Outcome> {
  return dialect === 'sqlite' ? onSqlite(connection as ConfiguredDatabase, sql, values, method) : onMysql(connection as Mysql, sql, values);
}

/** The SQL for SQLite: `$n` as `?n`, so that the n-th value binds it wherever it first appears. */
const sqliteSql = new Map<string, string>();
/** The SQL for MariaDB/MySQL: `$n` as `?`, with which value each `?` takes, in order. */
const mysqlSql = new Map<string, { sql: string; order: number[] }>();
/** Texts of SQL translated and kept; others (SQL built with its values, if any) are translated at each run. */
const MAX_TRANSLATIONS = 500;
const PARAMETER = /\$(\d+)/g;

function keep<V>(cache: Map<string, V>, sql: string, make: () => V): V {
  const known = cache.get(sql);
  if (known !== undefined) return known;
  const made = make();
  if (cache.size < MAX_TRANSLATIONS) cache.set(sql, made);
  return made;
}

function onSqlite(connection: ConfiguredDatabase, sql: string, values: unknown[], method: Method): Promise<Outcome> {
  if (method === 'exec') {
    if (values.length > 0) throw new Error(`exec takes no parameters (${sql.slice(0, 60)}…)`);
    return new Promise<Outcome>((resolve, reject) => connection.exec(sql, (err) => (err ? reject(Object.assign(err, { sql })) : resolve({ rows: [], changes: 0 }))));
  }
  const text = keep(sqliteSql, sql, () => sql.replace(PARAMETER, '?$1'));
  return connection.runKept(text, values, method).catch((err: Error) => Promise.reject(Object.assign(err, { sql })));
}

type MysqlCallback = (error: (Error & { errno?: number }) | null, result: unknown) => void;
type Mysql = { query(sql: string, values: unknown[], callback: MysqlCallback): unknown };

/**
 * The statement as text, its values escaped into it by mysql2 (sql-escaper, as for Sequelize's own
 * text queries), not prepared (`execute`): Sequelize's connections parse every value through its
 * `typeCast`, and mysql2's parser of binary rows builds a wrapper object with three closures for each
 * value of each row to call it (its text parser builds one a column, a result): the list's read cost
 * a page with every row rendered 6.9–7.7 CPU ms against 2.8 as text (`LIST_CACHE_ENTRIES=0
 * PROFILE_MYSQL_URL=… bench:profile`), 38% of it the garbage collector's. As text, a statement is also
 * one round trip on each connection (no PREPARE first) and holds nothing on the server. The escaping
 * is Sequelize's own assumption too: backslashes escape (no NO_BACKSLASH_ESCAPES in the sql_mode);
 * boundValue lets only single values through.
 */
function onMysql(connection: Mysql, sql: string, values: unknown[]): Promise<Outcome> {
  const { sql: text, order } = keep(mysqlSql, sql, () => {
    const taken: number[] = [];
    return { sql: sql.replace(PARAMETER, (_, n: string) => (taken.push(Number(n) - 1), '?')), order: taken };
  });
  return new Promise<Outcome>((resolve, reject) => {
    const done = (error: Error | null, result: unknown) => {
      if (error) return reject(Object.assign(error, { sql }));
      if (Array.isArray(result)) return resolve({ rows: result, changes: 0 });
      resolve({ rows: [], changes: Number((result as { affectedRows?: number }).affectedRows ?? 0) });
    };
    connection.query(text, order.map((i) => values[i]), done);
  });
}
