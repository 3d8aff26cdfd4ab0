import type { Database } from '../../src/db';
import { execute, select } from '../../src/db/statements';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `write` outside any transaction, as a request would, while a transaction of this process
 * holds the database (on SQLite, BEGIN IMMEDIATE took the write lock) and reads outside it are under
 * way, as the session reads of the requests in flight; the transaction then writes and commits.
 * Resolves with what `write` gave and how long it all took (ms). On SQLite a write that waited for the
 * lock inside SQLite (its busy handler, on a thread of libuv's pool, holding the `default` handle the
 * reads wait for) left the transaction no thread to finish on: it all took the busy timeout (10 s).
 */
export async function besideHeldTransaction<T>(db: Database, write: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = Date.now();
  let begin = () => {};
  let release = () => {};
  const begun = new Promise<void>((resolve) => (begin = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  const held = db.transaction(async (t) => {
    begin();
    await released;
    await execute(db, 'UPDATE collaborator_lists SET version = version + 1', [], t);
  });
  await begun;
  const written = write();
  await pause(200);
  const reads = Promise.all([1, 2, 3].map(() => select(db, 'SELECT 1 AS one', [])));
  await pause(200);
  release();
  await held;
  await reads;
  return { result: await written, ms: Date.now() - started };
}
