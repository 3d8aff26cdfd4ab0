import crypto from 'node:crypto';
import sqlite3 from 'sqlite3';
import { RateLimiterMemory, RateLimiterMySQL, RateLimiterRes, RateLimiterSQLite, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '../config';
import { sqliteStorage } from '../db/connection';
import { retryingConflicts, type Database } from '../db';

/**
 * What is counted, and per what. Keys are canonical, so that one account or one client has one
 * counter: names through canonicalName (names.ts), client addresses through allowanceOf (ip.ts),
 * accounts through principalKey, device cookies by their nonce.
 */
export type LimitName = 'signInAccount' | 'signInIp' | 'signInDevice' | 'forgotIp' | 'passwordChange';

/** The table created by migrations/003-rate-limits.ts, the same on both databases. */
const TABLE = 'rate_limits';
const SQLITE_BUSY_TIMEOUT_MS = 10_000;
const SWEEP_INTERVAL_MS = 5 * 60 * 1000;

export interface Verdict {
  allowed: boolean;
  /** When refused: seconds until the oldest attempt of the window no longer counts. */
  retryAfterSeconds: number;
}

/** Attempt counters that hold across restarts and across app processes. */
export interface RateLimits {
  /** Counts one attempt against every key; refused when any of them is over its limit. */
  take(attempts: Array<[LimitName, string]>): Promise<Verdict>;
  /** Gives back an attempt that turned out legitimate (a successful sign-in). */
  giveBack(name: LimitName, key: string): Promise<void>;
  /** Forgets the attempts of a key (a successful password change for the account). */
  clear(name: LimitName, key: string): Promise<void>;
  /** Drops the counters whose window is over (also done every few minutes on its own). */
  sweep(): Promise<void>;
  close(): Promise<void>;
}

function allowances(config: Config['rateLimits']): Record<LimitName, number> {
  return {
    signInAccount: config.signInPerAccount,
    signInIp: config.signInPerIp,
    signInDevice: config.signInPerDevice,
    forgotIp: config.forgotPerIp,
    passwordChange: config.passwordChangePerAccount,
  };
}

/** Usernames and IPs are personal data: the table keeps only a digest of them. */
function keyOf(key: string): string {
  return crypto.createHash('sha256').update(key).digest('base64url');
}

/**
 * rate-limiter-flexible on the app's own database: on MariaDB/MySQL through Sequelize's pool (each
 * count a transaction of its own, run again when it loses a conflict on a Galera cluster), on SQLite
 * through a handle of its own on the same file (the library needs a raw sqlite3 handle).
 */
export function createRateLimits(db: Database, { databaseUrl, rateLimits: config }: Config): RateLimits {
  const file = db.dialect === 'sqlite' ? sqliteStorage(databaseUrl) : '';
  // An in-memory SQLite database cannot be shared with a second handle, and keeps nothing anyway.
  const inMemory = db.dialect === 'sqlite' && file === ':memory:';
  let sqlite: sqlite3.Database | null = null;
  if (db.dialect === 'sqlite' && !inMemory) {
    sqlite = new sqlite3.Database(file);
    sqlite.configure('busyTimeout', SQLITE_BUSY_TIMEOUT_MS);
  }
  const limiter = (keyPrefix: string, points: number): RateLimiterAbstract => {
    // The library's own sweeping timer cannot be stopped and would run on a closed handle: ours below.
    const options = { tableName: TABLE, tableCreated: true, clearExpiredByTimeout: false, keyPrefix, points, duration: config.windowSeconds };
    if (sqlite) return new RateLimiterSQLite({ ...options, storeClient: sqlite, storeType: 'sqlite3' });
    if (inMemory) return new RateLimiterMemory(options);
    return new RateLimiterMySQL({ ...options, storeClient: db.sequelize, storeType: 'sequelize', dbName: db.sequelize.config.database });
  };
  // rate-limiter-flexible's SQLite upsert runs a transaction under one fixed savepoint name: two
  // interleaved on one handle leave the write lock held for good (two failed sign-ins at once froze
  // every write). So this process sends them to its handle one at a time, in the turns of its other
  // writes (Database#inWriteTurn): they never wait for those inside SQLite, on a thread of libuv's pool.
  // Other processes have handles of their own, which SQLite's locking keeps apart.
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => (sqlite ? db.inWriteTurn(work) : work());
  const limiters = Object.fromEntries(
    Object.entries(allowances(config)).map(([name, points]) => [name, limiter(name, points)]),
  ) as Record<LimitName, RateLimiterAbstract>;

  async function sweep(): Promise<void> {
    const sql = `DELETE FROM ${TABLE} WHERE expire < ?`;
    const handle = sqlite;
    if (handle) await inTurn(() => new Promise<void>((resolve, reject) => handle.run(sql, [Date.now()], (err) => (err ? reject(err) : resolve()))));
    else if (!inMemory) await db.sequelize.query(sql, { replacements: [Date.now()] });
  }
  // A failed sweep is simply retried at the next one.
  const sweeper = setInterval(() => void sweep().catch(() => undefined), SWEEP_INTERVAL_MS);
  sweeper.unref();

  async function takeOne(name: LimitName, key: string): Promise<Verdict> {
    try {
      await inTurn(() => retryingConflicts(() => limiters[name].consume(keyOf(key))));
      return { allowed: true, retryAfterSeconds: 0 };
    } catch (refusal) {
      // The library rejects with a RateLimiterRes when over the limit, with an Error when it failed.
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)) };
    }
  }

  return {
    async take(attempts) {
      const verdicts = await Promise.all(attempts.map(([name, key]) => takeOne(name, key)));
      const refused = verdicts.filter((v) => !v.allowed);
      return refused.length === 0
        ? { allowed: true, retryAfterSeconds: 0 }
        : { allowed: false, retryAfterSeconds: Math.max(...refused.map((v) => v.retryAfterSeconds)) };
    },
    async giveBack(name, key) {
      await inTurn(() => retryingConflicts(() => limiters[name].reward(keyOf(key), 1)));
    },
    async clear(name, key) {
      await inTurn(() => retryingConflicts(() => limiters[name].delete(keyOf(key))));
    },
    sweep,
    async close() {
      clearInterval(sweeper);
      const handle = sqlite;
      sqlite = null;
      if (handle) await new Promise<void>((resolve, reject) => handle.close((err) => (err ? reject(err) : resolve())));
    },
  };
}
