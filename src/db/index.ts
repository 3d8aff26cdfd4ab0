import { AsyncLocalStorage } from 'node:async_hooks';
import crypto from 'node:crypto';
import { ConnectionError, QueryTypes, type Model, type ModelStatic, type Sequelize, type Transaction } from 'sequelize';
import { connect, dialectOf, prepare, type Dialect } from './connection';
import { migrate } from './migrate';
import { PlainReader } from './records';
import { execute, plainTransactionStatements, select } from './statements';
import { defineModels, type Models } from '../models';
import type { LogSink } from '../lib/logger';

export interface Database {
  sequelize: Sequelize;
  models: Models;
  dialect: Dialect;
  /**
   * Runs `work` in one transaction. On MariaDB/MySQL a transaction that lost a conflict (ER_LOCK_DEADLOCK:
   * an InnoDB deadlock, or on a Galera cluster a certification failure or a brute-force abort) is run
   * again from the start, up to CONFLICT_ATTEMPTS times in all: `work` must keep what it changes
   * inside the transaction (rows, `t.afterCommit`), never in objects it was given.
   */
  transaction<T>(work: (t: Transaction) => Promise<T>): Promise<T>;
  /**
   * Runs `work`, which writes to the database file through a SQLite handle of its own (the rate
   * limiter's), alone among this process's writes, so that it never waits for their write lock inside
   * SQLite (see Turns); on MariaDB/MySQL, at once.
   * @throws Error (rejects) at once when asked from inside a transaction's work: it would wait for it.
   */
  inWriteTurn<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Re-reads a row of a table with `id` and `updated_at` columns and locks it until the transaction
   * ends, on every node of a Galera cluster (see below); null when it is gone.
   */
  claim<M extends Model>(model: ModelStatic<M>, id: number, t: Transaction): Promise<M | null>;
  /** Locks the row as claim does, without reading it: for a caller that knows what it holds. */
  lock(model: ModelStatic<Model>, id: number, t: Transaction): Promise<void>;
  /** Closes every connection; asked again, waits for the same close. Queries asked after it reject (DATABASE_CLOSED). */
  close(): Promise<void>;
}

/**
 * Attempts of a transaction that keeps losing conflicts, the first included. Owner actions of one
 * mailbox all write its rows (the sending limits' claim, the list's version): four at once through
 * two Galera nodes lose about one run in two (test/e2e/galera.test.ts, up to 10 attempts seen), so
 * ten attempts would still let about one in 500 fail.
 */
export const CONFLICT_ATTEMPTS = 20;
/**
 * Backoff before the n-th retry: a random wait up to min(10·2ⁿ, 500) ms ("full jitter"), so that
 * the losers of one conflict do not meet again; at most about 8 s in all.
 */
const BACKOFF_MS = 10;
const MAX_BACKOFF_MS = 500;
/** ER_LOCK_DEADLOCK: "try restarting transaction". */
const ER_LOCK_DEADLOCK = 1213;

/** Whether a failed transaction may simply be run again (its work was rolled back whole). */
export function isConflict(error: unknown): boolean {
  const { errno, parent } = (error ?? {}) as { errno?: unknown; parent?: { errno?: unknown } };
  return errno === ER_LOCK_DEADLOCK || parent?.errno === ER_LOCK_DEADLOCK;
}

/**
 * SQLite has one writer at a time. A statement waiting for the write lock inside SQLite holds one of
 * libuv's few threads (SQLite's busy handler), and the handle it was sent on, until the lock is free.
 * A write sent outside a transaction waited on Sequelize's `default` handle: the reads of the requests
 * under way then took the pool's other threads waiting for that handle, and the transaction holding
 * the lock had no thread left to finish on until the busy timeout (10 s; the app stalled). So this
 * process queues its own writes in JavaScript, one at a time: its transactions, each statement that
 * writes outside one (writesInTurns), and the rate limiter's on its own handle (Database#inWriteTurn).
 * Writes of other processes still wait in SQLite.
 *
 * Work asking for a turn and awaiting it from inside a transaction's work would wait for itself for
 * ever: it fails at once instead (the work's context followed by AsyncLocalStorage). What the work
 * leaves running once it is done (a listener called after COMMIT) asks as anyone else.
 */
class Turns {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly working = new AsyncLocalStorage<{ done: boolean }>();

