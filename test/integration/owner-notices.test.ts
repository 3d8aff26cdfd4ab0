import { expect } from 'chai';
import { Op } from 'sequelize';
import { DATABASES } from '../support/databases';
import { BASE_URL, Browser, GOOD_PASSWORD, harnessPerSuite, newCollaborator, signedInOwner, startHarness, type Harness } from '../support/harness';
import { addressLinks, collaboratorIn, ownerActor, saveNoticeChoices } from '../support/accounts';
import { FaultySmtp, freePort } from '../support/faulty-smtp';
import { createDomain } from '../../src/domain';
import { buildEmail } from '../../src/mail/messages';
import type { EmailPayload, EmailTemplate } from '../../src/mail/message-types';
import type { Collaborator, Mailbox, OutboxMessage } from '../../src/models';
import type { NewCollaborator } from '../../src/domain/collaborators';
import { system } from '../../src/domain/actor';
import type { Locale } from '../../src/i18n';

const MAILBOX = 'studio.rossi@pec.example.it';
const OTHER = 'studio.bianchi@pec.example.it';
const person = (username: string): NewCollaborator => ({ ...newCollaborator({ username, referenceEmail: `${username}@example.com` }), manageSettings: '' }) as NewCollaborator;
const SETTINGS = '/settings/collaborations/notifications';

/** The owner's notices queued so far, oldest first. */
async function notices(h: Harness, template: EmailTemplate = 'owner_notice'): Promise<OutboxMessage[]> {
  return h.db.models.OutboxMessage.findAll({ where: { template }, order: [['id', 'ASC']] });
}

/** The email a queued row becomes, as the worker builds it. */
function built(h: Harness, row: OutboxMessage) {
  return buildEmail({ template: row.template as EmailTemplate, locale: row.locale as Locale, payload: JSON.parse(row.payload) as EmailPayload, mailServer: h.config.mailServer, signInUrl: `${BASE_URL}/login` });
}

async function choose(h: Harness, mailbox: Mailbox, choice: Partial<{ address: string; events: string[]; delivery: string; digestHour: string }>) {
  await saveNoticeChoices(h, mailbox, { address: '', events: ['email_failed', 'invitation_expired', 'access_ended', 'new_mail_device', 'password_self_reset', 'invitation_accepted'], delivery: 'immediate', digestHour: '18', ...choice });
}

/** A page without the line-break opportunities (`<wbr>`) long values carry, to search it for text. */
const unbroken = (html: string) => html.replace(/<wbr>/g, '');

/** A successful IMAP sign-in reported by Dovecot's auth policy. */
function mailSignIn(h: Harness, c: Collaborator, remote: string, clientId = '"name" "Thunderbird" "version" "115.3.1"', protocol: 'imap' | 'submission' = 'imap') {
  return h.domain.authPolicy.report({ login: c.username, remote, protocol, clientId, success: true, policyReject: false, appPassword: null });
}

