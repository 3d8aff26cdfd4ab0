/**
 * App passwords checked by a real Dovecot, started from deploy/dovecot/ (the app-password passdb
 * before the account's own), with real clients (curl, sockets, Postfix's SASL protocol) over
 * STARTTLS: each scope on each service, quotes and backslashes, revocation, an owner's reset, two-step
 * verification, and the last use Dovecot reports to the app's auth policy server. One Dovecot per
 * database; with MariaDB it reads through the read-only user the guide asks for.
 */
import http from 'node:http';
import type net from 'node:net';
import { expect } from 'chai';
import { DATABASES, readOnlyMysqlUrl, type TestDatabase } from '../support/databases';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, startHarness, WIDE_LIMITS, type Harness } from '../support/harness';
import { collaboratorIn } from '../support/accounts';
import { SmtpSink } from '../support/smtp-sink';
import { startDovecot, type Dovecot } from '../support/dovecot';
import { holdSession, imapLogin, pop3Login, postfixSaslCheck, smtpSubmit, type Attempt } from '../support/mail-client';
import { openDatabase } from '../../src/db';
import { system } from '../../src/domain/actor';
import { PREFIX_LENGTH } from '../../src/domain/app-passwords';
import type { AppPasswordScope, Collaborator, Mailbox } from '../../src/models';
import { until } from '../support/wait';

const MAILBOX = 'studio.gallo@pec.example.it';
const USERNAME = `luca.neri/${MAILBOX}`;
const KEY = 'the auth policy key of the e2e tests, long enough';
const API_KEY = 'doveadm key of the app-password tests';
/** A web password with the characters SQL quoting must survive. */
const QUOTED_PASSWORD = `it's a "quoted" back\\slash password`;


