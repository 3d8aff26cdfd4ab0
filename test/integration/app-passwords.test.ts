/**
 * App passwords for mail programs (issue 11), over HTTP: a collaborator with mail-program access
 * creates one per device on /account (shown once, only its hash kept), revokes it; an owner's reset,
 * deactivation or lowered access ends them all; the owner sees how many and when last used, never the
 * passwords. Dovecot checking them for real: test/e2e/app-passwords.test.ts.
 */
import bcrypt from 'bcrypt';
import { expect } from 'chai';
import request from 'supertest';
import { DATABASES } from '../support/databases';
import { Browser, GOOD_PASSWORD, harnessPerSuite, signedInOwner, type Harness } from '../support/harness';
import { collaboratorIn, latestLinkToken, setPasswordByLink } from '../support/accounts';
import { tableRows, textOf } from '../support/html';
import { system } from '../../src/domain/actor';
import { TransitionRefused } from '../../src/domain/errors';
import { generateAppPassword, PREFIX_LENGTH } from '../../src/domain/app-passwords';
import type { AccessLevel, Collaborator, Mailbox } from '../../src/models';

const MAILBOX = 'studio.verdi@pec.example.it';
const OTHER_MAILBOX = 'studio.neri@pec.example.it';
const KEY = 'an auth policy key of the tests, 32 chars or more';
const DOVEADM = 'http://127.0.0.1:9/doveadm/v1';
/** 5 groups of 5 from the 32 symbols without l, o, 0, 1. */
const SHAPE = /^[a-km-np-z2-9]{5}(-[a-km-np-z2-9]{5}){4}$/;

describe('generateAppPassword', () => {
  it('should give 5 dash-separated groups of 5 lowercase letters and digits, never l, o, 0 or 1', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i += 1) {
      const password = generateAppPassword();
      expect(password).to.match(SHAPE);
      seen.add(password);
    }
    expect(seen.size, 'no repeats').to.equal(2000);
  });

  it('should use all 32 symbols at every position, about evenly', () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 4000; i += 1) for (const ch of generateAppPassword().replace(/-/g, '')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    expect(counts.size).to.equal(32);
    // 100,000 draws, 3,125 expected each: a biased draw (e.g. modulo 36) would be far off.
    for (const [ch, n] of counts) expect(n, ch).to.be.within(2800, 3450);
  });
});