for (const { name, create } of DATABASES) {
  describe(`Owner notices (${name})`, function () {
    let h: Harness;
    let mailbox: Mailbox;
    let other: Mailbox;
    harnessPerSuite(create, { mailboxes: [MAILBOX, OTHER] }, (harness) => (h = harness));

    beforeEach(async function () {
      await h.reset();
      await h.db.models.NoticeSetting.destroy({ where: {} });
      await h.db.models.OwnerNotice.destroy({ where: {} });
      await h.db.models.MailDevice.destroy({ where: {} });
      h.clock.set(new Date('2026-03-02T09:00:00.000Z'));
      mailbox = (await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } })) as Mailbox;
      other = (await h.db.models.Mailbox.findOne({ where: { address: OTHER } })) as Mailbox;
    });

    describe('notify, at once', function () {
      it('should email the mailbox when an invitation is accepted, saying what, to whom, when, with a link', async function () {
        const c = await collaboratorIn(h, mailbox, 'active', person('anna'));
        const [row, ...more] = await notices(h);
        expect(more).to.have.length(0);
        expect(row?.recipient).to.equal(MAILBOX);
        expect(row?.collaboratorId).to.equal(null);
        const email = built(h, row as OutboxMessage);
        expect(email.subject).to.contain('Invito accettato');
        expect(email.text).to.contain(`Mario Rossi (${c.username})`);
        expect(email.text).to.contain('2 marzo 2026 alle ore 10:00 GMT+1');
        expect(email.text).to.contain(`${BASE_URL}/settings/collaborations/${c.id}`);
      });

      for (const [locale, words] of [['en', 'Invitation accepted'], ['es', 'Invitación aceptada']] as const) {
        it(`should write in the mailbox's language (${locale})`, async function () {
          await mailbox.update({ locale });
          await collaboratorIn(h, mailbox, 'active', person('anna'));
          const [row] = await notices(h);
          expect(row?.locale).to.equal(locale);
          expect(built(h, row as OutboxMessage).subject).to.contain(words);
        });
      }

      it('should send to the address the owner chose', async function () {
        await choose(h, mailbox, { address: 'segreteria@example.com' });
        await collaboratorIn(h, mailbox, 'active', person('anna'));
        expect((await notices(h)).map((row) => row.recipient)).to.deep.equal(['segreteria@example.com']);
        expect(await h.domain.ownerNotices.addressOf(mailbox)).to.equal('segreteria@example.com');
      });

      it('should send nothing for an event turned off', async function () {
        await choose(h, mailbox, { events: ['email_failed'] });
        await collaboratorIn(h, mailbox, 'active', person('anna'));
        expect(await notices(h)).to.have.length(0);
      });

      it('should tell of a password reset through "forgot password", not of the owner reset', async function () {
        const c = await collaboratorIn(h, mailbox, 'suspended', person('anna'));
        const link = await h.db.models.Link.findOne({ where: { collaboratorId: c.id }, order: [['id', 'DESC']] });
        await h.domain.selfService.setPasswordWithLink(link!, GOOD_PASSWORD, GOOD_PASSWORD);
        expect((await notices(h)).map((row) => JSON.parse(row.payload).notices[0].event)).to.deep.equal(['invitation_accepted']);
        await h.domain.selfService.requestSelfReset(c.username);
        const selfLink = await h.db.models.Link.findOne({ where: { collaboratorId: c.id, purpose: 'self_reset' } });
        await h.domain.selfService.setPasswordWithLink(selfLink!, `${GOOD_PASSWORD} again`, `${GOOD_PASSWORD} again`);
        expect((await notices(h)).map((row) => JSON.parse(row.payload).notices[0].event)).to.deep.equal(['invitation_accepted', 'password_self_reset']);
      });

      it('should tell once of an invitation that expired unused, even with two workers', async function () {
        const c = await collaboratorIn(h, mailbox, 'pending', person('anna'));
        h.clock.advance(h.config.linkTtl.invitation * 1000 + 1000);
        const second = createDomain(h.db, h.config, h.clock);
        await Promise.all([h.domain.ownerNotices.tellExpiredInvitations(), second.ownerNotices.tellExpiredInvitations()]);
        await h.domain.ownerNotices.tellExpiredInvitations();
        await second.rateLimits.close();
        const rows = await notices(h);
        expect(rows).to.have.length(1);
        expect(built(h, rows[0] as OutboxMessage).text).to.contain(`Mario Rossi (${c.username})`);
      });

      it('should tell of a mail program on a new device once, and not of the same program again', async function () {
        const c = await collaboratorIn(h, mailbox, 'active', person('anna'));
        await h.db.models.OutboxMessage.destroy({ where: {} });
        await Promise.all([mailSignIn(h, c, '203.0.113.7'), mailSignIn(h, c, '203.0.113.7')]);
        await mailSignIn(h, c, '203.0.113.7', '"name" "Thunderbird" "version" "128.0"');
        await mailSignIn(h, c, '203.0.113.7', '', 'submission');
        expect(await notices(h)).to.have.length(1);
        await mailSignIn(h, c, '198.51.100.9');
        const rows = await notices(h);
        expect(rows).to.have.length(2);
        expect(built(h, rows[1] as OutboxMessage).text).to.contain('Thunderbird 115.3.1, 198.51.100.9');
      });

      it('should let the end-date feature tell that access ended', async function () {
        const c = await collaboratorIn(h, mailbox, 'active', person('anna'));
        await h.db.models.OutboxMessage.destroy({ where: {} });
        await h.db.transaction((t) => h.domain.ownerNotices.notify(mailbox, 'access_ended', { collaborator: c, at: h.clock.now() }, t));
        expect(built(h, (await notices(h))[0] as OutboxMessage).subject).to.contain('Accesso terminato');
      });
    });

    describe('the daily digest', function () {
      it('should group the stored notices by kind of event, in one email at the chosen hour (Italian time)', async function () {
        await choose(h, mailbox, { delivery: 'digest', digestHour: '18' });
        const anna = await collaboratorIn(h, mailbox, 'active', person('anna'));
        const bruno = await collaboratorIn(h, mailbox, 'active', person('bruno'));
        await h.db.transaction((t) => h.domain.ownerNotices.notify(mailbox, 'access_ended', { collaborator: anna, at: h.clock.now() }, t));
        expect(await notices(h)).to.have.length(0);
        h.clock.set(new Date('2026-03-02T16:59:00.000Z'));
        expect(await h.domain.ownerNotices.sendDueDigests()).to.equal(null);
        h.clock.set(new Date('2026-03-02T17:00:00.000Z'));
        expect(await h.domain.ownerNotices.sendDueDigests()).to.deep.equal({ digests: 1 });
        const [row, ...more] = await notices(h, 'owner_digest');
        expect(more).to.have.length(0);
        const { text } = built(h, row as OutboxMessage);
        expect(text.indexOf('Accesso terminato (1)')).to.be.lessThan(text.indexOf('Invito accettato (2)'));
        for (const c of [anna, bruno]) expect(text).to.contain(`${BASE_URL}/settings/collaborations/${c.id}`);
        expect(await h.db.models.OwnerNotice.count()).to.equal(0);
        h.clock.advance(3600_000);
        expect(await h.domain.ownerNotices.sendDueDigests()).to.equal(null);
      });

      it('should send nothing when there is nothing to tell', async function () {
        await choose(h, mailbox, { delivery: 'digest', digestHour: '8' });
        h.clock.set(new Date('2026-03-02T07:30:00.000Z'));
        await h.domain.ownerNotices.sendDueDigests();
        expect(await notices(h, 'owner_digest')).to.have.length(0);
      });

      it('should send one digest when two workers race', async function () {
        await choose(h, mailbox, { delivery: 'digest', digestHour: '18' });
        await collaboratorIn(h, mailbox, 'active', person('anna'));
        h.clock.set(new Date('2026-03-02T17:00:00.000Z'));
        const second = createDomain(h.db, h.config, h.clock);
        await Promise.all([h.domain.ownerNotices.sendDueDigests(), second.ownerNotices.sendDueDigests(), second.ownerNotices.sendDueDigests()]);
        await second.rateLimits.close();
        expect(await notices(h, 'owner_digest')).to.have.length(1);
      });

      for (const [night, hour, minutes] of [['the clocks go forward (29 Mar 2026)', '2', ['2026-03-29T00:30:00Z', '2026-03-29T01:00:00Z', '2026-03-29T01:30:00Z', '2026-03-29T02:30:00Z']], ['the clocks go back (25 Oct 2026)', '2', ['2026-10-24T23:30:00Z', '2026-10-25T00:00:00Z', '2026-10-25T00:30:00Z', '2026-10-25T01:00:00Z', '2026-10-25T01:30:00Z', '2026-10-25T02:30:00Z']]] as const) {
        it(`should send exactly one digest at 02:00 on the night ${night}`, async function () {
          await choose(h, mailbox, { delivery: 'digest', digestHour: hour });
          const anna = await collaboratorIn(h, mailbox, 'active', person('anna'));
          for (const at of minutes) {
            h.clock.set(new Date(at));
            await h.db.transaction((t) => h.domain.ownerNotices.notify(mailbox, 'access_ended', { collaborator: anna, at: h.clock.now() }, t));
            await h.domain.ownerNotices.sendDueDigests();
          }
          const sent = await notices(h, 'owner_digest');
          expect(sent).to.have.length(1);
        });
      }

      it('should send the stored notices at once when the owner turns the digest off', async function () {
        await choose(h, mailbox, { delivery: 'digest', digestHour: '18' });
        await collaboratorIn(h, mailbox, 'active', person('anna'));
        await choose(h, mailbox, { delivery: 'immediate' });
        expect(await notices(h, 'owner_digest')).to.have.length(1);
        expect(await h.db.models.OwnerNotice.count()).to.equal(0);
      });
    });

    describe(`GET and POST ${SETTINGS}`, function () {
      let owner: Browser;
      beforeEach(async function () {
        owner = await signedInOwner(h.app, MAILBOX);
      });

      it('should show the defaults: the mailbox, every event, at once; never cached', async function () {
        const res = await owner.get(SETTINGS);
        expect(res.status).to.equal(200);
        expect(res.headers['cache-control']).to.contain('no-store');
        expect(res.text).to.contain(`placeholder="${MAILBOX}"`);
        expect(res.text.match(/name="events" value="\w+" checked/g)).to.have.length(6);
        expect(res.text).to.match(/value="immediate" checked/);
      });

      it('should keep a digest hour, and another address as pending until confirmed', async function () {
        const res = await owner.post(SETTINGS, { address: 'segreteria@example.com', events: 'email_failed', delivery: 'digest', digestHour: '18' });
        expect(res.status).to.equal(303);
        const pending = { address: 'segreteria@example.com', expiresAt: new Date('2026-03-03T09:00:00.000Z') };
        expect(await h.domain.ownerNotices.choices(mailbox)).to.deep.equal({ address: MAILBOX, addressIsMailbox: true, events: ['email_failed'], digestHour: 18, pending });
        const page = unbroken((await owner.get(SETTINGS)).text);
        expect(page).to.contain('In attesa di conferma: segreteria@example.com');
        expect(page).to.contain('valido fino al 3 mar 2026, 10:00 GMT+1');
        expect(page).to.contain('Invia di nuovo il link');
      });

      it('should refuse a bad address with a clear message and change nothing', async function () {
        const res = await owner.post(SETTINGS, { address: 'not an address', delivery: 'digest', digestHour: '18' });
        expect(res.status).to.equal(422);
        expect(res.text).to.contain('L’indirizzo email non è valido.');
        expect(await h.db.models.NoticeSetting.count()).to.equal(0);
      });

      it('should refuse a POST without the CSRF token', async function () {
        const res = await owner.agent.post(SETTINGS).type('form').send({ address: 'x@example.com', delivery: 'immediate', digestHour: '1' });
        expect(res.status).to.equal(403);
        expect(await h.db.models.NoticeSetting.count()).to.equal(0);
      });

      it("should keep each owner to their own mailbox's settings", async function () {
        await choose(h, other, { address: 'bianchi@example.com' });
        expect((await owner.get(SETTINGS)).text).to.not.contain('bianchi@example.com');
        await owner.post(SETTINGS, { address: 'rossi@example.com', delivery: 'immediate', digestHour: '0' });
        expect(await h.domain.ownerNotices.addressOf(other)).to.equal('bianchi@example.com');
      });

      it('should not exist for a collaborator', async function () {
        const c = await collaboratorIn(h, mailbox, 'active', { ...person('anna'), manageSettings: 'on' } as NewCollaborator);
        const collaborator = new Browser(h.app);
        expect((await collaborator.signIn(c.username, GOOD_PASSWORD)).status).to.equal(303);
        expect((await collaborator.get(SETTINGS)).status).to.equal(404);
      });
    });
  });

  describe(`Owner notices of failed emails (${name})`, function () {
    let h: Harness;
    let sink: FaultySmtp;
    let drop: () => Promise<void>;
    before(async function () {
      const database = await create();
      const port = await freePort();
      sink = await new FaultySmtp().start(port);
      h = await startHarness(database.url, { SMTP_URL: `smtp://127.0.0.1:${port}`, SMTP_TIMEOUT_MS: '2000' });
      drop = () => database.drop();
    });
    after(async function () {
      await h.close();
      await sink.stop();
      await drop();
    });

    /** Runs the worker until nothing is queued or retrying, moving the clock past each backoff. */
    async function drainAll() {
      for (let i = 0; i < 20; i += 1) {
        await h.drain();
        const waiting = await h.db.models.OutboxMessage.count({ where: { status: { [Op.in]: ['queued', 'retrying'] } } });
        if (waiting === 0) return;
        h.clock.advance(120_000);
      }
    }

    it('should tell the owner once when an email to a collaborator fails for good, and not of a notice that fails', async function () {
      const mailbox = await h.mailbox(MAILBOX);
      sink.behaviour = { kind: 'refuse', stage: 'rcpt', code: 550 };
      const c = await h.domain.collaborations.create(mailbox, person('anna'), { actor: system });
      await drainAll();
      const rows = await h.db.models.OutboxMessage.findAll({ order: [['id', 'ASC']] });
      expect(rows.map((row) => [row.template, row.status])).to.deep.equal([['invitation', 'failed'], ['owner_notice', 'failed']]);
      const email = built(h, rows[1] as OutboxMessage);
      expect(email.subject).to.contain('Email non consegnata');
      expect(email.text).to.contain(`Mario Rossi (${c.username})`);
      expect(email.text).to.contain('550');
    });
  });

  describe(`The notification address, confirmed by a link (${name})`, function () {
    let h: Harness;
    let mailbox: Mailbox;
    let other: Mailbox;
    let owner: Browser;
    harnessPerSuite(create, { mailboxes: [MAILBOX, OTHER] }, (harness) => (h = harness));
    const NEW = 'segreteria@example.com';
    const choice = { address: NEW, events: ['invitation_accepted', 'access_ended'], delivery: 'immediate', digestHour: '18' };
    const linkPath = (link: string) => link.slice(BASE_URL.length);

    beforeEach(async function () {
      await h.reset();
      await h.db.models.NoticeSetting.destroy({ where: {} });
      await h.db.models.AuditEvent.destroy({ where: {} });
      h.clock.set(new Date('2026-03-02T09:00:00.000Z'));
      mailbox = (await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } })) as Mailbox;
      other = (await h.db.models.Mailbox.findOne({ where: { address: OTHER } })) as Mailbox;
      owner = await signedInOwner(h.app, MAILBOX);
    });

    /** The owner asks for NEW through the settings page; the link emailed to it. */
    async function ask(address = NEW): Promise<string> {
      expect((await owner.post(SETTINGS, { address, events: 'invitation_accepted', delivery: 'immediate', digestHour: '18' })).status).to.equal(303);
      return (await addressLinks(h, mailbox)).at(-1) as string;
    }

    async function confirm(link: string, browser = owner) {
      await browser.get(linkPath(link));
      return browser.post(linkPath(link));
    }

    it('should keep notices and reminders going to the mailbox while the new address is pending, and email it one link', async function () {
      const c = await collaboratorIn(h, mailbox, 'active', person('anna'));
      await h.domain.collaborations.setAccessEnd(c, { accessEndDate: '2026-03-10', accessEndTime: '18:00' }, { actor: system });
      // Three days (ACCESS_REMINDER_DAYS) before that end.
      h.clock.set(new Date('2026-03-07T17:00:00.000Z'));
      await h.db.models.OutboxMessage.destroy({ where: {} });
      const link = await ask();
      const [row, ...more] = await notices(h, 'notice_address');
      expect(more).to.have.length(0);
      expect(row?.recipient).to.equal(NEW);
      expect(link).to.match(new RegExp(`^${BASE_URL}/settings/collaborations/notifications/address/[A-Za-z0-9_-]{43}$`));
      expect(await h.domain.ownerNotices.addressOf(mailbox)).to.equal(MAILBOX);
      await collaboratorIn(h, mailbox, 'active', person('bruno'));
      expect(await h.domain.accessEnds.runIfDue()).to.deep.equal({ ended: 0, reminded: 1 });
      expect((await notices(h)).map((r) => r.recipient)).to.deep.equal([MAILBOX]);
      expect((await notices(h, 'access_end_reminder')).map((r) => r.recipient)).to.deep.equal([MAILBOX]);
    });

    for (const [locale, words] of [
      ['it', ['Conferma indirizzo per le notifiche', `titolare della casella PEC ${MAILBOX}`, 'non verrà inviato nulla', 'ignora questa email', '3 marzo 2026']],
      ['en', ['Confirm the address for notices', `owner of the PEC mailbox ${MAILBOX}`, 'Nothing will be sent', 'ignore this email', '3 March 2026']],
      ['es', ['Confirma la dirección de avisos', `titular del buzón PEC ${MAILBOX}`, 'No se enviará nada', 'ignora este correo', '3 de marzo de 2026']],
    ] as const) {
      it(`should write the confirmation email in the mailbox's language (${locale})`, async function () {
        await mailbox.update({ locale });
        const link = await ask();
        const [row] = await notices(h, 'notice_address');
        const email = buildEmail({ template: 'notice_address', locale, payload: JSON.parse(row!.payload) as EmailPayload, link, mailServer: h.config.mailServer, signInUrl: `${BASE_URL}/login` });
        for (const word of words) expect(email.subject + email.text).to.contain(word);
        expect(email.text).to.contain(link);
      });
    }

    it('should change nothing on GET of the link, and confirm on POST; notices go there afterwards', async function () {
      const link = await ask();
      const page = await owner.get(linkPath(link));
      expect(page.status).to.equal(200);
      expect(page.headers['cache-control']).to.contain('no-store');
      expect(page.headers['referrer-policy']).to.equal('no-referrer');
      expect(page.text).to.contain('Conferma l’indirizzo');
      expect(await h.domain.ownerNotices.addressOf(mailbox)).to.equal(MAILBOX);
      const res = await owner.post(linkPath(link));
      expect(res.status).to.equal(303);
      expect(await h.domain.ownerNotices.addressOf(mailbox)).to.equal(NEW);
      expect((await h.domain.ownerNotices.choices(mailbox)).pending).to.equal(null);
      await collaboratorIn(h, mailbox, 'active', person('anna'));
      expect((await notices(h)).map((r) => r.recipient)).to.deep.equal([NEW]);
    });

    it('should refuse a used, a wrong and an expired link with a clear page, changing nothing', async function () {
      const used = await ask();
      expect((await confirm(used)).status).to.equal(303);
      for (const link of [used, `${used.slice(0, -4)}AAAA`]) {
        const res = await confirm(link);
        expect(res.status).to.equal(410);
        expect(res.text).to.contain('Questo link non è più valido');
      }
      const expired = await ask('altro@example.com');
      h.clock.advance(24 * 3600 * 1000);
      expect((await owner.get(linkPath(expired))).status).to.equal(410);
      expect((await owner.post(linkPath(expired))).status).to.equal(410);
      expect(await h.domain.ownerNotices.addressOf(mailbox)).to.equal(NEW);
    });

    it("should answer 404 to another mailbox's owner, and refuse a POST without CSRF, changing nothing", async function () {
      const link = await ask();
      const stranger = await signedInOwner(h.app, OTHER);
      expect((await stranger.get(linkPath(link))).status).to.equal(404);
      expect((await stranger.post(linkPath(link))).status).to.equal(404);
      expect((await owner.agent.post(linkPath(link)).type('form').send({})).status).to.equal(403);
      expect(await h.domain.ownerNotices.addressOf(mailbox)).to.equal(MAILBOX);
      expect(await h.domain.ownerNotices.addressOf(other)).to.equal(OTHER);
      expect((await confirm(link)).status).to.equal(303);
    });

    it('should not send the link again when the same pending address is saved, only when asked to', async function () {
      const first = await ask();
      await ask();
      expect(await notices(h, 'notice_address')).to.have.length(1);
      expect((await owner.post(`${SETTINGS}/address`)).status).to.equal(303);
      const links = await addressLinks(h, mailbox);
      expect(links).to.have.length(2);
      expect((await confirm(first)).status).to.equal(410);
      expect((await confirm(links[1] as string)).status).to.equal(303);
    });

    it('should refuse the 6th confirmation email in 24 hours with a clear message, sending and changing nothing', async function () {
      for (let i = 1; i <= 5; i += 1) await ask(`n${i}@example.com`);
      const res = await owner.post(SETTINGS, { address: 'n6@example.com', events: 'email_failed', delivery: 'digest', digestHour: '7' });
      expect(res.status).to.equal(422);
      expect(res.text).to.contain('Hai già chiesto 5 link di conferma nelle ultime 24 ore');
      expect((await owner.post(`${SETTINGS}/address`)).status).to.equal(422);
      expect(await notices(h, 'notice_address')).to.have.length(5);
      const choices = await h.domain.ownerNotices.choices(mailbox);
      expect(choices).to.include({ digestHour: null });
      expect(choices.pending?.address).to.equal('n5@example.com');
      h.clock.advance(24 * 3600 * 1000 + 1000);
      await ask('n6@example.com');
      expect(await notices(h, 'notice_address')).to.have.length(6);
    });

    it('should use the mailbox again at once when the address is emptied, dropping the pending one', async function () {
      await saveNoticeChoices(h, mailbox, { ...choice, address: 'primo@example.com' });
      const link = await ask();
      expect((await owner.post(SETTINGS, { address: '', events: 'invitation_accepted', delivery: 'immediate', digestHour: '18' })).status).to.equal(303);
      expect(await h.domain.ownerNotices.choices(mailbox)).to.include({ address: MAILBOX, pending: null });
      expect((await confirm(link)).status).to.equal(410);
    });

    it('should show the changes in the activity', async function () {
      await h.domain.ownerNotices.save(mailbox, { ...choice, delivery: 'digest', digestHour: '8' }, { actor: ownerActor(mailbox) });
      expect((await confirm((await addressLinks(h, mailbox)).at(-1) as string)).status).to.equal(303);
      const text = unbroken((await owner.get('/settings/activity')).text);
      expect(text).to.contain(`Hai chiesto di ricevere le notifiche a ${NEW}`);
      expect(text).to.contain(`Hai confermato l’indirizzo ${NEW} per le notifiche`);
      expect(text).to.contain('Hai cambiato le impostazioni delle notifiche');
      expect(text).to.contain('Riepilogo giornaliero alle 08:00');
      expect(text).to.contain('l’accesso di un collaboratore termina (data di fine passata); un invito viene accettato');
    });
  });
}
