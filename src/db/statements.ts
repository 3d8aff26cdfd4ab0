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
