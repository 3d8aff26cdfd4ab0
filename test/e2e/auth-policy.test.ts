/**
 * Mail-program sign-ins through the app's limits and into the owner's access history: a real
 * Dovecot, started from deploy/dovecot/dovecot.conf, asks the app over real HTTP (its auth policy
 * server) before each password check and reports each outcome; real clients (curl, python3's
 * imaplib) sign in over STARTTLS, every attempt from its own loopback address (see test/support/mail-client.ts).
 */
import { execFile } from 'node:child_process';
import http from 'node:http';
import type net from 'node:net';
import { expect } from 'chai';
import { DATABASES, type TestDatabase } from '../support/databases';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, startHarness, type Harness } from '../support/harness';
import { collaboratorIn } from '../support/accounts';
import { textOf } from '../support/html';
import { SmtpSink } from '../support/smtp-sink';
import { startDovecot, type Dovecot } from '../support/dovecot';
import { imapLogin, nextLoopbackAddress, pop3Login, postfixSaslCheck, smtpSubmit } from '../support/mail-client';
import { translator } from '../../src/i18n';

const MAILBOX = 'studio.gallo@pec.example.it';
const USERNAME = `luca.neri/${MAILBOX}`;
const KEY = 'the auth policy key of the e2e tests, long enough';
const ALERT = translator('it')('errorPage.tooManyMailProgram');

/**
 * Logs in with python3's imaplib from `from`, after STARTTLS (trusting the test's certificate only)
 * and an IMAP ID (RFC 2971) naming the client as Thunderbird does; prints the answer to LOGIN.
 */
const IMAP_WITH_ID = `
import imaplib, socket, ssl, sys
port, cafile, source, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
imaplib.Commands.setdefault('ID', ('NONAUTH', 'AUTH', 'SELECTED'))
class Client(imaplib.IMAP4):
    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout, source_address=(source, 0))
client = Client('127.0.0.1', port, timeout=30)
client.starttls(ssl.create_default_context(cafile=cafile))
client._simple_command('ID', '("name" "Thunderbird" "version" "115.3.1")')
try:
    print(client.login(user, password)[0])
except imaplib.IMAP4.error as refused:
    print('NO', refused)
`;

function imapWithId({ imapPort, caFile }: Dovecot, password: string): Promise<{ from: string; output: string }> {
  const from = nextLoopbackAddress();
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', IMAP_WITH_ID, String(imapPort), caFile, from, USERNAME, password], { timeout: 30_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ from, output: stdout.trim() }),
    );
  });
}

