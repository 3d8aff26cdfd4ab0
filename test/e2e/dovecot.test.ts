/**
 * A real Dovecot, started from deploy/dovecot/, authenticates collaborators from the application's
 * database through the view mail_accounts: who may log in over IMAP and SMTP AUTH, and how fast a
 * revocation takes effect. Needs Dovecot installed (`bash .ci/install-dovecot.sh`) and root.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import bcrypt from 'bcrypt';
import { Sequelize } from 'sequelize';
import { openDatabase } from '../../src/db';
import type { AccessLevel, Models, Status } from '../../src/models';
import { DoveadmError, runMailServerCommand } from '../../src/mail/doveadm';
import { DATABASES, readOnlyMysqlUrl, type TestDatabase } from '../support/databases';
import { requireDovecot, startDovecot, type Dovecot } from '../support/dovecot';
import { holdSession, imapLogin, nextLoopbackAddress, pop3Login, postfixSaslCheck, smtpSubmit, type Attempt } from '../support/mail-client';
import { SmtpSink } from '../support/smtp-sink';

const run = promisify(execFile);

const MAILBOX = 'studio.rossi@pec.example.it';
const PASSWORD = 'correct horse battery staple 42';
const user = (chosen: string) => `${chosen}/${MAILBOX}`;

/** Runs `work` and gives back what the doveadm HTTP API answered it: the entries of every answer, in order. */
async function doveadmAnswers(work: () => Promise<void>): Promise<Array<[type: string, data: unknown, tag: string]>> {
  const bodies: string[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
    const response = await realFetch(...args);
    bodies.push(await response.clone().text());
    return response;
  };
  try {
    await work();
  } finally {
    globalThis.fetch = realFetch;
  }
  return bodies.flatMap((body) => JSON.parse(body) as Array<[string, unknown, string]>);
}

