import path from 'node:path';
import sqlite3 from 'sqlite3';
import { Sequelize, Transaction, type Options } from 'sequelize';
import { ROOT } from '../config';

export type Dialect = 'sqlite' | 'mysql';

/**
 * sqlite3 with every connection configured as this app needs it. Sequelize opens one SQLite
 * connection per transaction, so the settings must travel with the constructor itself.
 */
const SQLITE_BUSY_TIMEOUT_MS = 10_000;
class ConfiguredDatabase extends sqlite3.Database {
  constructor(filename: string, mode: number, callback: (err: Error | null) => void) {
    super(filename, mode, (err) => {
      if (err) return callback(err);
      this.configure('busyTimeout', SQLITE_BUSY_TIMEOUT_MS);
      // Deleted rows (delivered links, revoked sessions) are overwritten, not left in free pages.
      this.exec('PRAGMA secure_delete = ON; PRAGMA synchronous = NORMAL;', callback);
    });
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

/** Opens a database from a `sqlite:<file>` or `mysql://user:pass@host:port/db` URL. */
export function connect(url: string, options: Options = {}): Sequelize {
  const common: Options = { logging: false, define: { underscored: true }, ...options };
  if (url.startsWith('sqlite:')) {
    return forgetFailedOpens(new Sequelize({
      ...common,
      dialect: 'sqlite',
      dialectModule: sqliteModule,
      storage: sqliteStorage(url),
      // Take the write lock at BEGIN: two writers never deadlock upgrading a read lock.
      transactionType: Transaction.TYPES.IMMEDIATE,
    }));
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

export function dialectOf(sequelize: Sequelize): Dialect {
  return sequelize.getDialect() === 'sqlite' ? 'sqlite' : 'mysql';
}

/** WAL lets a mail server read the file while the app writes it (see README, Mail programs). */
export async function prepare(sequelize: Sequelize, url: string): Promise<void> {
  if (dialectOf(sequelize) === 'sqlite' && url !== 'sqlite::memory:') {
    await sequelize.query('PRAGMA journal_mode = WAL');
  }
}
