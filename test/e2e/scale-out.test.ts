import { expect } from 'chai';
import { Op } from 'sequelize';
import { DATABASES, type TestDatabase } from '../support/databases';
import { GOOD_PASSWORD, OWNER_PASSWORD } from '../support/harness';
import { SmtpSink, linkIn } from '../support/smtp-sink';
import { freePort } from '../support/faulty-smtp';
import { AppProcess, waitForHttp } from '../support/processes';
import { Client, inParallel, ownerAcross, resetEach, tally } from '../support/web-client';
import { mailboxWithActiveCollaborators } from '../support/seed';
import type { Database } from '../../src/db';

const MAILBOX = 'studio.grande@pec.example.it';
const COLLABORATORS = 500;
const CONCURRENCY = 8;
const SESSION_SECRET = 'scale-out session secret, 32 characters or more';

const mariadb = DATABASES.find((d) => d.name === 'MariaDB');

if (!mariadb) {
  console.log('  Scale-out (test/e2e/scale-out.test.ts) did not run: it needs MariaDB, set TEST_MYSQL_URL');
} else {
  describe('Scale-out: two app processes and two workers on one MariaDB', function () {
    this.timeout(180_000);
    let database: TestDatabase;
    let db: Database;
    let sink: SmtpSink;
    const processes: AppProcess[] = [];
    const origins: string[] = [];

    before(async function () {
      database = await mariadb.create();
      db = await mailboxWithActiveCollaborators(database.url, MAILBOX, COLLABORATORS);

      sink = await new SmtpSink().start();
      const env = {
        NODE_ENV: 'production',
        DATABASE_URL: database.url,
        SMTP_URL: sink.url,
        SESSION_SECRET,
        // Production takes plain http only on loopback.
        BASE_URL: 'http://127.0.0.1',
        BCRYPT_COST: '4',
        WORKER: 'off',
        LOG_LEVEL: 'warn',
        // One owner resets 500 collaborators here: far over the default sending limit of a mailbox.
        MAIL_LIMIT_PER_MAILBOX: '1000',
      };
      const ports = [await freePort(), await freePort()];
      for (const [i, port] of ports.entries()) {
        processes.push(AppProcess.server(`app ${i + 1}`, { ...env, PORT: String(port) }));
        origins.push(`http://127.0.0.1:${port}`);
      }
      processes.push(AppProcess.worker('worker 1', env), AppProcess.worker('worker 2', env));
      await Promise.all(origins.map((origin) => waitForHttp(`${origin}/healthz`)));
    });

    after(async function () {
      await Promise.all(processes.map((p) => p.stop()));
      await sink?.stop();
      await db?.close();
      await database?.drop();
    });

    /** Waits until no email is waiting or retrying; returns how many were sent. */
    async function drained(expected: number): Promise<number> {
      const { OutboxMessage } = db.models;
      const deadline = Date.now() + 90_000;
      for (;;) {
        const waiting = await OutboxMessage.count({ where: { status: { [Op.in]: ['queued', 'retrying'] } } });
        const sent = await OutboxMessage.count({ where: { status: 'sent' } });
        if (waiting === 0 && sent >= expected && sink.received.length >= expected) return sent;
        if (Date.now() > deadline) throw new Error(`outbox not drained: ${waiting} waiting, ${sent} sent, ${sink.received.length} received`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }

    it('should deliver every one of 500 resets issued across both app processes once, each link working once', async function () {
      // The session lives in the database: the same cookie and token serve both processes.
      const owner = await ownerAcross(origins, MAILBOX, OWNER_PASSWORD);

      const t0 = Date.now();
      const ids = (await db.models.Collaborator.findAll({ attributes: ['id'], order: [['id', 'ASC']] })).map((c) => c.id);
      const answers = await resetEach(owner, origins, ids, CONCURRENCY);
      const statuses = tally(answers);
      expect(statuses, `resets answered (app output: ${processes.flatMap((p) => p.output.slice(-5)).join('\n')})`).to.deep.equal({ 303: COLLABORATORS });
      expect(await db.models.Collaborator.count({ where: { status: 'suspended' } })).to.equal(COLLABORATORS);

      const resetSeconds = (Date.now() - t0) / 1000;
      expect(await drained(COLLABORATORS)).to.equal(COLLABORATORS);
      const drainSeconds = (Date.now() - t0) / 1000 - resetSeconds;
      const resets = [...sink.received];
      const messageIds = new Set(resets.map((m) => m.messageId));
      const recipients = new Set(resets.map((m) => m.to[0]));
      // Lost: a suspended collaborator whose reference address got no email; duplicated: any email beyond one each.
      const suspended = await db.models.Collaborator.findAll({ attributes: ['referenceEmail'], where: { status: 'suspended' } });
      const lost = suspended.filter((c) => !recipients.has(c.referenceEmail)).length;
      const duplicated = resets.length - recipients.size;
      console.log(`      scale-out: ${resets.length} emails delivered, ${messageIds.size} distinct Message-IDs; lost ${lost}, duplicated ${duplicated} (resets ${resetSeconds}s, drained ${drainSeconds.toFixed(1)}s later)`);
      expect(lost, 'collaborators left without their email').to.equal(0);
      expect(duplicated, 'emails beyond one per collaborator').to.equal(0);
      expect(resets, 'emails received').to.have.length(COLLABORATORS);
      expect(messageIds.size, 'distinct Message-IDs').to.equal(COLLABORATORS);
      expect(recipients.size, 'distinct recipients').to.equal(COLLABORATORS);
      const rows = await db.models.OutboxMessage.findAll({ where: { template: 'owner_reset' } });
      expect(rows.every((r) => r.status === 'sent' && r.secret === null && messageIds.has(r.messageId as string))).to.equal(true);

      const used = await inParallel(resets, CONCURRENCY, async (mail, i) => {
        const path = new URL(linkIn(mail)).pathname;
        const [here, there] = i % 2 === 0 ? origins : [origins[1], origins[0]];
        const person = new Client();
        const open = await person.request(here as string, path);
        if (open.status !== 303 || open.location !== '/password/new') return `open ${open.status}`;
        const form = await person.request(there as string, '/password/new');
        if (form.status !== 200) return `form ${form.status}`;
        const set = await person.request(here as string, '/password/new', { method: 'POST', form: { password: GOOD_PASSWORD, passwordConfirmation: GOOD_PASSWORD } });
        if (set.status !== 200) return `set ${set.status}`;
        const replay = new Client();
        await replay.request(there as string, path);
        const again = await replay.request(here as string, '/password/new');
        return again.status === 410 ? 'once' : `second use ${again.status}`;
      });
      const verdicts = used.reduce<Record<string, number>>((count, v) => ({ ...count, [v]: (count[v] ?? 0) + 1 }), {});
      expect(verdicts).to.deep.equal({ once: COLLABORATORS });
      expect(await db.models.Collaborator.count({ where: { status: 'active' } })).to.equal(COLLABORATORS);
      expect(await db.models.Link.count({ where: { usedAt: null, revokedAt: null } })).to.equal(0);

      // The confirmations go out too, and still nothing twice.
      await drained(2 * COLLABORATORS);
      expect(sink.received).to.have.length(2 * COLLABORATORS);
      expect(new Set(sink.received.map((m) => m.messageId)).size).to.equal(2 * COLLABORATORS);
    });
  });
}
