import path from 'node:path';
import sqlite3 from 'sqlite3';
import { Sequelize, Transaction, type Options } from 'sequelize';
import { ROOT } from '../config';
import { Recent } from '../lib/recent';

export type Dialect = 'sqlite' | 'mysql';

/**
 * sqlite3 with every connection configured as this app needs it. Sequelize opens a connection per
 * transaction unless told otherwise (oneWriter), so the settings must travel with the constructor.
 *
 * Two costs Sequelize adds to every SQLite query are taken away here, where its handle is ours:
 * - before each SELECT it asks `PRAGMA table_info` of the table (to parse the column types); the
 *   answer only changes with the schema, so it is kept per file until this process changes the
 *   schema (a migration run elsewhere is followed by a restart: the models change with it anyway);
 * - it builds a `new Error()` and reads its `.stack` for every query, in case the query fails; with
 *   source maps on (tsx), formatting that stack costs more than most queries. It is built without
 *   frames: a failed query's error still carries SQLite's message and the SQL, not the JavaScript stack.
 */
const SQLITE_BUSY_TIMEOUT_MS = 10_000;
const TABLE_INFO = /^PRAGMA table_info\(`(\w+)`\)$/;
const SCHEMA_CHANGE = /^\s*(CREATE|ALTER|DROP)\s/i;
const tableInfo = new Map<string, Map<string, unknown[]>>();
type Callback = (err: Error | null, rows?: unknown) => void;

/** Statements a connection keeps prepared (ConfiguredDatabase#runKept); the least recently used past these is finalized. */
const MAX_KEPT_STATEMENTS = 200;
/** sqlite3's Statement as its constructor takes it (not in its types): prepared on `db`, `callback` told when it is, or why not. */
const Statement = sqlite3.Statement as unknown as new (db: sqlite3.Database, sql: string, callback: (err: Error | null) => void) => sqlite3.Statement;
/**
 * A statement kept prepared; while it is being prepared, the runs waiting for it (sqlite3 drops them,
 * unanswered, if preparing fails); and why preparing failed, if it did.
 */
interface Kept {
  statement: sqlite3.Statement;
  waiting: Array<(err: Error) => void> | null;
  failed: Error | null;
}
/** What a run answers: `all` its rows, `run` how many rows it changed. */
export type KeptOutcome = { rows: unknown[]; changes: number };

export class ConfiguredDatabase extends sqlite3.Database {
  private readonly file: string;
  private readonly statements = new Recent<Kept>(MAX_KEPT_STATEMENTS, ({ statement }) => statement.finalize());
  /** Set once close is asked for: statements are no longer kept (none would be finalized before the close). */
  private closing = false;

  constructor(filename: string, mode: number, callback: (err: Error | null) => void) {
    super(filename, mode, (err) => {
      if (err) return callback(err);
      this.configure('busyTimeout', SQLITE_BUSY_TIMEOUT_MS);
      // Deleted rows (delivered links, revoked sessions) are overwritten, not left in free pages.
      this.exec('PRAGMA secure_delete = ON; PRAGMA synchronous = NORMAL;', callback);
    });
    this.file = filename;
  }

  override all(sql: string, ...rest: unknown[]): this {
    const table = TABLE_INFO.exec(sql)?.[1];
    const done = rest[rest.length - 1];
    if (table === undefined || rest.length !== 1 || typeof done !== 'function') {
      this.noteSchemaChange(sql);
      return super.all(sql, ...rest);
    }
    const known = tableInfo.get(this.file)?.get(table);
    if (known) {
      process.nextTick(done as Callback, null, known);
      return this;
    }
    return super.all(sql, (err: Error | null, rows: unknown[]) => {
      if (!err) tableInfo.set(this.file, (tableInfo.get(this.file) ?? new Map<string, unknown[]>()).set(table, rows));
      (done as Callback)(err, rows);
    });
  }

  override run(sql: string, ...rest: unknown[]): this {
    this.noteSchemaChange(sql);
    return super.run(sql, ...rest);
  }

  override exec(sql: string, callback?: (err: Error | null) => void): this {
    this.noteSchemaChange(sql);
    return super.exec(sql, callback);
  }

