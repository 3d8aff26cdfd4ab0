/**
 * A collaborator sets up a mail program typing only what the account page, autoconfig, Autodiscover
 * and the Apple profile say, against a real Dovecot started from the shipped configuration: each
 * document is fetched as its program asks for it, parsed, and followed exactly (host, port, implicit
 * TLS or STARTTLS) by a real client, which signs in and sends; the relay receives the message
 * `From:` the mailbox.
 */
import { expect } from 'chai';
import request from 'supertest';
import { DATABASES, type TestDatabase } from '../support/databases';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, newCollaborator, startHarness, type Harness } from '../support/harness';
import { SmtpSink } from '../support/smtp-sink';
import { latestLinkToken, setPasswordByLink } from '../support/accounts';
import { startDovecot, type Dovecot } from '../support/dovecot';
import { fromAppleProfile, fromAutoconfig, fromAutodiscover, fromPage, type ServiceSaid, type SetupSaid } from '../support/mail-setup-documents';
import { runMailProgram } from '../support/python-mail-client';

const MAILBOX = 'studio.neri@pec.example.it';
const CHOSEN = 'mario.rossi';
const USERNAME = `${CHOSEN}/${MAILBOX}`;

/** Both securities for each protocol, across the two configurations, on the test Dovecot's ports. */
const CONFIGURATIONS: Array<[title: string, env: (d: Dovecot) => Record<string, string>]> = [
  ['IMAP STARTTLS, POP3 implicit TLS, submission STARTTLS', (d) => ({ IMAP_PORT: String(d.imapPort), IMAP_SECURITY: 'starttls', POP3_PORT: String(d.pop3sPort), POP3_SECURITY: 'ssl', SUBMISSION_PORT: String(d.submissionPort), SUBMISSION_SECURITY: 'starttls' })],
  ['IMAP implicit TLS, POP3 STARTTLS, submission implicit TLS', (d) => ({ IMAP_PORT: String(d.imapsPort), IMAP_SECURITY: 'ssl', POP3_PORT: String(d.pop3Port), POP3_SECURITY: 'starttls', SUBMISSION_PORT: String(d.submissionsPort), SUBMISSION_SECURITY: 'ssl' })],
];

