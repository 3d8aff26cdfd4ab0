import { expect } from 'chai';
import sqlite3 from 'sqlite3';
import { DATABASES, type TestDatabase } from '../support/databases';
import { openDatabase, type Database } from '../../src/db';
import { execute, select } from '../../src/db/statements';
import { ConfiguredDatabase, sqlDate, sqliteStorage } from '../../src/db/connection';

/** `sql` on a handle of its own (as another process's, or a mail server's), its rows. */
function onOtherHandle(handle: sqlite3.Database, sql: string): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => handle.all(sql, (err: Error | null, rows: Array<Record<string, unknown>>) => (err ? reject(err) : resolve(rows))));
}

for (const { name, create } of DATABASES) {
  describe(`Plain statements on the transaction's own connection (${name})`, function () {
    this.timeout(30_000);
    let database: TestDatabase;
    let db: Database;

    before(async function () {
      database = await create();
      db = await openDatabase(database.url);
      await db.sequelize.query('CREATE TABLE plain_things (id INTEGER PRIMARY KEY, label VARCHAR(20), amount INTEGER, at DATETIME(3) NULL)');
    });

    after(async function () {
      await db?.close();
      await database?.drop();
    });

    it('should bind each $n to its value wherever it first appears, and the same $n twice to one value', async function () {
      await db.transaction(async (t) => {
        await execute(db, 'INSERT INTO plain_things (amount, label, id) VALUES ($3, $2, $1)', [1, 'uno', 10], t);
        await execute(db, 'INSERT INTO plain_things (amount, label, id) VALUES ($3, $2, $1)', [2, 'due', 20], t);
      });
      const rows = await select<{ id: number; label: string; amount: number }>(db, 'SELECT id, label, amount FROM plain_things WHERE amount = $2 OR id = $1 OR amount = $2 ORDER BY id', [1, 20]);
      expect(rows.map((r) => [Number(r.id), r.label, Number(r.amount)])).to.deep.equal([
        [1, 'uno', 10],
        [2, 'due', 20],
      ]);
    });

    it('should say how many rows a statement changed, and see the transaction’s own writes before it commits', async function () {
      await db.transaction(async (t) => {
        expect(await execute(db, 'UPDATE plain_things SET amount = amount + $1 WHERE id IN ($2, $3)', [5, 1, 2], t)).to.equal(2);
        expect(await execute(db, 'UPDATE plain_things SET amount = 0 WHERE id = $1', [99], t)).to.equal(0);
        const [row] = await select<{ amount: number }>(db, 'SELECT amount FROM plain_things WHERE id = $1', [1], t);
        expect(Number(row?.amount)).to.equal(15);
      });
    });

    it('should write an instant as Sequelize writes a DATE(3), and leave nothing behind when the transaction fails', async function () {
      const at = new Date('2026-03-01T09:00:00.123Z');
      await db.transaction((t) => execute(db, 'UPDATE plain_things SET at = $1 WHERE id = $2', [at, 1], t));
      const failing = db.transaction(async (t) => {
        await execute(db, 'UPDATE plain_things SET label = $1 WHERE id = $2', ['tre', 1], t);
        await execute(db, 'INSERT INTO plain_things (id, label) VALUES ($1, $2)', [2, 'doppio'], t);
      });
      expect(await failing.then(() => null, (error: unknown) => error)).to.be.instanceOf(Error);
      const [row] = await select<{ label: string; at: unknown }>(db, 'SELECT label, at FROM plain_things WHERE id = $1', [1]);
      expect(row?.label).to.equal('uno');
      const stored = row?.at instanceof Date ? sqlDate(db.dialect, row.at) : row?.at;
      expect(stored).to.equal(sqlDate(db.dialect, at));
    });

    it('should refuse a statement in a transaction already committed', async function () {
      let done: Parameters<Parameters<Database['transaction']>[0]>[0] | undefined;
      await db.transaction(async (t) => {
        done = t;
      });
      const refused = await execute(db, 'UPDATE plain_things SET amount = 1 WHERE id = $1', [1], done as NonNullable<typeof done>).catch((error: unknown) => error);
      expect(String(refused)).to.match(/commit has been called on this transaction/);
    });

    it('should let Sequelize’s beforeQuery hooks hear of each statement, with its values', async function () {
      const heard: unknown[] = [];
      db.sequelize.addHook('beforeQuery', 'heard', (options: { bind?: unknown }) => void heard.push(options.bind));
      try {
        await db.transaction((t) => execute(db, 'UPDATE plain_things SET label = $1 WHERE id = $2', ['uno', 1], t));
      } finally {
        db.sequelize.removeHook('beforeQuery', 'heard');
      }
      // BEGIN (and MariaDB's isolation level), the UPDATE, COMMIT.
      expect(heard).to.deep.include(['uno', 1]);
      expect(heard.length).to.equal(db.dialect === 'sqlite' ? 3 : 4);
    });

    it('should keep each value one value, whatever it holds, and refuse a list or an object', async function () {
      const tricky = "l'a\\' OR 1=1 -- ?$1";
      await db.transaction((t) => execute(db, 'INSERT INTO plain_things (id, label, amount) VALUES ($1, $2, $3)', [30, tricky, 3], t));
      const rows = await select<{ label: string; amount: number }>(db, 'SELECT label, amount FROM plain_things WHERE label = $1 AND id = $2', [tricky, 30]);
      expect(rows.map((r) => [r.label, Number(r.amount)])).to.deep.equal([[tricky, 3]]);
      for (const value of [[1, 2], { id: 1 }]) {
        const refused = await select(db, 'SELECT label FROM plain_things WHERE id IN ($1)', [value]).catch((error: unknown) => error);
        expect(refused).to.be.instanceOf(TypeError);
      }
    });

    if (name === 'MariaDB') {
      it('should send each statement as text, none prepared on the server', async function () {
        await db.transaction(async (t) => {
          const prepared = async () => Number((await select<{ Value: string }>(db, "SHOW SESSION STATUS LIKE 'Com_stmt_prepare'", [], t))[0]?.Value);
          const before = await prepared();
          await select(db, 'SELECT label FROM plain_things WHERE id = $1', [1], t);
          await execute(db, 'UPDATE plain_things SET amount = $1 WHERE id = $2', [4, 1], t);
          expect(await prepared()).to.equal(before);
        });
      });
    }

    if (name === 'SQLite') {
      it('should send BEGIN and COMMIT again when SQLite answers SQLITE_BUSY (another process holding the write lock past the busy timeout)', async function () {
        const busy = new Set(['BEGIN', 'COMMIT']);
        const sent: string[] = [];
        db.sequelize.addHook('beforeQuery', 'busy', (_options, query) => {
          const word = String((query as { sql?: string }).sql ?? '').split(' ')[0]?.replace(';', '') ?? '';
          sent.push(word);
          // Each refused once, as SQLite refuses a statement while another process holds the lock.
          if (busy.delete(word)) throw Object.assign(new Error('SQLITE_BUSY: database is locked'), { code: 'SQLITE_BUSY' });
        });
        try {
          await db.transaction((t) => execute(db, 'UPDATE plain_things SET label = $1 WHERE id = $2', ['busy', 1], t));
        } finally {
          db.sequelize.removeHook('beforeQuery', 'busy');
        }
        expect(sent).to.deep.equal(['BEGIN', 'BEGIN', 'UPDATE', 'COMMIT', 'COMMIT']);
        const [row] = await select<{ label: string }>(db, 'SELECT label FROM plain_things WHERE id = $1', [1]);
        expect(row?.label).to.equal('busy');
      });
    }

    if (name === 'SQLite') {
      describe('statements kept prepared on each connection', function () {
        let other: sqlite3.Database;

        before(async function () {
          other = await new Promise<sqlite3.Database>((resolve, reject) => {
            const handle = new sqlite3.Database(sqliteStorage(database.url), (err) => (err ? reject(err) : resolve(handle)));
          });
          other.configure('busyTimeout', 5_000);
        });

        after(async function () {
          await new Promise((resolve) => other.close(resolve));
        });

        /** Another handle's write, then a checkpoint that must move the whole WAL into the file and empty it. */
        async function writeAndTruncate(amount: number): Promise<{ busy: number }> {
          await onOtherHandle(other, `UPDATE plain_things SET amount = ${amount} WHERE id = 2`);
          const [checkpoint] = await onOtherHandle(other, 'PRAGMA wal_checkpoint(TRUNCATE)');
          return { busy: Number(checkpoint?.busy) };
        }

        it('should hold no read snapshot once a SELECT has run: another handle checkpoints, and the next run sees its write', async function () {
          const read = () => select<{ amount: number }>(db, 'SELECT amount FROM plain_things WHERE id = $1', [2]);
          await read();
          expect(await writeAndTruncate(41)).to.deep.equal({ busy: 0 });
          expect(Number((await read())[0]?.amount)).to.equal(41);
        });

        it('should hold no read snapshot once a SELECT has run by execute (it stops at its first row, and is then reset)', async function () {
          await db.transaction((t) => execute(db, 'SELECT id FROM plain_things WHERE id > $1', [0], t));
          expect(await writeAndTruncate(42)).to.deep.equal({ busy: 0 });
          const [row] = await db.transaction((t) => select<{ amount: number }>(db, 'SELECT amount FROM plain_things WHERE id = $1', [2], t));
          expect(Number(row?.amount)).to.equal(42);
        });

        it('should commit once a write that answers rows (RETURNING) has run by execute', async function () {
          await db.transaction((t) => execute(db, 'UPDATE plain_things SET label = $1 WHERE id > $2 RETURNING id', ['kept', 0], t));
          expect(await writeAndTruncate(43)).to.deep.equal({ busy: 0 });
          const [row] = await select<{ label: string }>(db, 'SELECT label FROM plain_things WHERE id = $1', [1]);
          expect(row?.label).to.equal('kept');
        });

        it('should answer each of many runs of one statement at once with its own rows, and each write with its own count', async function () {
          const ids = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 1 : 2));
          const rows = await Promise.all(ids.map((id) => select<{ id: number }>(db, 'SELECT id FROM plain_things WHERE id = $1', [id])));
          expect(rows.map(([row]) => Number(row?.id))).to.deep.equal(ids);
          const counts = await db.transaction((t) => Promise.all(ids.map((id) => execute(db, 'UPDATE plain_things SET amount = amount WHERE id = $1 AND $2 = 1', [id, id], t))));
          expect(counts).to.deep.equal(ids.map((id) => (id === 1 ? 1 : 0)));
        });

        it('should see a schema changed since the statement was prepared', async function () {
          const read = () => select<Record<string, unknown>>(db, 'SELECT * FROM plain_things WHERE id = $1', [1]);
          expect(await read()).to.have.length(1);
          await onOtherHandle(other, 'ALTER TABLE plain_things ADD COLUMN note VARCHAR(20)');
          const [row] = await read();
          expect(row).to.have.property('note', null);
        });

        it('should refuse a statement SQLite cannot prepare, each run waiting for it, and prepare it again at the next', async function () {
          const refused = await Promise.all([1, 2].map(() => select(db, 'SELECT missing FROM plain_things', []).catch((error: unknown) => error)));
          for (const error of refused) expect(String(error)).to.match(/no such column: missing/);
          await onOtherHandle(other, 'ALTER TABLE plain_things ADD COLUMN missing INTEGER');
          expect(await select(db, 'SELECT missing FROM plain_things WHERE id = $1', [1])).to.deep.equal([{ missing: null }]);
        });

        it('should refuse a run on a connection already closed, as the driver does, instead of waiting for ever', async function () {
          const closed = await new Promise<ConfiguredDatabase>((resolve, reject) => {
            const handle: ConfiguredDatabase = new ConfiguredDatabase(sqliteStorage(database.url), sqlite3.OPEN_READWRITE, (err) => (err ? reject(err) : resolve(handle)));
          });
          await new Promise((resolve) => closed.close(resolve));
          const refused = await closed.runKept('SELECT 1 AS one', [], 'all').catch((error: unknown) => error);
          expect(String(refused)).to.match(/SQLITE_MISUSE: Database is closed/);
        });

        it('should close a connection asked to close while a statement runs, even when another is asked for before it closes', async function () {
          const closing = await new Promise<ConfiguredDatabase>((resolve, reject) => {
            const handle: ConfiguredDatabase = new ConfiguredDatabase(sqliteStorage(database.url), sqlite3.OPEN_READWRITE, (err) => (err ? reject(err) : resolve(handle)));
          });
          const running = closing.runKept('SELECT count(*) AS n FROM plain_things', [], 'all');
          // sqlite3 closes once no statement runs: a request still in flight may ask for one more meanwhile.
          const closed = new Promise<Error | null>((resolve) => closing.close(resolve));
          const late = closing.runKept('SELECT id FROM plain_things WHERE id = ?1', [1], 'all').then(
            ({ rows }) => rows,
            (error: Error) => error.message,
          );
          await running;
          await late;
          expect(String(await closed)).to.equal('null');
        });

        it('should close the database asked to close while the reads of requests still in flight run', async function () {
          const another = await openDatabase(database.url);
          const slow = '(WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r WHERE x < 200000) SELECT count(*) FROM r)';
          const reads: Array<Promise<unknown>> = [];
          // One request's read a turn, the close asked for after the fifth (the last has not reached its connection yet).
          for (let i = 0; i < 5; i += 1) {
            if (i > 0) await new Promise((resolve) => setImmediate(resolve));
            reads.push(select(another, `SELECT ${i} AS n, ${slow} AS c`, []));
          }
          const closed = another.close().then(
            () => 'closed',
            (error: Error) => error.message,
          );
          await Promise.allSettled(reads);
          expect(await closed).to.equal('closed');
        });

        it('should run more statements at once than a connection keeps, and close with those it kept', async function () {
          const another = await openDatabase(database.url);
          const answers = await Promise.all(Array.from({ length: 250 }, (_, i) => select<{ n: number }>(another, `SELECT $1 + ${i} AS n`, [1])));
          expect(answers.map(([row]) => row?.n)).to.deep.equal(Array.from({ length: 250 }, (_, i) => i + 1));
          await another.transaction((t) => execute(another, 'UPDATE plain_things SET amount = $1 WHERE id = $2', [7, 1], t));
          // SQLite refuses to close a handle with a statement not finalized (Sequelize's close would reject).
          await another.close();
          const [row] = await select<{ amount: number }>(db, 'SELECT amount FROM plain_things WHERE id = $1', [1]);
          expect(Number(row?.amount)).to.equal(7);
        });
      });
    }

    it('should go on with each result read outside a transaction in a turn of the event loop of its own', async function () {
      // A turn's number: one more at each check phase (a setImmediate that queues itself runs once a turn).
      let turn = 0;
      let ticking = true;
      const tick = () => {
        turn += 1;
        if (ticking) setImmediate(tick);
      };
      setImmediate(tick);
      try {
        // Sent together, they finish together (SQLite's on libuv's pool, MariaDB's on the pool's connections) and come back in one turn.
        const turns = await Promise.all(Array.from({ length: 30 }, (_, i) => select(db, 'SELECT label FROM plain_things WHERE id >= $1', [i]).then(() => turn)));
        expect(new Set(turns).size).to.equal(turns.length);
      } finally {
        ticking = false;
      }
    });
  });
}