  /**
   * Runs `sql` with `values` (by position) by this connection's statement of it, prepared at its first
   * use and kept: one trip to libuv's pool a run, where Database#all and #run prepare, run and
   * finalize, three trips. `all` answers the rows, `run` how many rows changed.
   *
   * A kept statement must hold nothing between runs: one left on a row keeps its read transaction
   * open (in WAL mode a snapshot: the connection's next reads see nothing newer, and no checkpoint
   * passes it), or its write. `all` steps to the end (SQLITE_DONE, or an error), where SQLite ends the
   * statement's transaction; `run` steps once, so it is reset after (its result is answered once that
   * is done). A Statement runs its calls one after another, each with its own values and callback, so
   * two runs of one statement at once never mix. SQLite prepares a statement again by itself when the
   * schema changed (sqlite3_prepare_v2, SQLITE_SCHEMA); an error leaves the statement to be reset by
   * its next run. Each Statement is finalized once dropped, or before the connection closes (close);
   * a run asked for once the close is, by a request still in flight, has a statement of its own (runOnce).
   */
  runKept(sql: string, values: unknown[], method: 'all' | 'run'): Promise<KeptOutcome> {
    if (this.closing) return this.runOnce(sql, values, method);
    const kept = this.kept(sql);
    if (kept.failed) return Promise.reject(kept.failed);
    return new Promise<KeptOutcome>((resolve, reject) => {
      kept.waiting?.push(reject);
      if (method === 'all') {
        kept.statement.all(values, (err: Error | null, rows: unknown[]) => (err ? reject(err) : resolve({ rows, changes: 0 })));
        return;
      }
      // The statement answers its calls in order: the run's callback has been called when the reset's is.
      let outcome: Error | KeptOutcome | undefined;
      kept.statement.run(values, function (this: sqlite3.RunResult, err: Error | null) {
        outcome = err ?? { rows: [], changes: this.changes };
      });
      kept.statement.reset(() => (outcome instanceof Error ? reject(outcome) : resolve(outcome as KeptOutcome)));
    });
  }

  /**
   * `sql` run by a statement of its own, finalized after it (Database#all, #run): what a run asked for
   * once the connection is closing does, as sqlite3 closes only once every statement is finalized.
   */
  private runOnce(sql: string, values: unknown[], method: 'all' | 'run'): Promise<KeptOutcome> {
    return new Promise<KeptOutcome>((resolve, reject) => {
      this[method](sql, values, function (this: sqlite3.RunResult, err: Error | null, rows?: unknown[]) {
        if (err) return reject(err);
        resolve({ rows: rows ?? [], changes: method === 'run' ? this.changes : 0 });
      });
    });
  }

  /**
   * The kept statement of `sql`, prepared now if it is not kept; not kept if preparing fails, which
   * sqlite3 tells at once on a closed connection (as Database#all answers "Database is closed").
   */
  private kept(sql: string): Kept {
    const known = this.statements.get(sql);
    if (known) return known;
    const kept: Kept = { statement: null as unknown as sqlite3.Statement, waiting: [], failed: null };
    kept.statement = new Statement(this, sql, (err) => {
      const waiting = kept.waiting ?? [];
      kept.waiting = null;
      if (!err) return;
      kept.failed = err;
      if (this.statements.get(sql) === kept) this.statements.delete(sql);
      for (const fail of waiting) fail(err);
    });
    if (!kept.failed) this.statements.set(sql, kept);
    return kept;
  }

  /**
   * SQLite refuses to close a connection while a statement prepared on it is not finalized: the kept
   * ones are finalized first, each after the runs it was given (sqlite3 closes once none is running).
   */
  override close(callback?: (err: Error | null) => void): void {
    this.closing = true;
    this.statements.clear();
    super.close(callback);
  }

  /** Sequelize builds its `new Error()` in the synchronous start of the callback it serializes. */
  override serialize(callback?: () => void): void {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super.serialize(callback);
    } finally {
      Error.stackTraceLimit = limit;
    }
  }

  private noteSchemaChange(sql: string): void {
    if (SCHEMA_CHANGE.test(sql)) tableInfo.delete(this.file);
  }
}
const sqliteModule = { ...sqlite3, Database: ConfiguredDatabase };

/** The file a `sqlite:<file>` URL names (or `:memory:`), as every handle on it must open it. */
export function sqliteStorage(url: string): string {
  const file = url.slice('sqlite:'.length);
  return file === ':memory:' ? file : path.resolve(ROOT, file);
}

/**
 * Sequelize caches a SQLite handle before knowing whether it opened; one that failed (the file was
 * unreachable for a moment) would stay cached and every later query on it would wait for ever.
 * Forgetting it lets the next query try again, so the app answers 503 while the file is away and
 * recovers when it is back.
 */
function forgetFailedOpens(sequelize: Sequelize): Sequelize {
  const manager = sequelize.connectionManager as unknown as {
    getConnection(options?: { uuid?: string }): Promise<unknown>;
    connections: Record<string, unknown>;
  };
  const open = manager.getConnection.bind(manager);
  manager.getConnection = async (options = {}) => {
    try {
      return await open(options);
    } catch (error) {
      delete manager.connections[options.uuid ?? 'default'];
      throw error;
    }
  };
  return sequelize;
}

