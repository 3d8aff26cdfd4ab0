import type { Transaction } from 'sequelize';
import { sqlDate, type Dialect } from './connection';
import type { Database } from '.';

/**
 * Plain statements for the hot writes (an owner's action runs a dozen in one transaction): SQL
 * with bound parameters, without a model's work around it (building an instance, validating,
 * cloning its options). Each costs the main thread a fraction of what Model.create/update/destroy do.
 */

/**
 * A value as a bound parameter. An instant is given as Sequelize writes it in a DATE(3) column, in
 * UTC: `2026-03-01 09:00:00.000 +00:00` on SQLite (text, which sorts and compares as such, so rows
 * written either way compare alike), `2026-03-01 09:00:00.000` on MariaDB/MySQL.
 */
export function boundValue(dialect: Dialect, value: unknown): unknown {
  if (value instanceof Date) return sqlDate(dialect, value);
  return value === undefined ? null : value;
}

/** An instant a plain SELECT read: SQLite gives the text boundValue wrote, MariaDB a Date or UTC text. */
export function instantOf(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value;
  const text = String(value);
  return new Date(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : `${text}Z`);
}

/** Runs one statement with `$1`… parameters (`values` in order) in `t`. */
export async function execute(db: Database, sql: string, values: readonly unknown[], t: Transaction): Promise<void> {
  await db.sequelize.query(sql, { bind: values.map((value) => boundValue(db.dialect, value)), transaction: t });
}

interface SqliteConnection {
  all(sql: string, values: unknown[], callback: (err: Error | null, rows: unknown[]) => void): void;
}
interface MysqlConnection {
  query(sql: string, values: unknown[], callback: (err: Error | null, rows: unknown) => void): void;
}
interface Connections {
  getConnection(options: { type: 'SELECT' }): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<void> | void;
}

/**
 * A SELECT run at every request (a session's read), its values bound (`?`), outside any transaction,
 * straight on the driver's connection Sequelize would use: without sequelize.query's work around it
 * (its options copied, the replacements parsed out of the SQL and escaped into it, a Query object,
 * the result formatted).
 *
 * Not a statement kept prepared: on SQLite one kept per connection saved the thread pool its
 * preparation (0.2 ms a request) but made the main thread's garbage collection with every row of a
 * list rendered (LIST_CACHE_ENTRIES=0) 1.5-2 ms a request dearer, for a reason not found; on MariaDB
 * mysql2's `execute` gives binary rows that go through Sequelize's typeCast by a wrapper per column,
 * and the driver took 9% of the page's main thread against 5% with `query`.
 */
export class PlainRead<Row extends Record<string, unknown>> {
  constructor(
    private readonly db: Database,
    private readonly sql: string,
  ) {}

  /** The first row the statement gives with `values` (Dates as boundValue writes them), or null. */
  async first(values: readonly unknown[]): Promise<Row | null> {
    const bound = values.map((value) => boundValue(this.db.dialect, value));
    const connections = this.db.sequelize.connectionManager as unknown as Connections;
    const connection = await connections.getConnection({ type: 'SELECT' });
    if (this.db.dialect === 'sqlite') {
      // SQLite's default connection stays open (Sequelize releases none but a transaction's).
      const rows = await new Promise<unknown[]>((resolve, reject) => (connection as SqliteConnection).all(this.sql, bound, (err, found) => (err ? reject(err) : resolve(found))));
      return (rows[0] as Row | undefined) ?? null;
    }
    try {
      const rows = await new Promise<unknown>((resolve, reject) => (connection as MysqlConnection).query(this.sql, bound, (err, found) => (err ? reject(err) : resolve(found))));
      return ((rows as Row[])[0] as Row | undefined) ?? null;
    } finally {
      await connections.releaseConnection(connection);
    }
  }
}