for (const { name, create } of DATABASES) {
  describe(`Mail-program sign-ins go through the app's limits and history (${name})`, function () {
    this.timeout(90_000);
    let database: TestDatabase;
    let sink: SmtpSink;
    let dovecot: Dovecot;
    let h: Harness;
    let server: http.Server;

    const imap = (password: string) => imapLogin({ port: dovecot.imapPort, caFile: dovecot.caFile, username: USERNAME, password });
    const pop3 = (password: string) => pop3Login({ port: dovecot.pop3Port, caFile: dovecot.caFile, username: USERNAME, password });
    const submit = (password: string) =>
      smtpSubmit({
        port: dovecot.submissionPort,
        caFile: dovecot.caFile,
        username: USERNAME,
        password,
        from: MAILBOX,
        to: 'cliente@example.com',
        message: `From: ${MAILBOX}\r\nTo: cliente@example.com\r\nSubject: hello\r\n\r\nBody.\r\n`,
      });
    const web = (password: string) => new Browser(h.app).signIn(USERNAME, password);

    /** Reports are not waited for by Dovecot: wait until `count` sign-ins are recorded. */
    async function recorded(count: number): Promise<void> {
      const deadline = Date.now() + 10_000;
      while ((await h.db.models.AccessEvent.count()) < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} sign-ins in the access history`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }

    before(async function () {
      database = await create();
      sink = await new SmtpSink().start();
      // The limits set low, as the reporters met them: 3 failures per account.
      h = await startHarness(database.url, { SMTP_URL: sink.url, AUTH_POLICY_KEY: KEY, SIGN_IN_LIMIT_PER_ACCOUNT: '3', SIGN_IN_LIMIT_PER_IP: '100' });
      await h.mailbox(MAILBOX);
      // Dovecot reaches the app as it would in production: over HTTP, on a port of its own.
      server = http.createServer(h.app);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as net.AddressInfo;
      dovecot = await startDovecot({ databaseUrl: database.url, relayPort: sink.port, authPolicy: { url: `http://127.0.0.1:${port}/dovecot/auth-policy`, key: KEY } });
    });

    beforeEach(async function () {
      await h.reset();
      const mailbox = (await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } }))!;
      await collaboratorIn(h, mailbox, 'active', { firstName: 'Luca', lastName: 'Neri', username: 'luca.neri', referenceEmail: 'luca@example.com', accessLevel: 'mail_clients', manageSettings: false });
    });

    after(async function () {
      const log = this.currentTest?.state === 'failed' && dovecot ? await dovecot.readLog() : '';
      if (log) console.error(`--- Dovecot log ---\n${log}`);
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
      await dovecot?.stop();
      await h?.close();
      await sink?.stop();
      await database?.drop();
    });

    it('should stop IMAP guesses at the account limit, then refuse the right password over IMAP and on the web', async function () {
      expect((await imap(GOOD_PASSWORD)).exitCode, 'the right password works at first').to.equal(0);
      // Three guessers, each from an address of its own, at once.
      const guesses = await Promise.all([1, 2, 3].map((i) => imap(`wrong guess number ${i}`)));
      expect(guesses.map((g) => g.exitCode)).to.deep.equal([67, 67, 67]);

      const right = await imapWithId(dovecot, GOOD_PASSWORD);
      expect(right.output).to.equal(`NO b'[ALERT] ${ALERT}'`);
      expect((await imap(GOOD_PASSWORD)).exitCode).to.equal(67);
      expect((await submit(GOOD_PASSWORD)).exitCode).to.equal(67);
      expect((await web(GOOD_PASSWORD)).status, 'the web refuses it too').to.equal(429);
      expect(await dovecot.readLog()).to.include('Authentication failure due to policy server refusal');
    });

    it('should add web failures and mail-program failures up in one counter', async function () {
      expect((await web('wrong guess on the web')).status).to.equal(422);
      expect((await imap('wrong guess over IMAP')).exitCode).to.equal(67);
      expect((await pop3('wrong guess over POP3')).exitCode).to.equal(67);
      expect((await imap(GOOD_PASSWORD)).exitCode, 'IMAP refuses the right password').to.equal(67);
      expect((await submit(GOOD_PASSWORD)).exitCode, 'so does submission').to.equal(67);
      expect((await web(GOOD_PASSWORD)).status, 'so does the web').to.equal(429);
    });

    it('should let a program that signs in keep signing in: a success gives its attempt back', async function () {
      for (let i = 0; i < 5; i += 1) expect((await imap(GOOD_PASSWORD)).exitCode).to.equal(0);
      expect((await web(GOOD_PASSWORD)).status).to.equal(303);
    });

    it("should show IMAP, POP3, submission and Postfix's SMTP AUTH sign-ins in the owner's access history", async function () {
      const thunderbird = await imapWithId(dovecot, GOOD_PASSWORD);
      expect(thunderbird.output).to.equal('OK');
      const refused = await imap('a wrong password');
      expect(refused.exitCode).to.equal(67);
      const popped = await pop3(GOOD_PASSWORD);
      expect(popped.exitCode, popped.output).to.equal(0);
      const sent = await submit(GOOD_PASSWORD);
      expect(sent.exitCode, sent.output).to.equal(0);
      expect(await postfixSaslCheck(dovecot.authSocket, USERNAME, GOOD_PASSWORD)).to.equal(true);
      await recorded(5);

      const rows = await h.db.models.AccessEvent.findAll({ order: [['id', 'ASC']] });
      expect(rows.map((r) => [r.channel, r.outcome, r.username, r.principalType])).to.have.deep.members([
        ['imap', 'success', USERNAME, 'collaborator'],
        ['imap', 'failure', USERNAME, 'collaborator'],
        ['pop3', 'success', USERNAME, 'collaborator'],
        ['submission', 'success', USERNAME, 'collaborator'],
        ['smtp', 'success', USERNAME, 'collaborator'],
      ]);

      const owner = new Browser(h.app);
      expect((await owner.signIn(MAILBOX, OWNER_PASSWORD)).status).to.equal(303);
      const page = (await owner.get('/settings/access-history')).text;
      // Each sign-in a row, as its text reads (the clients connect from this machine: "rete locale").
      const shown = (page.match(/<tr class="access-(?:success|failure)">[\s\S]*?<\/tr>/g) ?? []).map(textOf);
      const aRow = (...words: string[]) => shown.find((row) => words.every((word) => row.includes(word))) ?? `no row with ${words.join(', ')} in:\n${shown.join('\n')}`;
      expect(aRow('IMAP', 'Thunderbird', 'Riuscito')).to.include(USERNAME);
      expect(aRow('IMAP', 'Rifiutato')).to.include(USERNAME);
      expect(aRow('POP3', 'Riuscito')).to.include(USERNAME);
      expect(aRow('SMTP (invio)')).to.include(USERNAME);
    });

    it('should record a login that names no account, under the mailbox it names', async function () {
      expect((await imapLogin({ port: dovecot.imapPort, caFile: dovecot.caFile, username: `nobody/${MAILBOX}`, password: 'whatever it is' })).exitCode).to.equal(67);
      await recorded(1);
      const event = await h.db.models.AccessEvent.findOne();
      expect([event?.principalType, event?.username, event?.channel, event?.outcome]).to.deep.equal(['unknown', `nobody/${MAILBOX}`, 'imap', 'failure']);
    });

    // Last: the app stops answering for good.
    it('should let logins go on while the app is down, and Dovecot log the failure', async function () {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      const [good, bad, sent, popped] = await Promise.all([imap(GOOD_PASSWORD), imap('a wrong password'), submit(GOOD_PASSWORD), pop3(GOOD_PASSWORD)]);
      expect(good.exitCode, good.output).to.equal(0);
      expect(popped.exitCode, popped.output).to.equal(0);
      expect(bad.exitCode).to.equal(67);
      expect(sent.exitCode, sent.output).to.equal(0);
      expect(await dovecot.readLog()).to.match(/auth: Error: policy\(.*\): Policy server HTTP error: connect\(127\.0\.0\.1:\d+\) failed: Connection refused/);
      expect(await h.db.models.AccessEvent.count()).to.equal(0);
    });
  });
}