/**
 * Every transaction of the process on one SQLite connection, opened once: Sequelize would open (and
 * SQLite parse the schema for) a new one per transaction. db.transaction runs the process's
 * transactions one at a time; one begun beside them (straight through sequelize.transaction) gets a
 * connection of its own, as before. Reads outside transactions keep the `default` connection: on the
 * writer they would read a transaction still open. (Writes outside transactions are transactions of
 * their own on SQLite: src/db/index.ts, writesInTurns.)
 */
function oneWriter(sequelize: Sequelize): Sequelize {
  type Connection = object;
  const manager = sequelize.connectionManager as unknown as {
    getConnection(options?: { uuid?: string }): Promise<Connection>;
    releaseConnection(connection: Connection, force?: boolean): void;
    destroyConnection(connection: Connection): Promise<void>;
    connections: Record<string, Connection | undefined>;
  };
  const WRITER = 'writer';
  let lent = false;
  const open = manager.getConnection.bind(manager);
  const release = manager.releaseConnection.bind(manager);
  const destroy = manager.destroyConnection.bind(manager);
  const isWriter = (connection: Connection) => connection === manager.connections[WRITER];
  manager.getConnection = async (options = {}) => {
    if (options.uuid === undefined || options.uuid === 'default' || lent) return open(options);
    lent = true;
    try {
      return await open({ ...options, uuid: WRITER });
    } catch (error) {
      lent = false;
      throw error;
    }
  };
  manager.releaseConnection = (connection, force) => {
    if (!isWriter(connection)) return release(connection, force);
    lent = false;
  };
  // A transaction whose rollback failed leaves its connection in an unknown state: the next opens anew.
  manager.destroyConnection = async (connection) => {
    if (!isWriter(connection)) return destroy(connection);
    delete manager.connections[WRITER];
    lent = false;
    await new Promise<void>((resolve) => (connection as sqlite3.Database).close(() => resolve()));
  };
  return sequelize;
}

/** Opens a database from a `sqlite:<file>` or `mysql://user:pass@host:port/db` URL. */
export function connect(url: string, options: Options = {}): Sequelize {
  const common: Options = { logging: false, define: { underscored: true }, ...options };
  if (url.startsWith('sqlite:')) {
    const sequelize = forgetFailedOpens(new Sequelize({
      ...common,
      dialect: 'sqlite',
      dialectModule: sqliteModule,
      storage: sqliteStorage(url),
      // Take the write lock at BEGIN: two writers never deadlock upgrading a read lock.
      transactionType: Transaction.TYPES.IMMEDIATE,
    }));
    // In memory, Sequelize already keeps a single connection for everything.
    return sqliteStorage(url) === ':memory:' ? sequelize : oneWriter(sequelize);
  }
  if (/^(mysql|mariadb):\/\//.test(url)) {
    return new Sequelize(url.replace(/^mariadb:/, 'mysql:'), {
      ...common,
      dialect: 'mysql',
      timezone: '+00:00',
      // Under REPEATABLE READ, revoking the (no) live links of two different collaborators takes the
      // same gap lock, and their two link inserts then deadlock. Every invariant here rests on row
      // locks and conditional updates, which READ COMMITTED keeps without gap locks.
      isolationLevel: Transaction.ISOLATION_LEVELS.READ_COMMITTED,
      pool: { max: 10, min: 0, acquire: 30_000, idle: 10_000 },
      dialectOptions: { dateStrings: false, supportBigNumbers: true },
    });
  }
  throw new Error(`DATABASE_URL must start with sqlite: or mysql://, got "${url.replace(/\/\/.*@/, '//…@')}"`);
}

/**
 * `date` as Sequelize stores a DATE(3) value on `dialect` (UTC, to the millisecond; SQLite compares
 * the text), for a replacement compared with stored dates on a hot path: a replacement Date would be
 * formatted through moment at every statement (and to the second only on MariaDB).
 */
export function sqlDate(dialect: Dialect, date: Date): string {
  const text = date.toISOString().slice(0, 23).replace('T', ' ');
  return dialect === 'sqlite' ? `${text} +00:00` : text;
}

export function dialectOf(sequelize: Sequelize): Dialect {
  return sequelize.getDialect() === 'sqlite' ? 'sqlite' : 'mysql';
}

/** WAL lets a mail server read the file while the app writes it (see README, Mail programs). */
export async function prepare(sequelize: Sequelize, url: string): Promise<void> {
  if (dialectOf(sequelize) === 'sqlite' && url !== 'sqlite::memory:') {
    await sequelize.query('PRAGMA journal_mode = WAL');
  }
}
