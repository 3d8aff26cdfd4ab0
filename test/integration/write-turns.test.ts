import { expect } from 'chai';
import type session from 'express-session';
import { UniqueConstraintError } from 'sequelize';
import { DATABASES, type TestDatabase } from '../support/databases';
import { besideHeldTransaction } from '../support/held-transaction';
import { openDatabase, type Database } from '../../src/db';
import { select } from '../../src/db/statements';
import { DatabaseSessionStore } from '../../src/shell/session-store';
import { sessionKey } from '../../src/domain/sessions';

const HOUR_MS = 60 * 60 * 1000;
/** Session data as express-session hands it to its store, for a session without an expiry of its own. */
const sessionData = (note: string) => ({ cookie: { originalMaxAge: null }, note }) as unknown as session.SessionData;

/** Writes sent outside a transaction, beside this process's transactions (src/db/index.ts, Turns). */
for (const { name, create } of DATABASES) {
  describe(`Writes outside a transaction (${name})`, function () {
    this.timeout(30_000);
    let database: TestDatabase;
    let db: Database;
    let store: DatabaseSessionStore;

    before(async function () {
      database = await create();
      db = await openDatabase(database.url);
      store = new DatabaseSessionStore(db, HOUR_MS);
    });

    after(async function () {
      store?.close();
      await db?.close();
      await database?.drop();
    });

    const saved = (sid: string) => new Promise<void>((resolve, reject) => store.set(sid, sessionData(sid), (err) => (err ? reject(err) : resolve())));
    const stored = async (sid: string) => (await select<{ data: string }>(db, 'SELECT data FROM sessions WHERE sid = $1', [sessionKey(sid)]))[0]?.data ?? null;

    it('should save a session beside a transaction of this process and reads under way without stalling them (SQLite: it waits in JavaScript, not on a thread of the pool)', async function () {
      const { ms } = await besideHeldTransaction(db, () => saved('beside'));
      // Stalled, it would last SQLite's busy timeout (10 s): the transaction had no thread left to finish on.
      expect(ms).to.be.below(3000);
      expect(await stored('beside')).to.include('"note":"beside"');
    });

    it('should run SQL that writes, and a model’s update and destroy, beside a transaction without stalling it', async function () {
      await saved('raw');
      await saved('gone');
      const { ms } = await besideHeldTransaction(db, () =>
        Promise.all([
          db.sequelize.query('UPDATE sessions SET ip = ? WHERE sid = ?', { replacements: ['192.0.2.1', sessionKey('raw')] }),
          db.models.Session.update({ userAgent: 'agent' }, { where: { sid: sessionKey('raw') } }),
          db.models.Session.destroy({ where: { sid: sessionKey('gone') } }),
        ]),
      );
      expect(ms).to.be.below(3000);
      const [row] = await select<{ ip: string; user_agent: string }>(db, 'SELECT ip, user_agent FROM sessions WHERE sid = $1', [sessionKey('raw')]);
      expect([row?.ip, row?.user_agent]).to.deep.equal(['192.0.2.1', 'agent']);
      expect(await stored('gone')).to.equal(null);
    });

    it('should keep each write one statement with its own errors: a second insert of a key fails alone', async function () {
      await db.models.Session.create({ sid: sessionKey('twice'), data: 'first', expires: null, principal: null, ip: null, userAgent: null });
      const again = db.models.Session.create({ sid: sessionKey('twice'), data: 'second', expires: null, principal: null, ip: null, userAgent: null });
      expect(await again.then(() => null, (error: unknown) => error)).to.be.instanceOf(UniqueConstraintError);
      expect(await stored('twice')).to.equal('first');
    });

    it('should let what a transaction leaves running after COMMIT write as anyone else', async function () {
      await saved('after');
      let later: Promise<number> | undefined;
      await db.transaction(async (t) => {
        t.afterCommit(() => {
          later = db.models.Session.destroy({ where: { sid: sessionKey('after') } });
        });
      });
      expect(await later).to.equal(1);
    });

    // SQLite only: on MariaDB/MySQL writes are not queued in this process, so nothing waits for itself.
    if (name === 'SQLite') it('should refuse at once a write without the transaction from inside its work (it would wait for that transaction for ever)', async function () {
      await saved('inside');
      const started = Date.now();
      const refusals = await db.transaction(async (t) => {
        const tried = [
          db.models.Session.destroy({ where: { sid: sessionKey('inside') } }),
          db.sequelize.query('DELETE FROM sessions WHERE sid = ?', { replacements: [sessionKey('inside')] }),
          db.transaction(async () => undefined),
          db.inWriteTurn(async () => undefined),
        ];
        const errors = await Promise.all(tried.map((p) => p.then(() => null, (error: unknown) => error)));
        // The work goes on, and what it writes in its transaction is kept.
        await db.models.Session.update({ ip: '192.0.2.2' }, { where: { sid: sessionKey('inside') }, transaction: t });
        return errors;
      });
      expect(Date.now() - started).to.be.below(1000);
      for (const error of refusals) expect(String((error as Error | null)?.message)).to.match(/asked from inside a transaction's work/);
      const [row] = await select<{ ip: string }>(db, 'SELECT ip FROM sessions WHERE sid = $1', [sessionKey('inside')]);
      expect(row?.ip).to.equal('192.0.2.2');
    });
  });
}