for (const { name, create } of DATABASES) {
  describe(`A mail program set up from what the app says (${name})`, function () {
    this.timeout(90_000);
    let database: TestDatabase;
    let sink: SmtpSink;
    let dovecot: Dovecot;

    before(async function () {
      database = await create();
      sink = await new SmtpSink().start();
      // Migrations first: Dovecot reads the view they create.
      const h = await startHarness(database.url);
      try {
        await h.mailbox(MAILBOX);
        const owner = new Browser(h.app);
        await owner.signIn(MAILBOX, OWNER_PASSWORD);
        await owner.get('/settings/collaborations/new');
        expect((await owner.post('/settings/collaborations', newCollaborator({ username: CHOSEN, accessLevel: 'mail_clients' }))).status).to.equal(303);
        const c = await h.db.models.Collaborator.findOne({ where: { username: USERNAME } });
        expect((await setPasswordByLink(h, await latestLinkToken(h, c!))).res.status).to.equal(200);
      } finally {
        await h.close();
      }
      dovecot = await startDovecot({ databaseUrl: database.url, relayPort: sink.port });
    });

    after(async function () {
      const log = this.currentTest?.state === 'failed' && dovecot ? await dovecot.readLog() : '';
      if (log) console.error(`--- Dovecot log ---\n${log}`);
      await dovecot?.stop();
      await sink?.stop();
      await database?.drop();
    });

    for (const [title, env] of CONFIGURATIONS) {
      describe(title, function () {
        let h: Harness;
        let collaborator: Browser;
        let page: SetupSaid;

        before(async function () {
          h = await startHarness(database.url, { IMAP_HOST: '127.0.0.1', POP3_HOST: '127.0.0.1', SUBMISSION_HOST: '127.0.0.1', ...env(dovecot) });
          collaborator = new Browser(h.app);
          expect((await collaborator.signIn(USERNAME, GOOD_PASSWORD)).status).to.equal(303);
          const account = await collaborator.get('/account');
          expect(account.status).to.equal(200);
          page = fromPage(account.text);
        });

        after(async function () {
          await h?.close();
        });

        const session = (protocol: 'imap' | 'pop3' | 'smtp', service: ServiceSaid, login: string) =>
          runMailProgram({ protocol, ...service, login, password: GOOD_PASSWORD, caFile: dovecot.caFile });

        /** Sends with From = `address` through `service`; the relay must receive it from the mailbox. */
        async function send(service: ServiceSaid, login: string, address: string, subject: string): Promise<void> {
          const before = sink.received.length;
          await runMailProgram({ protocol: 'smtp', ...service, login, password: GOOD_PASSWORD, caFile: dovecot.caFile, from: address, to: 'cliente@example.com', subject });
          const mails = await sink.waitFor(before + 1);
          const mail = mails.find((m) => m.subject === subject);
          expect(mail, subject).to.not.equal(undefined);
          expect(mail!.headers.find((header) => header.key === 'from')?.value).to.equal(MAILBOX);
        }

        it('should tell the collaborator to type the mailbox as address and its own username as login', function () {
          expect(page.address).to.equal(MAILBOX);
          expect(page.login).to.equal(USERNAME);
        });

        it('should let Thunderbird, set up from autoconfig and the account page, read over IMAP and POP3 and send from the mailbox', async function () {
          // Thunderbird asks with the address the user typed: the mailbox.
          const res = await request(h.app).get('/.well-known/autoconfig/mail/config-v1.1.xml').query({ emailaddress: MAILBOX }).expect(200);
          const said = fromAutoconfig(res.text);
          expect({ imap: said.imap, pop3: said.pop3, submission: said.submission }).to.deep.equal({ imap: page.imap, pop3: page.pop3, submission: page.submission });
          // Asked with the mailbox, it names the mailbox (the owner's login); the page says where to type the collaborator's own.
          expect(said.login).to.equal(MAILBOX);
          expect(await session('imap', said.imap, page.login)).to.match(/^imap OK/);
          expect(await session('pop3', said.pop3!, page.login)).to.match(/^pop3 /);
          await send(said.submission, page.login, page.address!, `autoconfig ${title}`);
        });

        it('should let Outlook, set up from Autodiscover and the account page, read over IMAP and POP3 and send from the mailbox', async function () {
          const body = `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>${MAILBOX}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`;
          const res = await request(h.app).post('/autodiscover/autodiscover.xml').set('Content-Type', 'text/xml').send(body).expect(200);
          const said = fromAutodiscover(res.text);
          expect({ address: said.address, imap: said.imap, pop3: said.pop3, submission: said.submission }).to.deep.equal({ address: page.address, imap: page.imap, pop3: page.pop3, submission: page.submission });
          expect(await session('imap', said.imap, page.login)).to.match(/^imap OK/);
          expect(await session('pop3', said.pop3!, page.login)).to.match(/^pop3 /);
          await send(said.submission, page.login, said.address!, `autodiscover ${title}`);
        });

        it('should let Apple Mail, set up from the profile alone, read over IMAP and send from the mailbox', async function () {
          const res = await collaborator.get('/account/mail-profile.mobileconfig');
          expect(res.status).to.equal(200);
          const profile = fromAppleProfile(res.text || String(res.body));
          expect(profile.address).to.equal(page.address);
          expect(profile.login).to.equal(page.login);
          expect(profile.outgoingLogin).to.equal(page.login);
          // The profile's only word on security is "TLS required"; how (implicit or STARTTLS) is the port's, as the page states.
          expect(profile.imap).to.deep.equal({ host: page.imap.host, port: page.imap.port, useSsl: true });
          expect(profile.submission).to.deep.equal({ host: page.submission.host, port: page.submission.port, useSsl: true });
          expect(await session('imap', { ...profile.imap, security: page.imap.security }, profile.login)).to.match(/^imap OK/);
          await send({ ...profile.submission, security: page.submission.security }, profile.outgoingLogin, profile.address, `profile ${title}`);
        });
      });
    }
  });
}
