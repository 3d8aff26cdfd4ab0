import http from 'node:http';
import type net from 'node:net';
import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { DATABASES } from '../support/databases';
import { Browser, GOOD_PASSWORD, harnessWithOwner, newCollaborator, signedInOwner, startHarness, type Harness } from '../support/harness';
import { TestClock } from '../support/clock';
import { until } from '../support/wait';
import { createLogger } from '../../src/lib/logger';
import { startWorker } from '../../src/mail/worker';
import { system } from '../../src/domain/actor';
import { activate, collaboratorIn, latestLinkToken, person, reload, saveNoticeChoices } from '../support/accounts';
import { translator } from '../../src/i18n';
import { openDatabase, type Database } from '../../src/db';
import { createDomain, type Domain } from '../../src/domain';
import { buildEmail } from '../../src/mail/messages';
import { Sealer } from '../../src/lib/secrets';
import type { Collaborator, Mailbox } from '../../src/models';

const MAILBOX = 'studio.rossi@pec.example.it';
const OTHER = 'studio.verdi@pec.example.it';
const DAY = 24 * 3600 * 1000;
const INVALID_TITLE = translator('it')('setPassword.invalidTitle');
/** Given to the harness so that an ending queues a kick to one (unreachable) Dovecot. */
const ENV = { DOVEADM_URLS: 'http://127.0.0.1:9/doveadm/v1', DOVEADM_API_KEY: 'a doveadm key for the tests' };