for (const { name, create } of DATABASES) {
  describe(`App passwords in a real Dovecot (${name})`, function () {
    this.timeout(90_000);
    let database: TestDatabase;
    let readOnly: { url: string; drop(): Promise<void> } | undefined;
    let sink: SmtpSink;
    let dovecot: Dovecot;
    let h: Harness;
    let server: http.Server;
    let mailbox: Mailbox;
    let collaborator: Collaborator;

    const credentials = (password: string) => ({ caFile: dovecot.caFile, username: USERNAME, password });
    const imap = (password: string) => imapLogin({ port: dovecot.imapPort, ...credentials(password) });
    const pop3 = (password: string) => pop3Login({ port: dovecot.pop3Port, ...credentials(password) });
    const submit = (password: string) =>
      smtpSubmit({
        port: dovecot.submissionPort,
        ...credentials(password),
        from: MAILBOX,
        to: 'cliente@example.com',
        message: `From: ${MAILBOX}\r\nTo: cliente@example.com\r\nSubject: hello\r\n\r\nBody.\r\n`,
      });
    const postfix = (password: string) => postfixSaslCheck(dovecot.authSocket, USERNAME, password);
    const exitCodes = (attempts: Attempt[]) => attempts.map((a) => (a.exitCode === 0 || a.exitCode === 67 ? a.exitCode : a.output));

    /** What the server answered when it refused to sign in a session (the IMAP or SMTP reply), or 'signed in'. */
    function refusal(protocol: 'imap' | 'submission', password: string): Promise<string> {
      const port = protocol === 'imap' ? dovecot.imapPort : dovecot.submissionPort;
      return holdSession(protocol, { port, ...credentials(password) }).then(
        (session) => {
          session.close();
          return 'signed in';
        },
        (error: Error) => error.message,
      );
    }

    async function appPassword(scope: AppPasswordScope = 'read_send', device = 'Outlook in ufficio'): Promise<string> {
      return (await h.domain.appPasswords.create(collaborator, { name: device, scope }, { actor: system })).password;
    }

    before(async function () {
      database = await create();
      sink = await new SmtpSink().start();
      // Dovecot must know the policy URL and the app its doveadm URL: the server answers for the app made after.
      server = http.createServer((req, res) => h.app(req, res));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as net.AddressInfo;
      // The schema first, so that the read-only user can be granted the views.
      await (await openDatabase(database.url)).close();
      readOnly = database.name === 'MariaDB' ? await readOnlyMysqlUrl(database.url) : undefined;
      dovecot = await startDovecot({
        databaseUrl: readOnly?.url ?? database.url,
        relayPort: sink.port,
        apiKey: API_KEY,
        authPolicy: { url: `http://127.0.0.1:${port}/dovecot/auth-policy`, key: KEY },
      });
      h = await startHarness(database.url, { ...WIDE_LIMITS, SMTP_URL: sink.url, AUTH_POLICY_KEY: KEY, DOVEADM_URLS: dovecot.doveadmUrl, DOVEADM_API_KEY: API_KEY });
      await h.mailbox(MAILBOX);
    });

    beforeEach(async function () {
      await h.reset();
      mailbox = (await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } }))!;
      const input = { firstName: 'Luca', lastName: 'Neri', username: 'luca.neri', referenceEmail: 'luca@example.com', accessLevel: 'mail_clients' as const, manageSettings: false };
      collaborator = await collaboratorIn(h, mailbox, 'active', input, QUOTED_PASSWORD);
    });

    afterEach(async function () {
      if (this.currentTest?.state === 'failed' && dovecot) console.error(`--- Dovecot log ---\n${await dovecot.readLog()}`);
    });

    after(async function () {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
      await dovecot?.stop();
      await h?.close();
      await readOnly?.drop();
      await sink?.stop();
      await database?.drop();
    });

    it('should let an app password in over IMAP, POP3, submission and Postfix’s SMTP AUTH, beside the web password', async function () {
      const password = await appPassword();
      const attempts = await Promise.all([imap(password), pop3(password), submit(password)]);
      expect(exitCodes(attempts)).to.deep.equal([0, 0, 0]);
      expect(await postfix(password)).to.equal(true);
      expect(exitCodes([await imap(QUOTED_PASSWORD)]), `the web password with ' " \\ still works`).to.deep.equal([0]);
      expect(await postfix(QUOTED_PASSWORD)).to.equal(true);
    });

    it('should refuse a read-only app password on submission and Postfix’s SMTP AUTH, and let it read', async function () {
      const password = await appPassword('read_only', 'Tablet');
      // Each failure waits Dovecot's auth_failure_delay (2 s): they run side by side.
      const [attempts, viaPostfix, held] = await Promise.all([
        Promise.all([imap(password), pop3(password), submit(password)]),
        postfix(password),
        refusal('submission', password),
      ]);
      expect(exitCodes(attempts)).to.deep.equal([0, 0, 67]);
      expect(viaPostfix).to.equal(false);
      expect(held).to.match(/^submission: refused at step 4: 535 /);
    });

    it('should refuse cleanly (authentication failed, not a temporary failure) a password that starts with a prefix and holds quotes and backslashes', async function () {
      const password = await appPassword();
      const prefix = password.slice(0, PREFIX_LENGTH);
      const crafted = [`${prefix}' OR '1'='1`, `${prefix}\\' OR 1=1 -- "`, `${prefix}"\\\\'`, `'\\"${password}`, `\\${prefix}`];
      const [overImap, viaPostfix] = await Promise.all([Promise.all(crafted.map((p) => refusal('imap', p))), Promise.all(crafted.map(postfix))]);
      overImap.forEach((answer, i) => expect(answer, crafted[i]).to.match(/a1 NO \[AUTHENTICATIONFAILED\]/));
      expect(viaPostfix).to.deep.equal(crafted.map(() => false));
      expect(await dovecot.readLog()).to.not.match(/Password query failed|multiple matches/);
      expect(exitCodes([await imap(password)]), 'the app password itself still works').to.deep.equal([0]);
    });

    it('should refuse a revoked app password, keep the others, and drop the sessions open with it', async function () {
      const [gone, kept] = [await appPassword('read_send', 'Vecchio telefono'), await appPassword('read_send', 'Outlook')];
      const held = await holdSession('imap-idle', { port: dovecot.imapPort, ...credentials(gone) });
      const [row] = await h.db.models.AppPassword.findAll({ where: { collaboratorId: collaborator.id }, order: [['id', 'ASC']] });
      await h.domain.appPasswords.revoke(collaborator, row!.id, { actor: system });
      const [attempts, viaPostfix] = await Promise.all([Promise.all([imap(gone), submit(gone), imap(kept)]), postfix(gone)]);
      expect(exitCodes(attempts)).to.deep.equal([67, 67, 0]);
      expect(viaPostfix).to.equal(false);
      // The kick the revocation queued, as the worker sends it.
      await h.drain();
      expect((await held.ended).bye, 'the open IMAP session got BYE').to.equal(true);
    });

    it('should refuse an app password made before an owner reset, also once a new password is set', async function () {
      const password = await appPassword();
      expect(exitCodes([await imap(password)])).to.deep.equal([0]);
      await h.domain.collaborations.resetPassword(collaborator, { actor: system });
      expect(exitCodes(await Promise.all([imap(password), pop3(password), submit(password)]))).to.deep.equal([67, 67, 67]);
      const link = (await h.db.models.Link.findOne({ where: { collaboratorId: collaborator.id }, order: [['id', 'DESC']] }))!;
      await h.domain.selfService.setPasswordWithLink(link, GOOD_PASSWORD, GOOD_PASSWORD);
      expect(exitCodes(await Promise.all([imap(password), imap(GOOD_PASSWORD)]))).to.deep.equal([67, 0]);
    });

    it('should refuse the web password in mail programs once the collaborator has a second factor, while app passwords work', async function () {
      const password = await appPassword();
      await h.db.models.SecondFactor.create({ principalType: 'collaborator', principalId: collaborator.id, kind: 'totp', name: null, secret: 'sealed', credentialId: null, credentialKey: null, publicKey: null, transports: null, lastUsedAt: null });
      const web = Promise.all([imap(QUOTED_PASSWORD), pop3(QUOTED_PASSWORD), submit(QUOTED_PASSWORD), postfix(QUOTED_PASSWORD)]);
      const app = Promise.all([imap(password), pop3(password), submit(password), postfix(password)]);
      const [[webImap, webPop3, webSubmit, webPostfix], [appImap, appPop3, appSubmit, appPostfix]] = await Promise.all([web, app]);
      expect([...exitCodes([webImap, webPop3, webSubmit]), webPostfix], 'the web password').to.deep.equal([67, 67, 67, false]);
      expect([...exitCodes([appImap, appPop3, appSubmit]), appPostfix], 'the app password').to.deep.equal([0, 0, 0, true]);
    });

    it('should show when and over which service an app password was last used, from the auth policy report', async function () {
      const password = await appPassword('read_send', 'Outlook');
      await appPassword('read_only', 'Tablet');
      expect(exitCodes([await imap(QUOTED_PASSWORD)])).to.deep.equal([0]);
      const used = await pop3(password);
      expect(used.exitCode, used.output).to.equal(0);
      const [outlook, tablet] = await h.db.models.AppPassword.findAll({ where: { collaboratorId: collaborator.id }, order: [['id', 'ASC']] });
      await until('the report of the POP3 sign-in', async () => (await outlook!.reload()).lastUsedAt !== null);
      expect([outlook!.lastProtocol, outlook!.lastIp]).to.deep.equal(['pop3', used.from]);
      expect((await tablet!.reload()).lastUsedAt, 'the web password is no app password').to.equal(null);

      const browser = new Browser(h.app);
      expect((await browser.signIn(USERNAME, QUOTED_PASSWORD)).status).to.equal(303);
      expect((await browser.get('/account')).text).to.match(/Outlook<\/td>[\s\S]*?tramite POP3<\/td>[\s\S]*?Tablet<\/td>[\s\S]*?mai usata<\/td>/);
      const owner = new Browser(h.app);
      expect((await owner.signIn(MAILBOX, OWNER_PASSWORD)).status).to.equal(303);
      expect((await owner.get(`/settings/collaborations/${collaborator.id}`)).text).to.include('tramite POP3');
    });
  });
}
