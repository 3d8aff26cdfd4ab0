import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { DATABASES, type TestDatabase } from '../support/databases';
import { startHarness, type Harness } from '../support/harness';
import { createLogger } from '../../src/lib/logger';
import { startWorker } from '../../src/mail/worker';
import { fileTransport, outboxDeliverer } from '../../src/mail/transport';
import type { Deliver } from '../../src/mail/outbox';
import { latestLinkToken, saveNoticeChoices } from '../support/accounts';
import { capturedLogger } from '../support/logs';
import { besideHeldTransaction } from '../support/held-transaction';
import sqlite3 from 'sqlite3';
import { sqliteStorage } from '../../src/db/connection';

/** The SQL of a plain statement (src/db/statements.ts) that marks delivered emails sent (Outbox's writeMarks), or null. */
const markOf = (query: unknown): string | null => {
  const { sql } = (query ?? {}) as { sql?: unknown };
  return typeof sql === 'string' && sql.startsWith("UPDATE outbox_messages SET status = 'sent'") ? sql : null;
};

for (const { name, create } of DATABASES) {
  describe(`outbox worker (${name})`, function () {
    let database: TestDatabase;
    let h: Harness;

    beforeEach(async function () {
      database = await create();
      h = await startHarness(database.url);
    });

    afterEach(async function () {
      await h.close();
      await database.drop();
    });

    /** `count` emails to different readers, queued in one transaction. */
    const queueEmails = (count: number) =>
      h.db.transaction(async (t) => {
        for (let i = 0; i < count; i++) {
          await h.domain.outbox.enqueueEmail(
            {
              template: 'password_set',
              to: `reader${i}@example.org`,
              locale: 'it',
              mailboxId: 1,
              collaboratorId: 1,
              payload: { firstName: 'Ada', lastName: `Rossi ${i}`, username: `ada${i}/studio@pec.example.it`, mailbox: 'studio@pec.example.it', accessLevel: 'read' },
            },
            t,
          );
        }
      });

    it('should drain a backlog of several batches at once, not one batch per tick', async function () {
      const total = 120; // the harness claims 50 per pass
      await queueEmails(total);
      // The next tick is an hour away: only the passes that follow a productive pass can deliver the rest.
      const worker = startWorker(h.domain.outbox, h.deliver, createLogger('silent'), 3_600_000);
      worker.poke();
      const sent = () => h.db.models.OutboxMessage.count({ where: { status: 'sent' } });
      const deadline = Date.now() + 20_000;
      while ((await sent()) < total && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      await worker.stop();
      expect(await sent()).to.equal(total);
    });

    it('should claim beside a transaction of this process without stalling it (SQLite: the claim waits in JavaScript, not on a thread of the pool)', async function () {
      await queueEmails(1);
      const { result: claimed, ms } = await besideHeldTransaction(h.db, () => h.domain.outbox.claim('email'));
      expect(claimed).to.have.length(1);
      // Stalled, it would last SQLite's busy timeout (10 s): the transaction had no thread left to finish on.
      expect(ms).to.be.below(3000);
    });

    it('should mark deliveries that end together sent in one statement, each with its own Message-ID', async function () {
      const total = 30;
      await queueEmails(total);
      const marks: number[] = [];
      // Each row of a mark has its WHEN (its Message-ID).
      h.db.sequelize.addHook('beforeQuery', 'count-marks', (_options, query) => {
        const sql = markOf(query);
        if (sql) marks.push(sql.split(' WHEN ').length - 1);
      });
      try {
        expect(await h.domain.outbox.runOnce(h.deliver)).to.equal(total);
      } finally {
        h.db.sequelize.removeHook('beforeQuery', 'count-marks');
      }
      expect(marks.reduce((a, b) => a + b, 0), 'every delivery marked once').to.equal(total);
      expect(marks.length, 'statements').to.be.below(total);
      const rows = await h.db.models.OutboxMessage.findAll({ where: { kind: 'email' } });
      expect(rows.map((r) => [r.status, r.messageId?.startsWith(`<outbox-${r.id}.`), r.leaseOwner])).to.deep.equal(rows.map(() => ['sent', true, null]));
    });

    it('should fail the pass once its deliveries end when a mark cannot be written, the rows left to their lease', async function () {
      const total = 12;
      await queueEmails(total);
      let delivered = 0;
      h.db.sequelize.addHook('beforeQuery', 'fail-marks', (_options, query) => {
        if (markOf(query)) throw new Error('database gone');
      });
      try {
        const counting: Deliver = async (message, secret) => {
          delivered += 1;
          return h.deliver(message, secret);
        };
        let failure: unknown = null;
        await h.domain.outbox.runOnce(counting).catch((error: unknown) => (failure = error));
        expect(String(failure)).to.include('database gone');
      } finally {
        h.db.sequelize.removeHook('beforeQuery', 'fail-marks');
      }
      expect(delivered, 'every lane went on to its next email').to.equal(total);
      const rows = await h.db.models.OutboxMessage.findAll({ where: { kind: 'email' } });
      expect(rows.map((r) => [r.status, r.leaseOwner !== null])).to.deep.equal(rows.map(() => ['queued', true]));
    });

    if (name === 'SQLite') {
      it("should read no more of the outbox a pass than its lane's due rows and the rows it claimed (SQLite's plans without statistics)", async function () {
        await queueEmails(30);
        const statements = new Set<string>();
        // Sequelize's queries have their SQL once run (afterQuery); plain statements tell it before (statements.ts).
        const collect = (_options: unknown, query: unknown) => {
          const { sql } = (query ?? {}) as { sql?: unknown };
          if (typeof sql === 'string' && /^(SELECT|UPDATE|DELETE)\b/.test(sql)) statements.add(sql);
        };
        h.db.sequelize.addHook('beforeQuery', 'collect', collect);
        h.db.sequelize.addHook('afterQuery', 'collect', collect);
        // The deliveries end five at a time (the harness's lanes), so that marks of several emails are written together.
        let waiting: Array<() => void> = [];
        const together: Deliver = async (message, secret) => {
          await new Promise<void>((resolve) => {
            waiting.push(resolve);
            if (waiting.length === 5) [waiting] = [[], waiting.forEach((go) => go())];
          });
          return h.deliver(message, secret);
        };
        try {
          expect(await h.domain.outbox.runOnce(together)).to.equal(30);
        } finally {
          h.db.sequelize.removeHook('beforeQuery', 'collect');
          h.db.sequelize.removeHook('afterQuery', 'collect');
        }
        // Plans come from the schema alone here (no ANALYZE): a plan read from a handle of its own is the app's.
        const handle = new sqlite3.Database(sqliteStorage(database.url));
        const plan = (sql: string) => new Promise<string[]>((resolve, reject) => handle.all(`EXPLAIN QUERY PLAN ${sql}`, (err, rows: Array<{ detail: string }>) => (err ? reject(err) : resolve(rows.map((row) => row.detail)))));
        try {
          const reads = (await Promise.all([...statements].map(async (sql) => (await plan(sql)).filter((step) => /\boutbox_messages\b|\bOutboxMessage\b/.test(step)).map((step) => `${step}  ← ${sql.slice(0, 90)}`)))).flat();
          expect(reads.length, 'statements read the outbox').to.be.above(0);
          // By id, or by the range of the lane's due rows: never by the index on kind alone, every email ever queued.
          const unbounded = reads.filter((read) => !/USING INTEGER PRIMARY KEY|USING INDEX outbox_lane_status \(kind=\? AND status=\?/.test(read));
          expect(unbounded).to.deep.equal([]);
        } finally {
          await new Promise((resolve) => handle.close(resolve));
        }
      });
    }

    describe('failed deliveries in the log', function () {
      /** Queues an invitation (an email carrying a link) and returns the link's token. */
      async function queuedInvitation(): Promise<string> {
        const mailbox = await h.mailbox('studio.rossi@pec.example.it');
        // The owner's notice of the failure would be one more row: this test is about the invitation's attempts.
        await saveNoticeChoices(h, mailbox, { address: '', events: [], delivery: 'immediate', digestHour: '0' });
        const input = { firstName: 'Mario', lastName: 'Rossi', username: 'mario.rossi', referenceEmail: 'mario@example.com', accessLevel: 'read' as const, manageSettings: false };
        const c = await h.domain.collaborations.create(mailbox, input, { actor: { type: 'owner', id: mailbox.id, name: mailbox.address } });
        return latestLinkToken(h, c);
      }

      /** Runs one worker pass per attempt the harness allows (5), moving the clock past each backoff. */
      async function everyAttempt(deliver: Deliver, logger: ReturnType<typeof createLogger>): Promise<void> {
        const worker = startWorker(h.domain.outbox, deliver, logger, 3_600_000);
        for (let attempt = 1; attempt <= 5; attempt++) {
          await worker.poke();
          h.clock.advance(120_000);
        }
        await worker.stop();
      }

      it('should log each failed attempt as a warning with the reason, and the last one as an error (the mail folder unusable)', async function () {
        await queuedInvitation();
        const { logger, lines } = capturedLogger();
        // The file outbox in a folder that cannot be made: a regular file stands where it should be.
        const blocker = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pec-blocked-')), 'mail');
        fs.writeFileSync(blocker, '');
        try {
          await everyAttempt(outboxDeliverer(h.config, fileTransport(path.join(blocker, 'outbox'), h.config.mailFrom)), logger);
        } finally {
          fs.rmSync(path.dirname(blocker), { recursive: true, force: true });
        }
        const failures = lines.filter((line) => line.outbox);
        expect(failures.map((line) => [line.level, line.outbox?.attempt])).to.deep.equal([[40, 1], [40, 2], [40, 3], [40, 4], [50, 5]]);
        for (const line of failures) {
          expect(line.outbox?.reason).to.match(/^(ENOTDIR|EEXIST): /);
          expect(line.outbox?.template).to.equal('invitation');
        }
        expect(failures.slice(0, 4).every((line) => line.outbox?.retryAt !== null)).to.equal(true);
        expect(failures[4]?.outbox?.retryAt).to.equal(null);
        expect((await h.db.models.OutboxMessage.findAll()).map((m) => m.status)).to.deep.equal(['failed']);
      });

      it('should keep the link out of the log line and of the stored reason when the server quotes it', async function () {
        const token = await queuedInvitation();
        const { logger, lines, raw } = capturedLogger();
        const quoting: Deliver = async (_message, secret) => {
          throw new Error(`550 5.7.1 message refused, it contains ${secret} and ${secret?.slice(secret.lastIndexOf('/') + 1)}`);
        };
        await everyAttempt(quoting, logger);
        expect(lines.filter((line) => line.outbox)).to.have.length(5);
        expect(raw.join('')).not.to.include(token);
        expect(lines[0]?.outbox?.reason).to.include('550 5.7.1 message refused');
        const stored = await h.db.models.OutboxMessage.findOne();
        expect(stored?.lastError).to.include('550 5.7.1').and.not.include(token);
      });
    });
  });
}