for (const database of DATABASES) {
  describe(`Access until a date (${database.name})`, function () {
    this.timeout(60_000);
    let h: Harness;
    let owner: Browser;
    let mailbox: Mailbox;
    harnessWithOwner(database.create, { env: ENV, mailboxes: [MAILBOX, OTHER] }, (harness) => (h = harness), (b) => (owner = b));
    beforeEach(async function () {
      h.clock.set(new Date('2026-03-02T09:00:00.000Z'));
      mailbox = (await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } })) as Mailbox;
    });

    const active = (username = 'mario.rossi') => collaboratorIn(h, mailbox, 'active', person('Mario', 'Rossi', username));
    const setEnd = async (c: Collaborator, accessEndDate: string, accessEndTime: string) => {
      await owner.get(`/settings/collaborations/${c.id}`);
      return owner.post(`/settings/collaborations/${c.id}/access-end`, { accessEndDate, accessEndTime });
    };
    const count = async (where: Record<string, unknown>, model: 'AuditEvent' | 'OutboxMessage' = 'OutboxMessage') =>
      (h.db.models[model] as typeof h.db.models.OutboxMessage).count({ where });

    describe('POST /settings/collaborations/:id/access-end', function () {
      it('should store the Italian time typed as its UTC instant and show it after saving', async function () {
        const c = await active();
        const res = await setEnd(c, '2026-12-12', '18:00');
        expect(res.status, res.text).to.equal(303);
        expect((await reload(h, c)).accessEndsAt?.toISOString()).to.equal('2026-12-12T17:00:00.000Z');
        const page = await owner.get(res.headers.location as string);
        expect(page.text).to.contain('12 dic 2026, 18:00 GMT+1');
        const list = await owner.get('/settings/collaborations');
        expect(list.text).to.contain('accesso fino al 12 dic 2026, 18:00');
      });

      it('should remove the end when both fields are empty', async function () {
        const c = await active();
        await setEnd(c, '2026-12-12', '18:00');
        expect((await setEnd(c, '', '')).status).to.equal(303);
        expect((await reload(h, c)).accessEndsAt).to.equal(null);
      });

      for (const [what, date, time, message] of [
        ['a past date', '2026-03-01', '10:00', 'La fine dell’accesso deve essere nel futuro.'],
        ['a malformed date', '2026-13-45', '10:00', 'Inserisci una data e un’ora valide'],
        ['a date without a time', '2026-12-12', '', 'Inserisci una data e un’ora valide'],
      ] as const) {
        it(`should refuse ${what} with its message and change nothing`, async function () {
          const c = await active();
          const audits = await count({ collaboratorId: c.id }, 'AuditEvent');
          const res = await setEnd(c, date, time);
          expect(res.status).to.equal(422);
          expect(res.text).to.contain(message);
          expect((await reload(h, c)).accessEndsAt).to.equal(null);
          expect(await count({ collaboratorId: c.id }, 'AuditEvent')).to.equal(audits);
        });
      }

      it('should say it in English and Spanish too', async function () {
        const c = await active();
        for (const [locale, message] of [['en', 'The end of access must be in the future.'], ['es', 'El fin del acceso debe estar en el futuro.']] as const) {
          await mailbox.update({ locale });
          const res = await setEnd(c, '2026-01-01', '10:00');
          expect(res.status).to.equal(422);
          expect(res.text).to.contain(message);
        }
      });
    });

    describe('POST /settings/collaborations (the add form)', function () {
      it('should create the account with its end', async function () {
        await owner.get('/settings/collaborations/new');
        const res = await owner.post('/settings/collaborations', newCollaborator({ accessEndDate: '2026-08-01', accessEndTime: '09:30' }));
        expect(res.status, res.text).to.equal(303);
        const c = (await h.db.models.Collaborator.findOne({ where: { username: `mario.rossi/${MAILBOX}` } })) as Collaborator;
        expect(c.accessEndsAt?.toISOString()).to.equal('2026-08-01T07:30:00.000Z');
      });

      for (const [what, date, time] of [['a past date', '2026-03-02', '09:00'], ['a malformed time', '2026-08-01', '25:99']] as const) {
        it(`should refuse ${what} and create nothing`, async function () {
          await owner.get('/settings/collaborations/new');
          const res = await owner.post('/settings/collaborations', newCollaborator({ accessEndDate: date, accessEndTime: time }));
          expect(res.status).to.equal(422);
          expect(res.text).to.match(/La fine dell’accesso deve essere nel futuro|Inserisci una data e un’ora valide/);
          expect(await h.db.models.Collaborator.count()).to.equal(0);
          expect(await count({})).to.equal(0);
        });
      }
    });

    describe('the ending', function () {
      const END = new Date('2026-03-10T17:00:00.000Z');

      it('should let the account in a second before its end, and end it at the instant', async function () {
        const c = await active();
        await setEnd(c, '2026-03-10', '18:00');
        h.clock.set(new Date(END.getTime() - 1000));
        expect(await h.domain.accessEnds.endDue()).to.equal(0);
        const collaborator = new Browser(h.app);
        expect((await collaborator.signIn(c.username, GOOD_PASSWORD)).status).to.equal(303);
        expect((await collaborator.get('/account')).status).to.equal(200);
        h.clock.set(END);
        // Before the worker has run: the session and a new sign-in are refused already.
        expect((await collaborator.get('/account')).headers.location).to.equal('/login');
        expect((await new Browser(h.app).signIn(c.username, GOOD_PASSWORD)).status).to.equal(422);
        expect(await h.domain.accessEnds.endDue()).to.equal(1);
        const ended = await reload(h, c);
        expect(ended.status).to.equal('deactivated');
        expect(ended.accessEndsAt).to.equal(null);
        expect(await h.db.models.Session.count({ where: { principal: `collaborator:${c.id}` } })).to.equal(0);
        const [record] = await h.db.models.AuditEvent.findAll({ where: { collaboratorId: c.id, action: 'collaborator.access_ended' } });
        expect(record?.actorType).to.equal('system');
        expect(JSON.parse(record?.detail ?? '{}')).to.deep.equal({ accessEndsAt: END.toISOString() });
        const activity = await owner.get('/settings/activity');
        expect(activity.text).to.contain('L’accesso di Mario Rossi è terminato da sé alla data stabilita');
      });

      it('should kill its links at the instant, before the worker has run', async function () {
        // An end within the invitation's lifetime: the link would still be live without the end.
        const c = await collaboratorIn(h, mailbox, 'pending', person('Anna', 'Neri', 'anna.neri'));
        await setEnd(c, '2026-03-02', '18:00');
        const token = await latestLinkToken(h, c, 'invitation');
        h.clock.set(new Date('2026-03-02T17:00:00.000Z'));
        const visitor = new Browser(h.app);
        const opened = await visitor.get(`/password/${token}`);
        const form = opened.status === 303 ? await visitor.get(opened.headers.location as string) : opened;
        expect(form.status).to.equal(410);
        expect(form.text).to.contain(INVALID_TITLE);
        const posted = await visitor.post('/password/new', { password: GOOD_PASSWORD, passwordConfirmation: GOOD_PASSWORD });
        expect(posted.text).to.contain(INVALID_TITLE);
        const after = await reload(h, c);
        expect([after.status, after.passwordHash]).to.deep.equal(['pending', null]);
      });

      it('should send no forgotten-password link from the instant on', async function () {
        const c = await active();
        await setEnd(c, '2026-03-10', '18:00');
        h.clock.set(END);
        await h.domain.selfService.requestSelfReset(c.username);
        expect(await count({ collaboratorId: c.id, template: 'self_reset' })).to.equal(0);
      });

      it('should tell the owner at the notification address, in the digest when the owner chose one', async function () {
        const c = await active();
        await setEnd(c, '2026-03-10', '18:00');
        await saveNoticeChoices(h, mailbox, { address: 'segreteria@example.org', events: ['access_ended'], delivery: 'digest', digestHour: '8' });
        const told = await count({ template: 'owner_notice' });
        h.clock.set(END);
        await h.domain.accessEnds.runIfDue();
        expect(await count({ template: 'owner_notice' }), 'kept for the digest').to.equal(told);
        h.clock.set(new Date('2026-03-11T07:00:00.000Z'));
        await h.domain.ownerNotices.sendDueDigests();
        const [digest] = await h.db.models.OutboxMessage.findAll({ where: { template: 'owner_digest' } });
        expect(digest?.recipient).to.equal('segreteria@example.org');
        expect(JSON.parse(digest?.payload ?? '{}').notices.map((n: { event: string }) => n.event)).to.deep.equal(['access_ended']);
      });

      it('should tell the collaborator: in the invitation, on the account page; and the details page of the ended account says when', async function () {
        const added = await owner.post('/settings/collaborations', newCollaborator({ username: 'anna.neri', referenceEmail: 'anna@example.org', accessEndDate: '2026-03-10', accessEndTime: '18:00' }));
        expect(added.status, added.text).to.equal(303);
        const c = (await h.db.models.Collaborator.findOne({ where: { username: `anna.neri/${MAILBOX}` } })) as Collaborator;
        const [invitation] = await h.db.models.OutboxMessage.findAll({ where: { collaboratorId: c.id, template: 'invitation' } });
        expect(JSON.parse(invitation?.payload ?? '{}').accessEndsAt).to.equal(END.toISOString());
        await activate(h, c);
        const collaborator = new Browser(h.app);
        await collaborator.signIn(c.username, GOOD_PASSWORD);
        expect((await collaborator.get('/account')).text).to.contain('Il tuo accesso a questa casella termina il 10 mar 2026, 18:00');
        h.clock.set(END);
        await h.domain.accessEnds.runIfDue();
        expect((await owner.get(`/settings/collaborations/${c.id}`)).text).to.contain('Account disattivato il 10 mar 2026, 18:00');
      });

      it('should end an account whose end passed while no worker ran, at the first run', async function () {
        const c = await active();
        await setEnd(c, '2026-03-10', '18:00');
        h.clock.set(new Date(END.getTime() + 5 * DAY));
        expect(await h.domain.accessEnds.runIfDue()).to.deep.equal({ ended: 1, reminded: 0 });
        expect((await reload(h, c)).status).to.equal('deactivated');
        // Past its end: the reminder is not sent any more.
        expect(await count({ template: 'access_end_reminder' })).to.equal(0);
      });

      it('should end accounts by the batch, every one of them', async function () {
        for (let i = 0; i < 23; i += 1) await h.domain.collaborations.setAccessEnd(await active(`user${i}`), { accessEndDate: '2026-03-10', accessEndTime: '18:00' }, { actor: { type: 'owner', id: mailbox.id, name: MAILBOX } });
        h.clock.set(END);
        expect(await h.domain.accessEnds.runIfDue()).to.deep.equal({ ended: 23, reminded: 0 });
      });

      describe('with two workers racing', function () {
        let other: { db: Database; domain: Domain } | null = null;
        beforeEach(async function () {
          const db = await openDatabase(h.config.databaseUrl);
          other = { db, domain: createDomain(db, h.config, h.clock) };
        });
        afterEach(async function () {
          await other?.domain.rateLimits.close();
          await other?.db.close();
        });

        it('should end it once: one record, one email, one kick', async function () {
          const c = await active();
          await setEnd(c, '2026-03-10', '18:00');
          await h.drain();
          const told = await count({ template: 'owner_notice' });
          h.clock.set(END);
          const runs = await Promise.all([h.domain.accessEnds.runIfDue(), other?.domain.accessEnds.runIfDue()]);
          expect(runs.map((r) => r?.ended ?? 0).reduce((a, b) => a + b)).to.equal(1);
          expect(await count({ collaboratorId: c.id, action: 'collaborator.access_ended' }, 'AuditEvent')).to.equal(1);
          expect(await count({ collaboratorId: c.id, template: 'access_ended' })).to.equal(1);
          expect(await count({ collaboratorId: c.id, kind: 'doveadm', template: 'kick' })).to.equal(1);
          expect(await count({ mailboxId: mailbox.id, template: 'owner_notice', recipient: MAILBOX }), 'the owner told once').to.equal(told + 1);
        });

        it('should send one reminder', async function () {
          const c = await active();
          await setEnd(c, '2026-03-10', '18:00');
          h.clock.set(new Date(END.getTime() - 3 * DAY));
          const runs = await Promise.all([h.domain.accessEnds.runIfDue(), other?.domain.accessEnds.runIfDue()]);
          expect(runs.map((r) => r?.reminded ?? 0).reduce((a, b) => a + b)).to.equal(1);
          expect(await count({ template: 'access_end_reminder' })).to.equal(1);
        });
      });

      for (const [night, date, instant, shown] of [
        ['spring (02:30 does not exist)', '2026-03-29', '2026-03-29T01:30:00.000Z', '29 mar 2026, 03:30 GMT+2'],
        ['autumn (02:30 happens twice)', '2026-10-25', '2026-10-25T00:30:00.000Z', '25 ott 2026, 02:30 GMT+2'],
      ] as const) {
        it(`should end at the instant RFC 5545 gives on the ${night} night`, async function () {
          const c = await active();
          const res = await setEnd(c, date, '02:30');
          expect((await reload(h, c)).accessEndsAt?.toISOString()).to.equal(instant);
          const page = (await owner.get(res.headers.location as string)).text;
          expect(page).to.contain(shown);
          // Said when the clocks skip the time typed, not otherwise.
          expect(page.includes('le 02:30 non esistono'), 'the skipped time said').to.equal(date === '2026-03-29');
          h.clock.set(new Date(new Date(instant).getTime() - 1000));
          await h.domain.accessEnds.runIfDue();
          expect((await reload(h, c)).status).to.equal('active');
          h.clock.set(new Date(instant));
          await h.domain.accessEnds.runIfDue();
          expect((await reload(h, c)).status).to.equal('deactivated');
        });
      }
    });

    describe('the mail servers’ view', function () {
      it('should hide an account from its end on, before the worker has run', async function () {
        // The views compare with the database's own clock (real time), not the test's clock.
        const actor = { actor: { type: 'owner' as const, id: mailbox.id, name: MAILBOX } };
        const passed = await active('passed');
        const ahead = await active('ahead');
        await active('open');
        await h.domain.collaborations.setAccessEnd(passed, { accessEndDate: '2026-06-01', accessEndTime: '10:00' }, actor);
        await h.domain.collaborations.setAccessEnd(ahead, { accessEndDate: '2099-06-01', accessEndTime: '10:00' }, actor);
        const rows = await h.db.sequelize.query<{ username: string }>('SELECT username FROM mail_accounts ORDER BY username', { type: QueryTypes.SELECT });
        expect(rows.map((r) => r.username)).to.deep.equal([`ahead/${MAILBOX}`, `open/${MAILBOX}`]);
      });
    });

    describe('the owner’s reminder', function () {
      const END = new Date('2026-03-10T17:00:00.000Z');
      const reminders = () => h.db.models.OutboxMessage.findAll({ where: { template: 'access_end_reminder' } });

      it('should be sent once, ACCESS_REMINDER_DAYS before the end, to the mailbox', async function () {
        const c = await active();
        await setEnd(c, '2026-03-10', '18:00');
        h.clock.set(new Date(END.getTime() - 3 * DAY - 1000));
        expect(await h.domain.accessEnds.runIfDue()).to.equal(null);
        h.clock.set(new Date(END.getTime() - 3 * DAY));
        expect(await h.domain.accessEnds.runIfDue()).to.deep.equal({ ended: 0, reminded: 1 });
        h.clock.advance(3600 * 1000);
        expect(await h.domain.accessEnds.runIfDue()).to.equal(null);
        const [reminder] = await reminders();
        expect(reminder?.recipient).to.equal(MAILBOX);
      });

      it('should go to the notification address the owner set, at once even with a digest', async function () {
        const c = await active();
        await setEnd(c, '2026-03-10', '18:00');
        await saveNoticeChoices(h, mailbox, { address: 'segreteria@example.org', events: [], delivery: 'digest', digestHour: '8' });
        h.clock.set(new Date(END.getTime() - 3 * DAY));
        await h.domain.accessEnds.runIfDue();
        expect((await reminders()).map((r) => r.recipient)).to.deep.equal(['segreteria@example.org']);
      });

      it('should be armed again by a change of the end', async function () {
        const c = await active();
        await setEnd(c, '2026-03-10', '18:00');
        h.clock.set(new Date(END.getTime() - 3 * DAY));
        await h.domain.accessEnds.runIfDue();
        expect(await setEnd(c, '2026-03-20', '18:00')).to.have.property('status', 303);
        h.clock.set(new Date(END.getTime() + 10 * DAY - 3 * DAY));
        expect(await h.domain.accessEnds.runIfDue()).to.deep.equal({ ended: 0, reminded: 1 });
        expect(await reminders()).to.have.length(2);
      });

      it('should not be sent for an end set inside the window', async function () {
        const c = await active();
        await setEnd(c, '2026-03-04', '10:00');
        for (let hour = 0; hour < 48; hour += 1) {
          h.clock.advance(3600 * 1000);
          await h.domain.accessEnds.runIfDue();
        }
        expect(await reminders()).to.have.length(0);
        expect((await reload(h, c)).status).to.equal('deactivated');
      });

      describe('GET /settings/collaborations/:id/extension (its link)', function () {
        it('should propose a week more and change nothing; the POST extends', async function () {
          const c = await active();
          await setEnd(c, '2026-03-10', '18:00');
          h.clock.set(new Date(END.getTime() - 3 * DAY));
          await h.domain.accessEnds.runIfDue();
          const [reminder] = await reminders();
          const link = new URL(new Sealer(h.config.sessionSecret).open(reminder?.secret as string));
          expect(link.href).to.equal(`http://webmail.pec.test/settings/collaborations/${c.id}/extension`);
          const audits = await count({ collaboratorId: c.id }, 'AuditEvent');
          const page = await owner.get(link.pathname);
          expect(page.status).to.equal(200);
          expect(page.text).to.contain('value="2026-03-17"').and.to.contain('value="18:00"');
          expect((await reload(h, c)).accessEndsAt?.toISOString()).to.equal(END.toISOString());
          expect(await count({ collaboratorId: c.id }, 'AuditEvent')).to.equal(audits);
          const res = await owner.post(`/settings/collaborations/${c.id}/access-end`, { accessEndDate: '2026-03-17', accessEndTime: '18:00', back: 'extension' });
          expect(res.status).to.equal(303);
          expect((await reload(h, c)).accessEndsAt?.toISOString()).to.equal('2026-03-17T17:00:00.000Z');
        });

        it('should send a signed-out visitor to sign in, and answer 404 to another mailbox’s owner', async function () {
          const c = await active();
          expect((await new Browser(h.app).get(`/settings/collaborations/${c.id}/extension`)).headers.location).to.equal('/login');
          const stranger = await signedInOwner(h.app, OTHER);
          expect((await stranger.get(`/settings/collaborations/${c.id}/extension`)).status).to.equal(404);
          const res = await stranger.post(`/settings/collaborations/${c.id}/access-end`, { accessEndDate: '2026-12-12', accessEndTime: '10:00' });
          expect(res.status).to.equal(404);
          expect((await reload(h, c)).accessEndsAt).to.equal(null);
        });

        it('should refuse a POST without the CSRF token', async function () {
          const c = await active();
          const res = await owner.agent.post(`/settings/collaborations/${c.id}/access-end`).type('form').send({ accessEndDate: '2026-12-12', accessEndTime: '10:00' });
          expect(res.status).to.equal(403);
          expect((await reload(h, c)).accessEndsAt).to.equal(null);
        });
      });
    });
  });
}

