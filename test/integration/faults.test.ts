import fs from 'node:fs';
import { expect } from 'chai';
import request from 'supertest';
import { Op } from 'sequelize';
import type sqlite3 from 'sqlite3';
import { DATABASES, type TestDatabase } from '../support/databases';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, SESSION_SECRET, newCollaborator, startHarness, type Harness } from '../support/harness';
import { FaultySmtp, SilentServer, freePort, type Delivery, type SmtpBehaviour } from '../support/faulty-smtp';
import { AppProcess } from '../support/processes';
import { TcpProxy } from '../support/tcp-proxy';
import { withExpectedConsole } from '../support/console';
import { Trials } from '../support/trials';
import { sqliteStorage } from '../../src/db/connection';
import type { Database } from '../../src/db';
import type { Collaborator } from '../../src/models';
import { translator } from '../../src/i18n';
import { Outbox, type Deliver } from '../../src/mail/outbox';
import { Sealer } from '../../src/lib/secrets';
import { redactor } from '../../src/mail/redact';
import { TestClock } from '../support/clock';
import { linkToken, reload, setPasswordByLink, saveNoticeChoices } from '../support/accounts';

const MAILBOX = 'studio.gialli@pec.example.it';
const UNAVAILABLE = translator('it')('errorPage.unavailable');

/** Every fault injected in this file, counted for SECURITY.md. */
const faults = new Trials();
/** How many times each email followed through a fault was delivered, as its test measured it. */
const deliveries: number[] = [];

/** Records a measured delivery count and gives it back, for the test to assert. */
function followed(count: number): number {
  deliveries.push(count);
  return count;
}

/**
 * What the libraries print when the database goes away under a request, and nothing else: Sequelize
 * cannot roll back on the dead connection (the database drops the transaction itself), and
 * express-session, failing to save the session once the 503 page is out, hands its error to Express's
 * last-resort console log.
 */
const OUTAGE_REPORTS = [
  /^Rolling back transaction \S+ failed with error "(SQLITE_MISUSE: Database is closed|Can't add new command when connection is in closed state)"/,
  /^ConnectionError \[SequelizeConnectionError\]: (SQLITE_CANTOPEN: unable to open database file|Connection lost: The server closed the connection)/,
];

/**
 * SQLite lives inside the process: it "goes away" when its file can no longer be opened and the
 * handles on it fail. At the moment the app sends a query whose parameters contain the marker, this
 * closes every handle Sequelize holds (the open transaction's included: SQLite rolls it back) and
 * puts a directory where the file was, so that reopening fails, until `up()` puts the file back.
 */
class SqliteOutage {
  private marker: string | null = null;
  private readonly file: string;

  constructor(private readonly db: Database, url: string) {
    this.file = sqliteStorage(url);
    db.sequelize.addHook('beforeQuery', 'sqlite-outage', (options: { bind?: unknown }) => {
      if (this.marker && JSON.stringify(options.bind ?? null).includes(this.marker)) this.down();
    });
  }

  private get handles(): Record<string, sqlite3.Database> {
    return (this.db.sequelize.connectionManager as unknown as { connections: Record<string, sqlite3.Database> }).connections;
  }

  cutWhen(marker: string): void {
    this.marker = marker;
  }

  private down(): void {
    this.marker = null;
    for (const suffix of ['', '-wal', '-shm']) if (fs.existsSync(this.file + suffix)) fs.renameSync(this.file + suffix, `${this.file}${suffix}.away`);
    fs.mkdirSync(this.file);
    this.dropHandles();
  }

  up(): void {
    fs.rmdirSync(this.file);
    for (const suffix of ['', '-wal', '-shm']) if (fs.existsSync(`${this.file}${suffix}.away`)) fs.renameSync(`${this.file}${suffix}.away`, this.file + suffix);
  }

  private dropHandles(): void {
    for (const [key, handle] of Object.entries(this.handles)) {
      // Sequelize closes them again later, without a callback: that must not crash the process.
      handle.on('error', () => undefined);
      handle.close(() => undefined);
      delete this.handles[key];
    }
  }
}

