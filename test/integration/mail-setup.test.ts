/**
 * One description of what to type in a mail program (src/mail/mail-setup.ts), and every consumer
 * saying the same: the account page, the set-password page, the email, autoconfig, Autodiscover and
 * the Apple profile, on non-standard ports and with both securities; and the mail domains
 * autoconfig and Autodiscover answer for.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { DATABASES, type TestDatabase } from '../support/databases';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, startHarness, type Harness } from '../support/harness';
import { addCollaborator, latestLinkToken, setPasswordByLink } from '../support/accounts';
import { fromAppleProfile, fromAutoconfig, fromAutodiscover, fromEmailText, fromPage } from '../support/mail-setup-documents';
import { mailSetup } from '../../src/mail/mail-setup';

const MAILBOX = 'studio.neri@pec.example.it';
const USERNAME = `mario.rossi/${MAILBOX}`;

const SERVERS = { IMAP_HOST: 'mail.pec.example.it', POP3_HOST: 'pop.pec.example.it', SUBMISSION_HOST: 'smtp.pec.example.it' };
const CONFIGURATIONS: Array<[title: string, env: Record<string, string>]> = [
  ['STARTTLS on the standard plain ports (IMAP 143, POP3 110, submission 587)', { IMAP_PORT: '143', IMAP_SECURITY: 'starttls', POP3_PORT: '110', POP3_SECURITY: 'starttls', SUBMISSION_PORT: '587', SUBMISSION_SECURITY: 'starttls' }],
  ['non-standard ports, securities mixed (IMAP 1143 STARTTLS, POP3 1995 SSL, submission 2587 STARTTLS)', { IMAP_PORT: '1143', IMAP_SECURITY: 'starttls', POP3_PORT: '1995', POP3_SECURITY: 'ssl', SUBMISSION_PORT: '2587', SUBMISSION_SECURITY: 'starttls' }],
  ['securities against the usual ports (IMAP 143 SSL, POP3 995 STARTTLS, submission 587 SSL)', { IMAP_PORT: '143', IMAP_SECURITY: 'ssl', POP3_PORT: '995', POP3_SECURITY: 'starttls', SUBMISSION_PORT: '587', SUBMISSION_SECURITY: 'ssl' }],
];

function autodiscoverRequest(address: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>${address}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`;
}

/** The text of the newest email written to the development outbox folder. */
async function lastEmailText(h: Harness): Promise<string> {
  await h.drain();
  const folder = path.join(h.config.dataDir, 'mail');
  const names = (await fs.readdir(folder)).sort();
  const texts = await Promise.all(names.map(async (name) => JSON.parse(await fs.readFile(path.join(folder, name), 'utf8')) as { subject: string; text: string }));
  const active = texts.filter((mail) => /^Account active/.test(mail.subject));
  return active[active.length - 1]!.text;
}

