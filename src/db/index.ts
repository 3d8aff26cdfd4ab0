import type { Sequelize, Transaction } from 'sequelize';
import { connect, dialectOf, prepare, type Dialect } from './connection';
import { migrate } from './migrate';
import { defineModels, type Models } from '../models';

export interface Database {
  sequelize: Sequelize;
  models: Models;
  dialect: Dialect;
  transaction<T>(work: (t: Transaction) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * SQLite has one writer at a time. Waiting for the write lock inside SQLite would hold one of
 * libuv's few threads per waiting transaction, and the transaction that holds the lock needs a
 * thread to finish: so this process queues its own transactions in JavaScript instead.
 */
function oneAtATime(run: <T>(work: (t: Transaction) => Promise<T>) => Promise<T>): Database['transaction'] {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: (t: Transaction) => Promise<T>) => {
    const next = tail.then(() => run(work));
    tail = next.catch(() => undefined);
    return next;
  };
}

/** Opens the database, applies pending migrations and binds the models. */
export async function openDatabase(url: string): Promise<Database> {
  const sequelize = connect(url);
  await prepare(sequelize, url);
  await migrate(sequelize);
  const dialect = dialectOf(sequelize);
  const transaction = <T>(work: (t: Transaction) => Promise<T>) => sequelize.transaction(work);
  return {
    sequelize,
    models: defineModels(sequelize),
    dialect,
    transaction: dialect === 'sqlite' ? oneAtATime(transaction) : transaction,
    close: () => sequelize.close(),
  };
}