for (const { name, create } of DATABASES) {
  describe(`Faults (${name})`, function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let h: Harness;
    let owner: Browser;
    let sink: FaultySmtp;
    let smtpPort: number;
    let proxy: TcpProxy | null = null;
    faults.creditEachTest();

    before(async function () {
      database = await create();
      let url = database.url;
      if (name === 'MariaDB') {
        // The app reaches MariaDB through a proxy that the test can cut.
        const target = new URL(database.url);
        proxy = await new TcpProxy(target.hostname, Number(target.port || 3306)).start();
        target.port = String(proxy.port);
        url = target.toString();
      }
      smtpPort = await freePort();
      sink = await new FaultySmtp().start(smtpPort);
      h = await startHarness(url, { SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, SMTP_TIMEOUT_MS: '500' });
      // The owner's notices are emails too; these tests count the collaborator's alone.
      await saveNoticeChoices(h, await h.mailbox(MAILBOX), { address: '', events: [], delivery: 'immediate', digestHour: '0' });
      owner = new Browser(h.app);
      await owner.signIn(MAILBOX, OWNER_PASSWORD);
      await owner.get('/settings/collaborations');
    });

    after(async function () {
      await sink.stop();
      await h.close();
      await proxy?.stop();
      await database.drop();
      if (name !== DATABASES[DATABASES.length - 1]?.name) return;
      const lost = deliveries.filter((n) => n === 0).length;
      const duplicated = deliveries.reduce((sum, n) => sum + Math.max(0, n - 1), 0);
      console.log(
        `      faults: ${faults.tried} injected over ${DATABASES.length} database(s), ${faults.handled} by passing tests; ` +
          `${deliveries.length} emails followed through them: ${lost} lost, ${duplicated} duplicated`,
      );
    });

    let serial = 0;
    /** An active collaborator, its invitation and confirmation delivered through the working sink. */
    async function activeCollaborator(): Promise<Collaborator> {
      serial += 1;
      const username = `user.${serial}`;
      sink.behaviour = { kind: 'accept' };
      expect((await owner.post('/settings/collaborations', newCollaborator({ username, referenceEmail: `${username}@example.com` }))).status).to.equal(303);
      const c = (await h.db.models.Collaborator.findOne({ where: { username: `${username}/${MAILBOX}` } })) as Collaborator;
      expect(await h.drain()).to.equal(1);
      const invitation = sink.delivered.find((d) => d.to === `${username}@example.com`) as Delivery;
      expect((await setPasswordByLink(h, linkToken(invitation.text), GOOD_PASSWORD)).res.status).to.equal(200);
      expect(await h.drain()).to.equal(1);
      return c;
    }

    const resetEmail = (c: Collaborator) => h.db.models.OutboxMessage.findOne({ where: { collaboratorId: c.id, template: 'owner_reset' }, order: [['id', 'DESC']] });
    const deliveriesOf = (messageId: string) => sink.delivered.filter((d) => d.messageId === messageId).length;

    /** The reset is committed although its email could not go out; a retry delivers it exactly once. */
    async function expectCommittedThenDelivered(c: Collaborator, lastError: RegExp): Promise<void> {
      const after = await reload(h, c);
      expect(after.status).to.equal('suspended');
      expect(after.passwordHash).to.equal(null);
      expect(await h.db.models.Link.count({ where: { collaboratorId: c.id, usedAt: null, revokedAt: null } })).to.equal(1);
      const waiting = await resetEmail(c);
      expect(waiting?.status).to.equal('retrying');
      expect(waiting?.attempts).to.equal(1);
      expect(waiting?.lastError).to.match(lastError);
      expect(waiting?.secret, 'the link waits, sealed').not.to.equal(null);

      expect(await h.drain(), 'not before the backoff').to.equal(0);
      h.clock.advance(60_000);
      expect(await h.drain()).to.equal(1);
      const sent = await resetEmail(c);
      expect(sent?.status).to.equal('sent');
      expect(deliveriesOf(sent!.messageId as string)).to.equal(1);
      h.clock.advance(3600_000);
      expect(await h.drain(), 'nothing is sent twice').to.equal(0);
      expect(followed(deliveriesOf(sent!.messageId as string)), 'deliveries').to.equal(1);
      const delivered = sink.delivered.find((d) => d.messageId === sent!.messageId) as Delivery;
      expect((await setPasswordByLink(h, linkToken(delivered.text), 'the password after the outage')).res.status).to.equal(200);
      expect((await reload(h, c)).status).to.equal('active');
      expect(await h.drain(), 'the confirmation').to.equal(1);
    }

    describe('SMTP refusing', function () {
      // Temporary refusals (4xx): the reset waits and goes out once the server accepts.
      const refusals: Array<Extract<SmtpBehaviour, { kind: 'refuse' }>> = [
        { kind: 'refuse', stage: 'rcpt', code: 450 },
        { kind: 'refuse', stage: 'data', code: 451 },
      ];
      // Permanent ones (5xx to this recipient or this message, RFC 5321 §4.2.1): no later attempt can
      // change them, so the email is given up at once (the owner is told, and can correct and resend).
      for (const refusal of [{ kind: 'refuse', stage: 'rcpt', code: 550 }, { kind: 'refuse', stage: 'data', code: 554 }] as const) {
        it(`should commit a reset while the server answers ${refusal.code} to ${refusal.stage.toUpperCase()}, and give the email up at once`, async function () {
          const c = await activeCollaborator();
          sink.behaviour = refusal;
          faults.add(`SMTP ${refusal.code} at ${refusal.stage}`);
          expect((await owner.post(`/settings/collaborations/${c.id}/password-reset`)).status).to.equal(303);
          expect(await h.drain()).to.equal(0);
          expect((await reload(h, c)).status).to.equal('suspended');
          const given = await resetEmail(c);
          expect([given?.status, given?.attempts, given?.secret]).to.deep.equal(['failed', 1, null]);
          expect(given?.lastError).to.match(new RegExp(String(refusal.code)));
          sink.behaviour = { kind: 'accept' };
          h.clock.advance(3600_000);
          const toThem = () => sink.delivered.filter((d) => d.to === c.referenceEmail).length;
          const before = toThem();
          await h.drain();
          expect(toThem(), 'never tried again').to.equal(before);
        });
      }
      for (const refusal of refusals) {
        it(`should commit a reset while the server answers ${refusal.code} to ${refusal.stage.toUpperCase()}, and deliver it once the server accepts`, async function () {
          const c = await activeCollaborator();
          sink.behaviour = refusal;
          faults.add(`SMTP ${refusal.code} at ${refusal.stage}`);
          expect((await owner.post(`/settings/collaborations/${c.id}/password-reset`)).status).to.equal(303);
          const refusedBefore = sink.refused;
          expect(await h.drain()).to.equal(0);
          expect(sink.refused).to.equal(refusedBefore + 1);
          sink.behaviour = { kind: 'accept' };
          await expectCommittedThenDelivered(c, new RegExp(String(refusal.code)));
        });
      }
    });

    describe('SMTP timing out', function () {
      for (const greet of [false, true]) {
        it(`should commit a reset while the server ${greet ? 'greets and then says nothing' : 'accepts the connection and never answers'}, and deliver it once the server is back`, async function () {
          const c = await activeCollaborator();
          await sink.stop();
          const silent = await new SilentServer(greet).start(smtpPort);
          faults.add(`SMTP silent ${greet ? 'after the greeting' : 'from the start'}`);
          try {
            expect((await owner.post(`/settings/collaborations/${c.id}/password-reset`)).status).to.equal(303);
            expect(await h.drain()).to.equal(0);
            expect(silent.connections).to.be.greaterThan(0);
          } finally {
            await silent.stop();
            sink = await new FaultySmtp().start(smtpPort);
          }
          await expectCommittedThenDelivered(c, /timeout|ETIMEDOUT|greeting/i);
        });
      }
    });

    describe('a delivery slower than the lease', function () {
      it('should not send a message whose lease ran out while an earlier one was going out', async function () {
        const [c1, c2] = [await activeCollaborator(), await activeCollaborator()];
        for (const c of [c1, c2]) expect((await owner.post(`/settings/collaborations/${c.id}/password-reset`)).status).to.equal(303);
        const [first, second] = [(await resetEmail(c1))!.id, (await resetEmail(c2))!.id];
        const clock = new TestClock(h.clock.now());
        const options = { leaseMs: 1000, maxAttempts: 5, backoffMs: 1000, maxBackoffMs: 60_000, batchSize: 10, concurrency: 1 };
        const slow = new Outbox(h.db, clock, new Sealer(SESSION_SECRET), redactor({ smtpUrl: h.config.smtpUrl }), options);
        const other = new Outbox(h.db, clock, new Sealer(SESSION_SECRET), redactor({ smtpUrl: h.config.smtpUrl }), options);
        const sent: number[] = [];
        const byOther: Deliver = async (message) => {
          sent.push(message.id);
          return null;
        };
        const bySlow: Deliver = async (message) => {
          sent.push(message.id);
          // The server takes longer than the lease over the first message of the batch…
          if (message.id === first) clock.advance(1100);
          // …and the other worker, finding the second one's lease expired, takes it meanwhile.
          if (message.id === second) await other.runOnce(byOther);
          return null;
        };
        faults.add('SMTP slower than the lease');
        await slow.runOnce(bySlow);
        await other.runOnce(byOther);
        for (const id of [first, second]) followed(sent.filter((s) => s === id).length);
        expect(sent.sort((a, b) => a - b), 'each message sent once').to.deep.equal([first, second]);
        const rows = await h.db.models.OutboxMessage.findAll({ where: { id: [first, second] } });
        expect(rows.map((r) => r.status)).to.deep.equal(['sent', 'sent']);
      });
    });

    describe('the outbox worker killed with SIGKILL in the middle of delivery', function () {
      it('should deliver the message once its lease has expired: nothing lost, one completed delivery', async function () {
        h.clock.set(new Date());
        const c = await activeCollaborator();
        const stalling = await new FaultySmtp().start();
        stalling.behaviour = { kind: 'stall' };
        const env = {
          NODE_ENV: 'production',
          DATABASE_URL: database.url,
          SMTP_URL: stalling.url,
          SMTP_TIMEOUT_MS: '120000',
          SESSION_SECRET,
          // Production takes plain http only on loopback.
          BASE_URL: 'http://127.0.0.1',
          OUTBOX_LEASE_SECONDS: '3',
          LOG_LEVEL: 'info',
        };
        let second: AppProcess | null = null;
        try {
          expect((await owner.post(`/settings/collaborations/${c.id}/password-reset`)).status).to.equal(303);
          const first = AppProcess.worker('worker 1', env);
          await stalling.until('the first worker to be in the middle of DATA', () => stalling.stalled.length === 1).catch(async (error: Error) => {
            throw new Error(`${error.message}\n${first.output.join('\n')}\n${JSON.stringify(await h.db.models.OutboxMessage.findAll({ raw: true }))}`);
          });
          const claimed = (await resetEmail(c))!;
          expect(claimed.status).to.equal('queued');
          expect(claimed.leaseOwner).not.to.equal(null);
          expect(claimed.leaseUntil!.getTime()).to.be.greaterThan(Date.now());

          faults.add('worker SIGKILL mid-DATA');
          await first.kill();
          const orphan = (await resetEmail(c))!;
          expect(orphan.status, 'not marked sent by a dead worker').to.equal('queued');
          expect(orphan.secret, 'the link is still there to send').not.to.equal(null);
          expect(orphan.leaseUntil!.getTime()).to.equal(claimed.leaseUntil!.getTime());

          stalling.behaviour = { kind: 'accept' };
          second = AppProcess.worker('worker 2', env);
          await stalling.until('the second worker to deliver', () => stalling.delivered.length === 1, 30_000);
          const [delivered] = stalling.delivered;
          expect(delivered!.at, 'not before the lease expired').to.be.at.least(claimed.leaseUntil!.getTime());
          expect(delivered!.messageId).to.equal(stalling.stalled[0]!.messageId);

          // The worker marks the row sent just after the server's answer.
          for (let i = 0; i < 50 && (await resetEmail(c))!.status !== 'sent'; i += 1) await new Promise((r) => setTimeout(r, 100));
          const sent = (await resetEmail(c))!;
          expect(sent.status).to.equal('sent');
          expect(sent.attempts).to.equal(2);
          expect(sent.secret).to.equal(null);
          expect(sent.messageId).to.equal(delivered!.messageId);
          expect((await setPasswordByLink(h, linkToken(delivered!.text), 'the password after the crash')).res.status).to.equal(200);
          await second.stop();
          expect(await h.drain(), 'the confirmation').to.equal(1);

          // Lost: 0. Completed deliveries: exactly one; the killed worker's never completed.
          expect(followed(stalling.delivered.filter((d) => d.messageId === sent.messageId).length), 'completed deliveries').to.equal(1);
          expect(stalling.stalled).to.have.length(1);
        } finally {
          await second?.stop();
          await stalling.stop();
        }
      });
    });

    describe('the database going away in the middle of a request', function () {
      it('should answer a clear 503 page, keep no half-done change, and answer 503 at /healthz until it is back', async function () {
        const c = await activeCollaborator();
        const collaborator = new Browser(h.app);
        expect((await collaborator.signIn(c.username, GOOD_PASSWORD)).status).to.equal(303);
        const snapshot = async () =>
          JSON.stringify([
            (await reload(h, c)).toJSON(),
            await h.db.models.Link.findAll({ where: { collaboratorId: c.id }, raw: true }),
            await h.db.models.OutboxMessage.count(),
            await h.db.models.AuditEvent.count(),
            await h.db.models.Session.count({ where: { principal: { [Op.like]: 'collaborator:%' } } }),
          ]);
        const before = await snapshot();
        expect((await request(h.app).get('/healthz')).status).to.equal(200);

        // The reset's last write (its "link sent" activity record) never reaches the database: by then
        // it has ended sessions, revoked and issued links and queued an email, all uncommitted.
        const outage = proxy ?? new SqliteOutage(h.db, database.url);
        void outage.cutWhen('link.sent');
        faults.add('database gone in the middle of a reset');
        await withExpectedConsole(OUTAGE_REPORTS, async () => {
          const res = await owner.post(`/settings/collaborations/${c.id}/password-reset`);
          try {
            expect(res.status).to.equal(503);
            expect(res.text).to.include(UNAVAILABLE);
            expect(res.text).to.include('<html');
            expect((await request(h.app).get('/healthz')).status).to.equal(503);
          } finally {
            outage.up();
          }

          let health = 0;
          for (let i = 0; i < 50 && health !== 200; i += 1) {
            health = (await request(h.app).get('/healthz')).status;
            if (health !== 200) await new Promise((r) => setTimeout(r, 100));
          }
          expect(health).to.equal(200);
        });
        expect(await snapshot(), 'nothing half-done').to.equal(before);
        expect((await collaborator.get('/account')).status, 'the collaborator is still signed in').to.equal(200);

        await owner.get('/settings/collaborations');
        expect((await owner.post(`/settings/collaborations/${c.id}/password-reset`)).status, 'the owner tries again').to.equal(303);
        expect((await reload(h, c)).status).to.equal('suspended');
        // The attempt the outage broke left no email behind: one reset, one email, delivered once.
        expect(await h.db.models.OutboxMessage.count({ where: { collaboratorId: c.id, template: 'owner_reset' } })).to.equal(1);
        expect(await h.drain()).to.equal(1);
        expect(followed(deliveriesOf((await resetEmail(c))!.messageId as string)), 'deliveries').to.equal(1);
      });
    });
  });
}