for (const [title, env] of CONFIGURATIONS) {
  describe(`What to type in a mail program: ${title}`, function () {
    this.timeout(30_000);
    let database: TestDatabase;
    let h: Harness;
    let collaborator: Browser;
    let donePage = '';

    before(async function () {
      database = await DATABASES[0]!.create();
      h = await startHarness(database.url, { ...SERVERS, ...env });
      // Emails in English, the language fromEmailText reads.
      await (await h.mailbox(MAILBOX)).update({ locale: 'en' });
      const owner = new Browser(h.app);
      await owner.signIn(MAILBOX, OWNER_PASSWORD);
      await owner.get('/settings/collaborations/new');
      const c = await addCollaborator(h, owner, MAILBOX, { username: 'mario.rossi' });
      donePage = (await setPasswordByLink(h, await latestLinkToken(h, c))).res.text;
      collaborator = new Browser(h.app);
      expect((await collaborator.signIn(USERNAME, GOOD_PASSWORD)).status).to.equal(303);
    });

    after(async function () {
      await h?.close();
      await database?.drop();
    });

    const expected = () => mailSetup(h.config.mailServer, { mailbox: MAILBOX, login: USERNAME });

    it('should take each service from the configuration, security included', function () {
      const setup = expected();
      expect(setup.address).to.equal(MAILBOX);
      expect(setup.login).to.equal(USERNAME);
      expect(setup.imap).to.deep.equal({ host: SERVERS.IMAP_HOST, port: Number(env.IMAP_PORT), security: env.IMAP_SECURITY });
      expect(setup.pop3).to.deep.equal({ host: SERVERS.POP3_HOST, port: Number(env.POP3_PORT), security: env.POP3_SECURITY });
      expect(setup.submission).to.deep.equal({ host: SERVERS.SUBMISSION_HOST, port: Number(env.SUBMISSION_PORT), security: env.SUBMISSION_SECURITY });
    });

    it('should show it on the account page: the mailbox as address, the username as login', async function () {
      const page = await collaborator.get('/account');
      expect(page.status).to.equal(200);
      expect(fromPage(page.text)).to.deep.equal(expected());
    });

    it('should show it on the set-password page', function () {
      expect(fromPage(donePage)).to.deep.equal(expected());
    });

    it('should write it in the email that confirms the password', async function () {
      expect(fromEmailText(await lastEmailText(h))).to.deep.equal(expected());
    });

    it("should answer autoconfig with it, asked with the collaborator's username", async function () {
      const res = await request(h.app).get('/.well-known/autoconfig/mail/config-v1.1.xml').query({ emailaddress: USERNAME }).expect(200);
      const { address: _address, ...setup } = expected();
      expect(fromAutoconfig(res.text)).to.deep.equal(setup);
    });

    it('should answer autoconfig asked with the mailbox address with that address as login (the owner’s)', async function () {
      const res = await request(h.app).get('/mail/config-v1.1.xml').query({ emailaddress: MAILBOX }).expect(200);
      expect(fromAutoconfig(res.text).login).to.equal(MAILBOX);
    });

    it('should answer Autodiscover with it, the mailbox as the address', async function () {
      const res = await request(h.app).post('/autodiscover/autodiscover.xml').set('Content-Type', 'text/xml').send(autodiscoverRequest(USERNAME)).expect(200);
      expect(fromAutodiscover(res.text)).to.deep.equal(expected());
    });

    it('should put it in the Apple profile, TLS required for IMAP and submission whichever the security', async function () {
      const res = await collaborator.get('/account/mail-profile.mobileconfig');
      expect(res.status).to.equal(200);
      const profile = fromAppleProfile(res.text || String(res.body));
      const setup = expected();
      expect(profile).to.deep.equal({
        accountType: 'EmailTypeIMAP',
        address: setup.address,
        login: setup.login,
        outgoingLogin: setup.login,
        imap: { host: setup.imap.host, port: setup.imap.port, useSsl: true },
        submission: { host: setup.submission.host, port: setup.submission.port, useSsl: true },
      });
    });
  });
}

for (const { name, create } of DATABASES) {
  describe(`Mail domains autoconfig and Autodiscover answer for (${name})`, function () {
    this.timeout(30_000);
    let database: TestDatabase;
    let h: Harness;

    const autoconfig = (app: Harness['app'], emailaddress?: string) =>
      request(app).get('/mail/config-v1.1.xml').query(emailaddress === undefined ? {} : { emailaddress });
    const autodiscover = (app: Harness['app'], address: string) =>
      request(app).post('/autodiscover/autodiscover.xml').set('Content-Type', 'text/xml').send(autodiscoverRequest(address));

    before(async function () {
      database = await create();
      h = await startHarness(database.url);
      await h.mailbox(MAILBOX);
    });

    after(async function () {
      await h?.close();
      await database?.drop();
    });

    it("should answer for the domains of the installation's mailboxes when MAIL_DOMAINS is unset", async function () {
      expect((await autoconfig(h.app, MAILBOX)).status).to.equal(200);
      expect((await autoconfig(h.app, USERNAME)).status).to.equal(200);
      expect((await autodiscover(h.app, USERNAME)).status).to.equal(200);
      const listed = await autoconfig(h.app);
      expect([...listed.text.matchAll(/<domain>([^<]*)<\/domain>/g)].map((m) => m[1])).to.deep.equal(['pec.example.it']);
    });

    it('should answer 404 for gmail.com, and for a username whose mailbox domain is not served', async function () {
      for (const address of ['someone@gmail.com', 'mario.rossi/someone@gmail.com']) {
        expect((await autoconfig(h.app, address)).status, address).to.equal(404);
        expect((await autodiscover(h.app, address)).status, address).to.equal(404);
      }
    });

    it('should serve the domain of a mailbox added later, within a minute', async function () {
      await h.mailbox('studio.blu@pec.other.example');
      h.clock.advance(61_000);
      expect((await autoconfig(h.app, 'studio.blu@pec.other.example')).status).to.equal(200);
      expect((await autoconfig(h.app, 'someone@gmail.com')).status).to.equal(404);
    });

    it('should answer only for MAIL_DOMAINS when it is set', async function () {
      const configured = await startHarness(database.url, { MAIL_DOMAINS: 'pec.configured.example' });
      try {
        expect((await autoconfig(configured.app, MAILBOX)).status).to.equal(404);
        expect((await autodiscover(configured.app, USERNAME)).status).to.equal(404);
        expect((await autoconfig(configured.app, 'a@pec.configured.example')).status).to.equal(200);
        expect((await autoconfig(configured.app, 'a@gmail.com')).status).to.equal(404);
      } finally {
        await configured.close();
      }
    });
  });
}