/** A doveadm HTTP API that answers as Dovecot does and notes when each request came (real time). */
async function doveadm(): Promise<{ url: string; kicks: number[]; close(): Promise<void> }> {
  const kicks: number[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const commands = JSON.parse(body) as Array<[string, unknown, string]>;
      if (commands.some(([command]) => command === 'kick')) kicks.push(Date.now());
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(commands.map(([, , tag]) => ['doveadmResponse', [], tag])));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/doveadm/v1`,
    kicks,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

for (const database of DATABASES) {
  describe(`Access until a date, with the worker running (${database.name})`, function () {
    this.timeout(30_000);

    it('should kick mail programs within 5 s of the deadline', async function () {
      const server = await doveadm();
      const db = await database.create();
      // A clock that runs with real time; set two seconds before 18:00 Italian time once all is ready.
      const clock = new TestClock(new Date('2026-03-10T09:00:00.000Z'), true);
      const h = await startHarness(db.url, { DOVEADM_URLS: server.url, DOVEADM_API_KEY: 'a doveadm key for the tests' }, { clock });
      const worker = startWorker(h.domain.outbox, h.deliver, createLogger('silent'), 1000, h.domain.scheduled);
      try {
        const mailbox = await h.mailbox(MAILBOX);
        const c = await collaboratorIn(h, mailbox, 'active', person('Mario', 'Rossi', 'mario.rossi'));
        await h.domain.collaborations.setAccessEnd(c, { accessEndDate: '2026-03-10', accessEndTime: '18:00' }, { actor: system });
        clock.set(new Date('2026-03-10T16:59:58.000Z'));
        const deadline = Date.now() + (new Date('2026-03-10T17:00:00.000Z').getTime() - clock.now().getTime());
        await until('the kick', () => server.kicks.length > 0, 10_000);
        expect((server.kicks[0] as number) - deadline).to.be.within(0, 5000);
        expect((await reload(h, c)).status).to.equal('deactivated');
      } finally {
        await worker.stop();
        await h.close();
        await db.drop();
        await server.close();
      }
    });
  });
}

describe('The access-end emails', function () {
  const mailServer = { imap: { host: 'imap.example.it', port: 993, security: 'ssl' as const }, pop3: { host: 'imap.example.it', port: 995, security: 'ssl' as const }, submission: { host: 'smtp.example.it', port: 465, security: 'ssl' as const } };
  const payload = { firstName: 'Mario', lastName: 'Rossi', username: `mario.rossi/${MAILBOX}`, mailbox: MAILBOX, ownerName: 'Studio Rossi', accessEndsAt: '2026-12-12T17:00:00.000Z' };
  for (const [locale, ended, reminded, date] of [
    ['it', 'è terminato il', 'Proroga l’accesso', '12 dicembre 2026'],
    ['en', 'ended on', 'Extend the access', '12 December 2026'],
    ['es', 'terminó el', 'Prorrogar el acceso', '12 de diciembre de 2026'],
  ] as const) {
    it(`should tell the collaborator and remind the owner in ${locale}`, function () {
      const email = buildEmail({ template: 'access_ended', locale, payload, mailServer, signInUrl: 'http://webmail.pec.test/login' });
      expect(email.text).to.contain(ended).and.to.contain(date).and.to.contain(MAILBOX);
      const reminder = buildEmail({
        template: 'access_end_reminder',
        locale,
        payload: { ...payload, firstName: 'Studio Rossi', lastName: '', collaborator: 'Mario Rossi', audience: 'owner' },
        link: 'http://webmail.pec.test/settings/collaborations/7/extension',
        mailServer,
        signInUrl: 'http://webmail.pec.test/login',
      });
      expect(reminder.text).to.contain('Mario Rossi').and.to.contain(date).and.to.contain('/settings/collaborations/7/extension');
      expect(reminder.html).to.contain(reminded);
    });
  }
});