  /**
   * Runs `work` once the turns asked before are over, alone.
   * @throws Error (rejects) at once when asked from inside a turn's work (within); `asked` names what asked.
   */
  take<T>(work: () => Promise<T>, asked: string): Promise<T> {
    if (this.working.getStore()?.done === false) {
      return Promise.reject(new Error(`${asked} asked from inside a transaction's work would wait for that transaction to end: on SQLite it would never run (give it the work's transaction)`));
    }
    const next = this.tail.then(work);
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Runs a transaction of `sequelize` in a turn, with `work` as its work (within). */
  transaction<T>(sequelize: Sequelize, work: (t: Transaction) => Promise<T>, asked: string): Promise<T> {
    return this.take(() => sequelize.transaction((t) => this.within(() => work(t))), asked);
  }

  /**
   * Runs `work` as the work of the turn under way: the turns it asks for until it is done fail (take).
   * The storage follows contexts only meanwhile: enabled, Node's AsyncLocalStorage has a hook run at
   * every promise made in the process (pages included), and turns run one at a time.
   */
  within<T>(work: () => Promise<T>): Promise<T> {
    const mark = { done: false };
    return this.working.run(mark, work).finally(() => {
      mark.done = true;
      this.working.disable();
    });
  }
}

/** The query types Sequelize gives the statements of its models that write (create, update, destroy, upsert). */
const WRITES = new Set<string>([QueryTypes.INSERT, QueryTypes.UPDATE, QueryTypes.BULKUPDATE, QueryTypes.DELETE, QueryTypes.BULKDELETE, QueryTypes.UPSERT]);
/** SQL given to sequelize.query as such (its type RAW, or none) that writes. */
const WRITE_SQL = /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i;

/**
 * On SQLite, a statement that writes sent through Sequelize without a transaction (a model's create,
 * update or destroy, SQL that inserts, updates or deletes) runs as a transaction of its own in
 * `turns`: alone and atomic as before, with its errors as before (a unique constraint's included), on
 * the writer handle instead of the `default` one, which reads outside a transaction keep. Sent from
 * inside a transaction's work (its `transaction: t` forgotten), it fails at once (Turns#take), where
 * it failed after SQLite's busy timeout before.
 */
function writesInTurns(sequelize: Sequelize, turns: Turns): void {
  type Options = { transaction?: Transaction | null; type?: string };
  type Query = (sql: string | { query: string }, options?: Options) => Promise<unknown>;
  const query = sequelize.query.bind(sequelize) as unknown as Query;
  (sequelize as unknown as { query: Query }).query = (sql, options) => {
    const text = typeof sql === 'string' ? sql : sql.query;
    const type = options?.type;
    const writes = type !== undefined && type !== QueryTypes.RAW ? WRITES.has(type) : WRITE_SQL.test(text);
    if (options?.transaction || !writes) return query(sql, options);
    return turns.transaction(sequelize, (t) => query(sql, { ...options, transaction: t }), `a write outside a transaction (${text.slice(0, 60)}…)`);
  };
}

/**
 * Runs `work` (one transaction, begun and ended inside it) again when it lost a conflict. On a Galera
 * cluster, writes may land on any node and conflicts surface at commit as ER_LOCK_DEADLOCK (MariaDB,
 * "Galera Cluster: Known Limitations"): the transaction was rolled back whole, so running it again is
 * safe, and it then sees the winner's rows (an already used link, a state the transition no longer
 * allows) and answers as they demand.
 */
export async function retryingConflicts<T>(work: () => Promise<T>, log?: LogSink): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (!isConflict(error) || attempt >= CONFLICT_ATTEMPTS) throw error;
      const delayMs = crypto.randomInt(1, Math.min(BACKOFF_MS * 2 ** attempt, MAX_BACKOFF_MS) + 1);
      // The error alone: its SQL and parameters may hold hashes and sealed links.
      log?.warn({ attempt, maxAttempts: CONFLICT_ATTEMPTS, retryInMs: delayMs, errno: ER_LOCK_DEADLOCK }, 'transaction lost a conflict, running it again');
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

/**
 * On a node of a Galera cluster, every connection waits, before each read and each UPDATE/DELETE,
 * until its node has applied every transaction the cluster committed before (wsrep_sync_wait = 1 + 2,
 * MariaDB's "Galera Cluster System Variables"): a session written through one node is read by the
 * next request through another one, and a conditional update must not act on rows another node
 * changed a moment ago. A statement outside a transaction (a session saved, an email claimed) that
 * loses a conflict is run again by the node itself (wsrep_retry_autocommit), as transaction() runs
 * transactions again. Elsewhere (one MariaDB, MySQL) connections are left as they are.
 */
function syncWaitOnGalera(sequelize: Sequelize): void {
  type Raw = { query(sql: string, callback: (error: Error | null, rows?: unknown) => void): void };
  const ask = (connection: Raw, sql: string) =>
    new Promise<unknown>((resolve, reject) => connection.query(sql, (error, rows) => (error ? reject(error) : resolve(rows))));
  let galera: Promise<boolean> | undefined;
  sequelize.addHook('afterConnect', async (connection) => {
    galera ??= ask(connection as Raw, "SHOW GLOBAL VARIABLES LIKE 'wsrep_on'").then(
      (rows) => (rows as Array<{ Value?: string }>)[0]?.Value === 'ON',
      (error: unknown) => {
        galera = undefined;
        throw error;
      },
    );
    if (await galera) await ask(connection as Raw, `SET SESSION wsrep_sync_wait = 3, wsrep_retry_autocommit = ${CONFLICT_ATTEMPTS - 1}`);
  });
}

/** `original.code` of the ConnectionError a closed database answers with (see refusingOnceClosed). */
export const DATABASE_CLOSED = 'DATABASE_CLOSED';

/**
 * Sequelize refuses a connection once closed with a plain Error, its message its only sign
 * ("ConnectionManager.getConnection was called after the connection manager was closed!"): an
 * error page would answer that 500. Once a close is asked for (close() below, or a host's
 * sequelize.close()), the refusal is a ConnectionError with `original.code` DATABASE_CLOSED instead,
 * which says the database is gone (503).
 */
function refusingOnceClosed(sequelize: Sequelize): void {
  const manager = sequelize.connectionManager;
  const closeManager = manager.close.bind(manager);
  manager.close = () => {
    // Sequelize puts its own refusal in place as the close starts; ours replaces it in the same turn.
    const closing = closeManager();
    manager.getConnection = async () => {
      throw new ConnectionError(Object.assign(new Error('the database is closed'), { code: DATABASE_CLOSED }));
    };
    return closing;
  };
}

/** Opens the database, applies pending migrations and binds the models. `log` hears of retried transactions. */
export async function openDatabase(url: string, log?: LogSink): Promise<Database> {
  const sequelize = connect(url);
  const dialect = dialectOf(sequelize);
  refusingOnceClosed(sequelize);
  if (dialect === 'mysql') syncWaitOnGalera(sequelize);
  await prepare(sequelize, url);
  await migrate(sequelize);
  const turns = dialect === 'sqlite' ? new Turns() : null;
  if (turns) writesInTurns(sequelize, turns);
  // Plain statements (src/db/statements.ts): a transaction's BEGIN and COMMIT, and the lock and claim below.
  const target = { sequelize, dialect };
  plainTransactionStatements(target);
  const quote = (name: string) => sequelize.getQueryInterface().quoteIdentifier(name);
  /**
   * SELECT … FOR UPDATE locks the row on one node only, and an UPDATE that changes nothing is not
   * certified either (MariaDB, "Galera Cluster: Known Limitations"): on two nodes, two transactions
   * would both hold the "lock" and both commit. So on MariaDB/MySQL the row is changed and changed
   * back (updated_at a millisecond forward, then back): each change is one every node certifies, so
   * of two such transactions the second to commit loses the conflict and runs again, and the row
   * ends as it was. SQLite's transactions hold the whole file already.
   */
  const lock: Database['lock'] = async (model, id, t) => {
    if (dialect !== 'mysql') return;
    const table = quote(model.getTableName() as string);
    for (const sign of ['+', '-']) {
      await execute(target, `UPDATE ${table} SET updated_at = updated_at ${sign} INTERVAL 1000 MICROSECOND WHERE id = $1`, [id], t);
    }
  };
  // claim's read of each model: its every attribute by one plain statement (findByPk's, locking on MariaDB/MySQL).
  const claims = new Map<ModelStatic<Model>, { reader: PlainReader<Model>; sql: string }>();
  let closing: Promise<void> | undefined;
  const claimOf = (model: ModelStatic<Model>) => {
    let known = claims.get(model);
    if (!known) {
      const reader = new PlainReader(model, sequelize, 'r');
      known = { reader, sql: `SELECT ${reader.columns} FROM ${quote(model.getTableName() as string)} r WHERE r.id = $1${dialect === 'mysql' ? ' FOR UPDATE' : ''}` };
      claims.set(model, known);
    }
    return known;
  };
  return {
    sequelize,
    models: defineModels(sequelize),
    dialect,
    transaction: turns ? (work) => turns.transaction(sequelize, work, 'a transaction') : (work) => retryingConflicts(() => sequelize.transaction(work), log),
    inWriteTurn: turns ? (work) => turns.take(() => turns.within(work), 'a write through another handle') : (work) => work(),
    async claim<M extends Model>(model: ModelStatic<M>, id: number, t: Transaction) {
      await lock(model, id, t);
      const { reader, sql } = claimOf(model);
      const [row] = await select(target, sql, [id], t);
      return row ? (reader.read(row) as M | null) : null;
    },
    lock,
    close: () => (closing ??= sequelize.close()),
  };
}