for (const { name, create } of DATABASES) {
  describe(`Dovecot authenticates collaborators from ${name}`, function () {
    this.timeout(60_000);

    let database: TestDatabase;
    let sequelize: Sequelize;
    let models: Models;
    let mysqlUser: { url: string; drop(): Promise<void> } | undefined;
    let dovecot: Dovecot;
    let sink: SmtpSink;
    let otherHash: string;

    const imap = (username: string, password = PASSWORD): Promise<Attempt> =>
      imapLogin({ port: dovecot.imapPort, caFile: dovecot.caFile, username, password });
    const smtp = (username: string, password = PASSWORD): Promise<Attempt> =>
      smtpSubmit({
        port: dovecot.submissionPort, caFile: dovecot.caFile,
        username,
        password,
        from: MAILBOX,
        to: 'cliente@example.com',
        message: `From: ${MAILBOX}\r\nTo: cliente@example.com\r\nSubject: Sent by ${username}\r\n\r\nBody.\r\n`,
      });
    const kickSettings = () => ({ url: dovecot.doveadmUrl, apiKey: dovecot.apiKey });

    async function collaborator(chosen: string, status: Status, accessLevel: AccessLevel, passwordHash: string | null) {
      const mailbox = await models.Mailbox.findOne({ where: { address: MAILBOX } });
      return models.Collaborator.create({
        mailboxId: mailbox!.id,
        firstName: chosen,
        lastName: 'Test',
        username: user(chosen),
        referenceEmail: `${chosen}@example.com`,
        accessLevel,
        manageSettings: false,
        status,
        passwordHash,
        deactivatedAt: status === 'deactivated' ? new Date() : null,
      });
    }

    before(async () => {
      // Missing Dovecot fails the suite with the fix in the message; it never skips.
      await requireDovecot();
      database = await create();
      // Connects, sets WAL on SQLite and runs the migrations (which create the view mail_accounts).
      ({ sequelize, models } = await openDatabase(database.url));
      const [hash, other] = await Promise.all([bcrypt.hash(PASSWORD, 12), bcrypt.hash('another password, long enough', 12)]);
      otherHash = other;
      await models.Mailbox.create({ address: MAILBOX, displayName: 'Studio Rossi', passwordHash: hash });
      // Accounts that must be refused still carry a valid hash: the status or access alone refuses them.
      await collaborator('mario.rossi', 'active', 'mail_clients', hash);
      await collaborator('paola.pending', 'pending', 'mail_clients', hash);
      await collaborator('sara.suspended', 'suspended', 'mail_clients', hash);
      await collaborator('dario.deactivated', 'deactivated', 'mail_clients', hash);
      await collaborator('walter.send', 'active', 'send', hash);
      await collaborator('nina.nohash', 'active', 'mail_clients', null);
      await collaborator('luca.bianchi', 'active', 'mail_clients', hash);
      await collaborator('anna.lowered', 'active', 'mail_clients', hash);

      mysqlUser = database.name === 'MariaDB' ? await readOnlyMysqlUrl(database.url) : undefined;
      sink = await new SmtpSink().start();
      dovecot = await startDovecot({ databaseUrl: mysqlUser?.url ?? database.url, relayPort: sink.port });
    });

    after(async function () {
      const log = this.currentTest?.state === 'failed' && dovecot ? await dovecot.readLog() : '';
      if (log) console.error(`--- Dovecot log ---\n${log}`);
      await dovecot?.stop();
      await sink?.stop();
      await sequelize?.close();
      await mysqlUser?.drop();
      await database?.drop();
    });

    if (name === 'SQLite') {
      it('reads the database in WAL mode', async () => {
        const [rows] = await sequelize.query('PRAGMA journal_mode');
        expect(rows).to.deep.equal([{ journal_mode: 'wal' }]);
      });
    }

    if (name === 'MariaDB') {
      it("connects as a user that may read the view mail_accounts and nothing else", async () => {
        const dovecotUser = new Sequelize(mysqlUser!.url, { logging: false, dialect: 'mysql' });
        try {
          const [rows] = await dovecotUser.query('SELECT username FROM mail_accounts ORDER BY username');
          expect(rows).to.deep.equal(['anna.lowered', 'luca.bianchi', 'mario.rossi'].map((c) => ({ username: user(c) })));
          const refused = await dovecotUser.query('SELECT password_hash FROM collaborators').catch((e: Error) => e);
          expect(refused).to.be.instanceOf(Error);
          expect((refused as Error).message).to.match(/denied/i);
        } finally {
          await dovecotUser.close();
        }
      });
    }

    describe('an active collaborator with mail-program access', () => {
      it('logs in over IMAP and sees the shared mailbox folders', async () => {
        const attempt = await imap(user('mario.rossi'));
        expect(attempt.exitCode, attempt.output).to.equal(0);
        expect(attempt.output).to.match(/LIST .*INBOX/);
        expect(attempt.output).to.match(/\\Sent/);
      });

      it('logs in over POP3 and over implicit TLS (993, 995), as the shipped listeners offer', async () => {
        const pop3 = await pop3Login({ port: dovecot.pop3Port, caFile: dovecot.caFile, username: user('mario.rossi'), password: PASSWORD });
        expect(pop3.exitCode, pop3.output).to.equal(0);
        for (const url of [`imaps://127.0.0.1:${dovecot.imapsPort}/`, `pop3s://127.0.0.1:${dovecot.pop3sPort}/`]) {
          const { stderr } = await run('curl', ['--silent', '--show-error', '--cacert', dovecot.caFile, '--user', `${user('mario.rossi')}:${PASSWORD}`, url]);
          expect(stderr, url).to.equal('');
        }
      });

      it('refuses a password sent before TLS, on IMAP and POP3 (the shipped file requires TLS)', async () => {
        for (const url of [`imap://127.0.0.1:${dovecot.imapPort}/`, `pop3://127.0.0.1:${dovecot.pop3Port}/`]) {
          // From an address of its own: Dovecot counts a client on the server's own address as secured.
          const refused = await run('curl', ['--silent', '--show-error', '--interface', nextLoopbackAddress(), '--user', `${user('mario.rossi')}:${PASSWORD}`, url]).then(() => null, (error: { code: number }) => error.code);
          expect(refused, url).to.equal(67);
        }
      });

      it('sends over SMTP AUTH, and the message reaches the relay', async () => {
        const attempt = await smtp(user('mario.rossi'));
        expect(attempt.exitCode, attempt.output).to.equal(0);
        const received = await sink.waitFor(1);
        expect(received.map((m) => m.subject)).to.include(`Sent by ${user('mario.rossi')}`);
      });

      it('is accepted by the auth socket Postfix uses (smtpd_sasl_type = dovecot)', async () => {
        expect(await postfixSaslCheck(dovecot.authSocket, user('mario.rossi'), PASSWORD)).to.equal(true);
        expect(await postfixSaslCheck(dovecot.authSocket, user('mario.rossi'), 'wrong password')).to.equal(false);
      });

      it('logs in while the application holds a write transaction open', async () => {
        // Dovecot reads the same database the application writes (on SQLite: in WAL mode).
        let release = () => undefined as void;
        const held = new Promise<void>((resolve) => (release = resolve));
        const writing = sequelize.transaction(async (t) => {
          await models.Mailbox.update({ displayName: 'Studio Rossi & Partners' }, { where: { address: MAILBOX }, transaction: t });
          await held;
        });
        try {
          const attempt = await imap(user('mario.rossi'));
          expect(attempt.exitCode, attempt.output).to.equal(0);
        } finally {
          release();
          await writing;
        }
      });
    });

    describe('refuses over IMAP and SMTP AUTH', () => {
      const cases: Array<[title: string, username: string, password?: string]> = [
        ['a wrong password', user('mario.rossi'), 'not the password at all'],
        ['a pending account', user('paola.pending')],
        ['a suspended account', user('sara.suspended')],
        ['a deactivated account', user('dario.deactivated')],
        ['an access level below mail programs', user('walter.send')],
        ['an active account without a password hash', user('nina.nohash')],
        ['an unknown user', user('nobody.here')],
        ['the bare mailbox address (the owner is not in the view)', MAILBOX],
        ['a username shaped like SQL injection', `${user('mario.rossi')}' OR '1'='1`],
        ['a username shaped like SQL injection with a comment', `x' OR 1=1 -- ${user('mario.rossi')}`],
        ['a username shaped like a path', `../../${user('mario.rossi')}`],
      ];
      // Each refusal costs Dovecot's failure delay (about 2 s): try them all at once.
      const attempts = new Map<string, Promise<[Attempt, Attempt]>>();
      before(() => {
        for (const [title, username, password] of cases) attempts.set(title, Promise.all([imap(username, password), smtp(username, password)]));
      });

      for (const [title] of cases) {
        it(title, async () => {
          const [imapAttempt, smtpAttempt] = await attempts.get(title)!;
          expect(imapAttempt.exitCode, `IMAP: ${imapAttempt.output}`).to.equal(67);
          expect(smtpAttempt.exitCode, `SMTP: ${smtpAttempt.output}`).to.equal(67);
        });
      }
    });

    describe('revocation', () => {
      it('runMailServerCommand kick drops an open IMAP session', async () => {
        const session = await holdSession('imap', { port: dovecot.imapPort, caFile: dovecot.caFile, username: user('mario.rossi'), password: PASSWORD });
        try {
          await runMailServerCommand(kickSettings(), 'kick', user('mario.rossi'));
          const ended = await Promise.race([session.ended, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
          expect(ended, 'the session was still open 5 s after the kick').to.not.equal(null);
          expect(ended?.bye).to.equal(true);
        } finally {
          session.close();
        }
      });

      it('runMailServerCommand kick succeeds when the user has no open session, and ends no one else’s', async () => {
        // Another user is connected: a kick whose mask reached beyond paola.pending would end that session.
        const bystander = await holdSession('imap', { port: dovecot.imapPort, caFile: dovecot.caFile, username: user('mario.rossi'), password: PASSWORD });
        try {
          const answers = await doveadmAnswers(() => runMailServerCommand(kickSettings(), 'kick', user('paola.pending')));
          // Dovecot's own verdict: the kick found no session under the mask (doveadm's EX_NOUSER, 68), the flush ran.
          expect(answers.find(([, , tag]) => tag === 'kick')).to.deep.equal(['error', { type: 'exitCode', exitCode: 68 }, 'kick']);
          expect(answers.find(([, , tag]) => tag === 'flush')?.[0]).to.equal('doveadmResponse');
        } finally {
          bystander.close();
        }
      });

      it('runMailServerCommand kick throws on a wrong API key', async () => {
        const error = await runMailServerCommand({ ...kickSettings(), apiKey: 'not-the-key' }, 'kick', user('mario.rossi')).catch((e: unknown) => e);
        expect(error).to.be.instanceOf(DoveadmError);
        expect((error as DoveadmError).status).to.equal(401);
      });

      it('an owner reset refuses the next login at once, and the new password works as soon as it is set', async () => {
        const luca = await models.Collaborator.findOne({ where: { username: user('luca.bianchi') } });
        expect((await imap(luca!.username)).exitCode).to.equal(0);
        const session = await holdSession('imap', { port: dovecot.imapPort, caFile: dovecot.caFile, username: luca!.username, password: PASSWORD });

        // What the state machine writes on a reset: suspended, hash cleared; then the outbox kicks.
        await luca!.update({ status: 'suspended', passwordHash: null });
        await runMailServerCommand(kickSettings(), 'kick', luca!.username);
        expect((await session.ended).bye).to.equal(true);
        const [imapAfter, smtpAfter, saslAfter] = await Promise.all([
          imap(luca!.username),
          smtp(luca!.username),
          postfixSaslCheck(dovecot.authSocket, luca!.username, PASSWORD),
        ]);
        expect(imapAfter.exitCode, imapAfter.output).to.equal(67);
        expect(smtpAfter.exitCode, smtpAfter.output).to.equal(67);
        expect(saslAfter).to.equal(false);

        // The link is redeemed: a new hash, active again.
        await luca!.update({ status: 'active', passwordHash: otherHash });
        const [newPassword, oldPassword] = await Promise.all([
          imap(luca!.username, 'another password, long enough'),
          imap(luca!.username, PASSWORD),
        ]);
        expect(newPassword.exitCode, newPassword.output).to.equal(0);
        expect(oldPassword.exitCode, oldPassword.output).to.equal(67);
      });

      it('a lowered access level refuses the next login at once', async () => {
        const anna = await models.Collaborator.findOne({ where: { username: user('anna.lowered') } });
        expect((await imap(anna!.username)).exitCode).to.equal(0);
        await anna!.update({ accessLevel: 'send' });
        const [imapAfter, smtpAfter] = await Promise.all([imap(anna!.username), smtp(anna!.username)]);
        expect(imapAfter.exitCode, imapAfter.output).to.equal(67);
        expect(smtpAfter.exitCode, smtpAfter.output).to.equal(67);
      });
    });
  });
}