for (const { name, create } of DATABASES) {
  describe(`App passwords (${name})`, function () {
    this.timeout(20_000);
    let h: Harness;
    let mailbox: Mailbox;
    let counter = 0;

    harnessPerSuite(create, { env: { AUTH_POLICY_KEY: KEY, DOVEADM_URLS: DOVEADM, DOVEADM_API_KEY: 'key' }, mailboxes: [MAILBOX, OTHER_MAILBOX] }, (harness) => {
      h = harness;
    });

    beforeEach(async function () {
      await h.reset();
      mailbox = (await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } }))!;
    });

    async function collaborator(accessLevel: AccessLevel = 'mail_clients', box = mailbox): Promise<Collaborator> {
      counter += 1;
      const username = `anna.${counter}`;
      return collaboratorIn(h, box, 'active', { firstName: 'Anna', lastName: 'Verdi', username, referenceEmail: `${username}@example.com`, accessLevel, manageSettings: false });
    }

    /** The collaborator signed in, on its account page (so its CSRF token is known). */
    async function signedIn(c: Collaborator): Promise<Browser> {
      const browser = new Browser(h.app);
      expect((await browser.signIn(c.username, GOOD_PASSWORD)).status).to.equal(303);
      expect((await browser.get('/account')).status).to.equal(200);
      return browser;
    }

    /** The password shown in a POST /account/app-passwords answer. */
    function shownPassword(html: string): string {
      const match = /id="created-app-password" data-value="([^"]+)"/.exec(html);
      if (!match) throw new Error('no app password shown');
      return match[1] as string;
    }

    async function createOne(browser: Browser, fields: Record<string, string> = {}): Promise<{ res: request.Response; password: string }> {
      const res = await browser.post('/account/app-passwords', { name: 'Outlook in ufficio', scope: 'read_send', ...fields });
      expect(res.status, res.text).to.equal(201);
      return { res, password: shownPassword(res.text) };
    }

    const rowsOf = (c: Collaborator) => h.db.models.AppPassword.findAll({ where: { collaboratorId: c.id }, order: [['id', 'ASC']] });

    describe('POST /account/app-passwords', function () {
      it('should show the new password once, in the answer, and keep only its bcrypt hash and prefix', async function () {
        const c = await collaborator();
        const browser = await signedIn(c);
        const { res, password } = await createOne(browser);
        expect(password).to.match(SHAPE);
        expect(textOf(res.text)).to.include('La tua password per le app per “Outlook in ufficio”');
        expect(res.text).to.include('data-copy="created-app-password"');

        const [row] = await rowsOf(c);
        expect(row?.prefix).to.equal(password.slice(0, PREFIX_LENGTH));
        expect(row?.scope).to.equal('read_send');
        expect(row?.passwordHash).to.match(/^\$2b\$04\$/);
        expect(await bcrypt.compare(password, row!.passwordHash)).to.equal(true);
        // Nothing else at rest holds it: not the row, not the outbox, not the activity log.
        const [raw] = await h.db.sequelize.query('SELECT * FROM app_passwords');
        expect(JSON.stringify(raw)).to.not.include(password.slice(PREFIX_LENGTH));
        const [others] = await h.db.sequelize.query('SELECT payload, secret FROM outbox_messages UNION ALL SELECT detail, action FROM audit_events');
        expect(JSON.stringify(others)).to.not.include(password.slice(PREFIX_LENGTH));

        const again = await browser.get('/account');
        expect(again.text).to.not.include(password);
        expect(again.text).to.not.include(password.slice(0, PREFIX_LENGTH));
        expect(textOf(again.text)).to.include('Outlook in ufficio').and.include('Leggere e inviare (IMAP, POP3, SMTP)').and.include('mai usata');
      });

      it('should queue the email to the reference address and record the creation, in the same transaction', async function () {
        const c = await collaborator();
        const browser = await signedIn(c);
        await createOne(browser, { name: 'Telefono', scope: 'read_only' });
        const emails = await h.db.models.OutboxMessage.findAll({ where: { collaboratorId: c.id, template: 'app_password_created' } });
        expect(emails.map((e) => [e.recipient, e.secret])).to.deep.equal([[c.referenceEmail, null]]);
        expect(JSON.parse(emails[0]!.payload).appPassword).to.deep.equal({ name: 'Telefono', createdAt: h.clock.now().toISOString() });
        const events = await h.db.models.AuditEvent.findAll({ where: { collaboratorId: c.id, action: 'app_password.created' } });
        expect(events.map((e) => [e.actorType, e.actorId, JSON.parse(e.detail ?? '{}')])).to.deep.equal([['collaborator', c.id, { name: 'Telefono', scope: 'read_only' }]]);
        expect(await h.drain()).to.be.greaterThan(0);
      });

      it('should give each of the collaborator’s app passwords its own prefix', async function () {
        const c = await collaborator();
        const browser = await signedIn(c);
        const passwords = [];
        for (let i = 0; i < 4; i += 1) passwords.push((await createOne(browser, { name: `Device ${i}` })).password);
        const prefixes = (await rowsOf(c)).map((r) => r.prefix);
        expect(new Set(prefixes).size).to.equal(4);
        expect(prefixes).to.deep.equal(passwords.map((p) => p.slice(0, PREFIX_LENGTH)));
      });

      const cases: Array<[string, Record<string, string>, string, string]> = [
        ['no name', { name: '   ' }, 'name', 'Scrivi un nome per il dispositivo.'],
        ['a name of 81 characters', { name: 'x'.repeat(81) }, 'name', 'Il nome può essere lungo al massimo 80 caratteri.'],
        ['a name with a line break', { name: 'Outlook\r\nBcc: x' }, 'name', 'Il nome contiene caratteri non ammessi.'],
        ['an unknown scope', { scope: 'everything' }, 'scope', 'Scegli cosa può fare il dispositivo.'],
      ];
      for (const [what, fields, field, message] of cases) {
        it(`should refuse ${what} with 422 and a message tied to the field, creating nothing`, async function () {
          const c = await collaborator();
          const browser = await signedIn(c);
          const res = await browser.post('/account/app-passwords', { name: 'Outlook', scope: 'read_send', ...fields });
          expect(res.status).to.equal(422);
          expect(res.text).to.include(`id="${field}-error">${message}</p>`);
          if (field === 'name') expect(res.text).to.match(/id="app-password-name"[^>]*aria-describedby="name-help name-error"[^>]*aria-invalid=true/);
          else expect(res.text).to.include('<fieldset class="field" aria-describedby="scope-error">');
          expect(res.text).to.not.include('created-app-password');
          expect(await h.db.models.AppPassword.count()).to.equal(0);
          expect(await h.db.models.OutboxMessage.count({ where: { template: 'app_password_created' } })).to.equal(0);
          expect(await h.db.models.AuditEvent.count({ where: { action: 'app_password.created' } })).to.equal(0);
        });
      }

      it('should accept a name of exactly 80 characters', async function () {
        const c = await collaborator();
        await createOne(await signedIn(c), { name: 'é'.repeat(80) });
        expect((await rowsOf(c))[0]?.name).to.equal('é'.repeat(80));
      });

      it('should refuse a request without the CSRF token (403), creating nothing', async function () {
        const c = await collaborator();
        const browser = await signedIn(c);
        const res = await browser.agent.post('/account/app-passwords').type('form').send({ name: 'Outlook', scope: 'read_send' });
        expect(res.status).to.equal(403);
        expect(await h.db.models.AppPassword.count()).to.equal(0);
      });

      it('should not exist for a collaborator without mail-program access, nor for the owner (404)', async function () {
        const c = await collaborator('send');
        const browser = await signedIn(c);
        expect(textOf((await browser.get('/account')).text)).to.not.include('Password per le app');
        expect((await browser.post('/account/app-passwords', { name: 'Outlook', scope: 'read_send' })).status).to.equal(404);
        const owner = await signedInOwner(h.app, MAILBOX);
        expect((await owner.post('/account/app-passwords', { name: 'Outlook', scope: 'read_send' })).status).to.equal(404);
        expect(await h.db.models.AppPassword.count()).to.equal(0);
      });
    });

    describe('GET /account', function () {
      it('should say that with two-step verification on, mail programs accept only app passwords', async function () {
        const c = await collaborator();
        const browser = await signedIn(c);
        const off = textOf((await browser.get('/account')).text);
        expect(off).to.include('Quando la verifica in due passaggi è attiva, i programmi di posta accettano solo le password per le app');
        await h.db.models.SecondFactor.create({ principalType: 'collaborator', principalId: c.id, kind: 'totp', name: null, secret: 'sealed', credentialId: null, credentialKey: null, publicKey: null, transports: null, lastUsedAt: null });
        const on = textOf((await browser.get('/account')).text);
        expect(on).to.include('La verifica in due passaggi è attiva sul tuo account: i programmi di posta accettano solo le password per le app');
        await h.db.models.SecondFactor.destroy({ where: { principalId: c.id } });
      });
    });

    describe('POST /account/app-passwords/:id/revocation', function () {
      it('should revoke it, record it and queue a kick for every Dovecot', async function () {
        const c = await collaborator();
        const browser = await signedIn(c);
        await createOne(browser, { name: 'Vecchio telefono' });
        await createOne(browser, { name: 'Outlook' });
        const [old, kept] = await rowsOf(c);
        await browser.get('/account');
        const kicksBefore = await h.db.models.OutboxMessage.count({ where: { kind: 'doveadm', template: 'kick', collaboratorId: c.id } });
        const res = await browser.post(`/account/app-passwords/${old!.id}/revocation`);
        expect(res.status).to.equal(303);
        expect(res.headers.location).to.equal('/account#app-passwords');
        expect((await rowsOf(c)).map((r) => r.id)).to.deep.equal([kept!.id]);
        expect(await h.db.models.OutboxMessage.count({ where: { kind: 'doveadm', template: 'kick', collaboratorId: c.id } })).to.equal(kicksBefore + 1);
        const events = await h.db.models.AuditEvent.findAll({ where: { collaboratorId: c.id, action: 'app_password.revoked' } });
        expect(events.map((e) => JSON.parse(e.detail ?? '{}').name)).to.deep.equal(['Vecchio telefono']);
        const page = textOf((await browser.get('/account')).text);
        expect(page).to.include('La password per le app “Vecchio telefono” è stata revocata');
      });

      it("should answer 404 for another collaborator's app password, of the same mailbox or another, and leave it", async function () {
        const [mine, neighbour] = [await collaborator(), await collaborator()];
        const stranger = await collaborator('mail_clients', (await h.db.models.Mailbox.findOne({ where: { address: OTHER_MAILBOX } }))!);
        await createOne(await signedIn(neighbour));
        await createOne(await signedIn(stranger));
        const browser = await signedIn(mine);
        for (const row of await h.db.models.AppPassword.findAll()) {
          expect((await browser.post(`/account/app-passwords/${row.id}/revocation`)).status).to.equal(404);
        }
        for (const id of ['0', '05', 'x', '99999999']) expect((await browser.post(`/account/app-passwords/${id}/revocation`)).status, id).to.equal(404);
        expect(await h.db.models.AppPassword.count()).to.equal(2);
        expect(await h.db.models.AuditEvent.count({ where: { action: 'app_password.revoked' } })).to.equal(0);
      });

      it('should refuse a revocation without the CSRF token (403)', async function () {
        const c = await collaborator();
        const browser = await signedIn(c);
        await createOne(browser);
        const [row] = await rowsOf(c);
        const res = await browser.agent.post(`/account/app-passwords/${row!.id}/revocation`).type('form').send({});
        expect(res.status).to.equal(403);
        expect(await rowsOf(c)).to.have.length(1);
      });
    });

    describe("the owner's actions end them all", function () {
      async function withTwo(): Promise<Collaborator> {
        const c = await collaborator();
        const browser = await signedIn(c);
        await createOne(browser, { name: 'Outlook' });
        await createOne(browser, { name: 'Telefono', scope: 'read_only' });
        return c;
      }

      it('should delete them at an owner reset', async function () {
        const c = await withTwo();
        await h.domain.collaborations.resetPassword(c, { actor: system });
        expect(await rowsOf(c)).to.have.length(0);
      });

      it('should delete them at a deactivation', async function () {
        const c = await withTwo();
        await h.domain.collaborations.deactivate(c, { actor: system });
        expect(await rowsOf(c)).to.have.length(0);
      });

      it('should delete them when the access is lowered below mail programs, and keep them on other changes', async function () {
        const c = await withTwo();
        await h.domain.collaborations.changeAccess(c, { accessLevel: 'mail_clients', manageSettings: true }, { actor: system });
        expect(await rowsOf(c), 'manage settings changed only').to.have.length(2);
        await h.domain.collaborations.changeAccess(c, { accessLevel: 'send', manageSettings: true }, { actor: system });
        expect(await rowsOf(c)).to.have.length(0);
      });

      it('should delete them when the collaborator changes its own password, or sets a new one by a forgot-password link', async function () {
        const c = await withTwo();
        await h.domain.selfService.changeOwnPassword(c, { currentPassword: GOOD_PASSWORD, password: 'another long and quiet river', passwordConfirmation: 'another long and quiet river' });
        expect(await rowsOf(c), 'after a change').to.have.length(0);
        const d = await withTwo();
        await h.domain.selfService.requestSelfReset(d.username);
        await setPasswordByLink(h, await latestLinkToken(h, d, 'self_reset'), 'yet another long and quiet river');
        expect(await rowsOf(d), 'after a forgot-password link').to.have.length(0);
      });

      it('should refuse one whose creation began before a password change committed (its bcrypt was running)', async function () {
        const c = await collaborator();
        const asSeenByTheRequest = await h.db.models.Collaborator.findByPk(c.id) as Collaborator;
        await h.domain.selfService.changeOwnPassword(c, { currentPassword: GOOD_PASSWORD, password: 'another long and quiet river', passwordConfirmation: 'another long and quiet river' });
        const actor = { type: 'collaborator' as const, id: c.id, name: c.username };
        const creation = h.domain.appPasswords.create(asSeenByTheRequest, { name: 'Survivor', scope: 'read_send' }, { actor });
        await creation.then(() => expect.fail('created'), (error: Error) => expect(error).to.be.instanceOf(TransitionRefused));
        expect(await rowsOf(c)).to.have.length(0);
      });
    });

    describe("the owner's details page", function () {
      it('should show how many app passwords there are and when they were last used, never the passwords', async function () {
        const c = await collaborator();
        const browser = await signedIn(c);
        const { password } = await createOne(browser, { name: 'Outlook' });
        await createOne(browser, { name: 'Telefono', scope: 'read_only' });
        const [used] = await rowsOf(c);
        // Dovecot's report of a sign-in with the first one, over IMAP.
        const report = { login: c.username, remote: '192.0.2.7', protocol: 'imap', client_id: '', success: true, policy_reject: false, app_password: String(used!.id) };
        expect((await request(h.app).post('/dovecot/auth-policy?command=report').set('Authorization', `Bearer ${KEY}`).send(report)).status).to.equal(200);

        const owner = await signedInOwner(h.app, MAILBOX);
        const page = (await owner.get(`/settings/collaborations/${c.id}`)).text;
        expect(textOf(page)).to.include('2 password per le app dei programmi di posta');
        const rows = tableRows(page, 'Password per le app');
        expect(rows.map((r) => r.slice(0, 2))).to.deep.equal([['Outlook', 'Leggere e inviare (IMAP, POP3, SMTP)'], ['Telefono', 'Solo leggere (IMAP, POP3)']]);
        expect(rows[0]?.[3]).to.match(/ tramite IMAP$/);
        expect(rows[1]?.[3]).to.equal('mai usata');
        for (const secret of [password, password.slice(0, PREFIX_LENGTH), used!.passwordHash]) expect(page).to.not.include(secret);
        const list = (await owner.get('/settings/collaborations')).text;
        expect(textOf(list), 'the count in the list').to.include('2 password per le app');
      });
    });

    describe('last use, from the auth policy report', function () {
      const report = (login: string, appPassword: string, fields: Record<string, unknown> = {}) =>
        request(h.app).post('/dovecot/auth-policy?command=report').set('Authorization', `Bearer ${KEY}`)
          .send({ login, remote: '192.0.2.8', protocol: 'pop3', client_id: '', success: true, policy_reject: false, app_password: appPassword, ...fields });

      it('should record when, over which service and from where, for a success with that account’s app password only', async function () {
        const [c, other] = [await collaborator(), await collaborator()];
        await createOne(await signedIn(c));
        const [row] = await rowsOf(c);
        h.clock.advance(60_000);
        expect((await report(other.username, String(row!.id))).status, "another account's login").to.equal(200);
        expect((await report(c.username, String(row!.id), { success: false })).status, 'a failure').to.equal(200);
        expect((await report(c.username, '')).status, 'the web password').to.equal(200);
        expect((await rowsOf(c))[0]?.lastUsedAt).to.equal(null);
        expect((await report(c.username.toUpperCase(), String(row!.id))).status).to.equal(200);
        const [after] = await rowsOf(c);
        expect([after?.lastUsedAt?.toISOString(), after?.lastProtocol, after?.lastIp]).to.deep.equal([h.clock.now().toISOString(), 'pop3', '192.0.2.8']);
      });

      it('should refuse an app_password that is not an id (400)', async function () {
        for (const value of ['x', '0', '-1', '1; DROP', 7]) expect((await report('a/b@c.it', value as string)).status, String(value)).to.equal(400);
      });
    });
  });
}
