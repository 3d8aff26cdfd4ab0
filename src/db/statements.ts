import type { Transaction } from 'sequelize';
import { sqlDate, type ConfiguredDatabase, type Dialect } from './connection';
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

interface MysqlConnection {
  query(sql: string, values: unknown[], callback: (err: Error | null, rows: unknown) => void): void;
}
interface Connections {
  getConnection(options: { type: 'SELECT' }): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<void> | void;
}

/**
 * A SELECT run at every request (a session's read), with its values bound (`?`), outside any
 * transaction, on the connection Sequelize would use: on SQLite a statement prepared once per
 * connection, on MariaDB/MySQL the values escaped into it by mysql2 (see `first`). Without
 * sequelize.query's work around it (its options copied, the replacements parsed out of the SQL and
 * escaped into it, a Query object, the result formatted). On SQLite the statement is run to its end
 * (`all`, not `get`): a statement left on its first row would hold its read transaction open, and the
 * connection's later reads would see the database as it was then.
 */
export class PreparedRead<Row extends Record<string, unknown>> {
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
      const statement = await (connection as ConfiguredDatabase).keptStatement(this.sql);
      const rows = await new Promise<unknown[]>((resolve, reject) => statement.all(bound, (err, found) => (err ? reject(err) : resolve(found))));
      return (rows[0] as Row | undefined) ?? null;
    }
    try {
      // Not mysql2's `execute` (a server-side prepared statement): its binary rows go through Sequelize's
      // typeCast by a wrapper per column, and the driver took 9% of the page's main thread against 5% so.
      const rows = await new Promise<unknown>((resolve, reject) => (connection as MysqlConnection).query(this.sql, bound, (err, found) => (err ? reject(err) : resolve(found))));
      return ((rows as Row[])[0] as Row | undefined) ?? null;
    } finally {
      await connections.releaseConnection(connection);
    }
  }
}
