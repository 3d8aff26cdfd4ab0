/**
 * A collaborator sends only as its mailbox, through a real Postfix started from deploy/postfix/ and a
 * real Dovecot started from deploy/dovecot/, on both submission paths: Dovecot's submission relaying
 * to Postfix (login passed through XCLIENT), and Postfix's own submission with SMTP AUTH checked by
 * Dovecot. Mail that passes reaches the tests' SMTP sink. Needs Dovecot, Postfix and python3-milter
 * (`bash .ci/install-dovecot.sh`) and root.
 */
import { expect } from 'chai';
import { DATABASES, readOnlyMysqlUrl, type TestDatabase } from '../support/databases';
import { freePorts, startDovecot, type Dovecot } from '../support/dovecot';
import { startPostfix, type Postfix } from '../support/postfix';
import { startHarness, type Harness } from '../support/harness';
import { collaboratorIn } from '../support/accounts';
import { SmtpRefused, openSmtpSession } from '../support/mail-client';
import { SmtpSink, type ReceivedMail } from '../support/smtp-sink';
import { system } from '../../src/domain/actor';
import type { Collaborator } from '../../src/models';

const MAILBOX = 'studio.neri@pec.example.it';
const OTHER_MAILBOX = 'studio.bianchi@pec.example.it';
const PASSWORD = 'a long and quiet river of words';
const USERNAME = `mario.rossi/${MAILBOX}`;
const RECIPIENT = 'cliente@example.com';

for (const { name, create } of DATABASES) {
  describe(`A collaborator sends only as its mailbox, through Postfix (${name})`, function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let mysqlUser: { url: string; drop(): Promise<void> } | undefined;
    let h: Harness;
    let sink: SmtpSink;
    let postfix: Postfix;
    let dovecot: Dovecot;
    let luisa: Collaborator;
    let sent = 0;

    /** Where a mail program submits: Dovecot's submission (relayed to Postfix), and Postfix's own on 587 and 465. */
    const paths = () => [
      { path: 'Dovecot submission → Postfix', port: dovecot.submissionPort, caFile: dovecot.caFile, tls: 'starttls' as const },
      { path: 'Postfix submission (STARTTLS)', port: postfix.submissionPort, caFile: postfix.caFile, tls: 'starttls' as const },
      { path: 'Postfix submissions (implicit TLS)', port: postfix.submissionsPort, caFile: postfix.caFile, tls: 'implicit' as const },
    ];

    type Route = ReturnType<typeof paths>[number];

    /** Signs in on that path as the collaborator, sends one message, signs out: the final reply (or the sign-in's refusal). */
    async function send(route: Route, envelopeFrom: string, headerFrom: string): Promise<{ code: number; text: string; subject: string }> {
      const subject = `message ${++sent} from ${envelopeFrom}`;
      const session = await openSmtpSession({ port: route.port, caFile: route.caFile, tls: route.tls, username: USERNAME, password: PASSWORD }).catch((error: unknown) => {
        if (error instanceof SmtpRefused) return error;
        throw error;
      });
      if (session instanceof SmtpRefused) return { code: session.code, text: session.text, subject };
      try {
        return { ...(await session.send({ envelopeFrom, headerFrom, to: RECIPIENT, subject })), subject };
      } finally {
        session.close();
      }
    }

    /** Subjects the sink received: what got through. */
    const delivered = () => sink.received.map((mail) => mail.subject);

    /** The message with that subject, once Postfix has relayed it to the sink. */
    async function deliveredMail(subject: string): Promise<ReceivedMail> {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const mail = sink.received.find((m) => m.subject === subject);
        if (mail) return mail;
        if (Date.now() > deadline) throw new Error(`"${subject}" never reached the sink`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }

    before(async function () {
      database = await create();
      h = await startHarness(database.url);
      const mailbox = await h.mailbox(MAILBOX);
      await h.mailbox(OTHER_MAILBOX);
      const input = { firstName: 'Mario', lastName: 'Rossi', username: 'mario.rossi', referenceEmail: 'mario@example.com', accessLevel: 'mail_clients' as const, manageSettings: false };
      await collaboratorIn(h, mailbox, 'active', input, PASSWORD);
      luisa = await collaboratorIn(h, mailbox, 'active', { ...input, firstName: 'Luisa', lastName: 'Neri', username: 'luisa.neri', referenceEmail: 'luisa@example.com' }, PASSWORD);
      mysqlUser = database.name === 'MariaDB' ? await readOnlyMysqlUrl(database.url) : undefined;
      const readerUrl = mysqlUser?.url ?? database.url;

      sink = await new SmtpSink().start();
      // Dovecot relays to Postfix, Postfix asks Dovecot for passwords: Dovecot first, on a relay port chosen now.
      const [relayIn] = await freePorts(1);
      dovecot = await startDovecot({ databaseUrl: readerUrl, relayPort: relayIn as number });
      postfix = await startPostfix({ databaseUrl: readerUrl, relayPort: sink.port, authSocket: dovecot.authSocket, dovecotRelayPort: relayIn });
    });

    after(async function () {
      await postfix?.stop();
      await dovecot?.stop();
      await sink?.stop();
      await h?.close();
      await mysqlUser?.drop();
      await database?.drop();
    });

    afterEach(async function () {
      if (this.currentTest?.state === 'failed') console.error(`--- Postfix log ---\n${await postfix.readLog()}\n--- Dovecot log ---\n${await dovecot.readLog()}`);
    });

    it('should deliver a message sent as the mailbox, From intact, on every path', async function () {
      for (const route of paths()) {
        const attempt = await send(route, MAILBOX, `Mario Rossi <${MAILBOX}>`);
        expect(attempt.code, `${route.path}: ${attempt.text}`).to.equal(250);
        const mail = await deliveredMail(attempt.subject);
        expect(mail.headers.find((header) => header.key === 'from')?.value).to.equal(`Mario Rossi <${MAILBOX}>`);
        expect(mail.envelopeTo).to.deep.equal([RECIPIENT]);
      }
    });

    it('should refuse a forged envelope sender on every path with 5.7.1 "send as <mailbox>"', async function () {
      for (const route of paths()) {
        const attempt = await send(route, OTHER_MAILBOX, OTHER_MAILBOX);
        expect(attempt.code, `${route.path}: ${attempt.text}`).to.equal(553);
        expect(attempt.text, route.path).to.match(new RegExp(`^5\\.7\\.1 .*send as ${MAILBOX}`));
        expect(delivered(), route.path).to.not.include(attempt.subject);
      }
    });

    it('should refuse a forged header From, envelope right, on every path', async function () {
      const forgeries = [
        OTHER_MAILBOX,
        `"${MAILBOX}" <${OTHER_MAILBOX}>`,
        `${MAILBOX}, ${OTHER_MAILBOX}`,
        `"Boss ${OTHER_MAILBOX}" <${MAILBOX}>`,
        // As a mail program shows them: an encoded word (RFC 2047) and a full-width @ in the display name.
        `=?utf-8?q?studio.bianchi=40pec.example.it?= <${MAILBOX}>`,
        `=?utf-8?b?${Buffer.from(`Studio Bianchi <${OTHER_MAILBOX}>`).toString('base64')}?= <${MAILBOX}>`,
        `"Studio Bianchi ${OTHER_MAILBOX.replace('@', '\uFF20')}" <${MAILBOX}>`,
      ];
      for (const route of paths()) {
        for (const headerFrom of forgeries) {
          const attempt = await send(route, MAILBOX, headerFrom);
          expect(attempt.code, `${route.path}, From: ${headerFrom}: ${attempt.text}`).to.equal(550);
          expect(attempt.text, route.path).to.equal(`5.7.1 From header rejected: send as ${MAILBOX}`);
          expect(delivered(), route.path).to.not.include(attempt.subject);
        }
      }
    });

    it('should refuse a Sender, Resent-From or Resent-Sender naming another mailbox, and let Reply-To be', async function () {
      for (const route of paths()) {
        for (const [name, value] of [['Sender', OTHER_MAILBOX], ['Resent-From', OTHER_MAILBOX], ['Resent-Sender', `Bianchi <${OTHER_MAILBOX}>`]] as const) {
          const attempt = await send(route, MAILBOX, `${MAILBOX}\r\n${name}: ${value}`);
          expect(attempt.code, `${route.path}, ${name}: ${attempt.text}`).to.equal(550);
          expect(attempt.text, route.path).to.equal(`5.7.1 ${name} header rejected: send as ${MAILBOX}`);
        }
        const replyTo = await send(route, MAILBOX, `${MAILBOX}\r\nReply-To: ${OTHER_MAILBOX}\r\nSender: ${MAILBOX}`);
        expect(replyTo.code, `${route.path}: ${replyTo.text}`).to.equal(250);
      }
    });

    it('should refuse at the end of DATA a message whose envelope was accepted before an owner\'s reset, on every path', async function () {
      const mailbox = await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } });
      for (const [i, route] of paths().entries()) {
        const input = { firstName: 'Staged', lastName: 'Sender', username: `staged.${i}`, referenceEmail: `staged${i}@example.com`, accessLevel: 'mail_clients' as const, manageSettings: false };
        const c = await collaboratorIn(h, mailbox!, 'active', input, PASSWORD);
        const session = await openSmtpSession({ port: route.port, caFile: route.caFile, tls: route.tls, username: c.username, password: PASSWORD });
        const subject = `staged before the reset, ${route.path}`;
        try {
          const staged = await session.stage({ envelopeFrom: MAILBOX, to: RECIPIENT });
          expect(staged.code, `${route.path}: ${staged.text}`).to.equal(250);
          await h.domain.collaborations.resetPassword(c, { actor: system });
          const data = await session.data({ headerFrom: MAILBOX, to: RECIPIENT, subject });
          expect(data.code, `${route.path}: ${data.text}`).to.equal(553);
          expect(data.text, route.path).to.match(/^5\.7\.1 .*not owned by user/);
        } finally {
          session.close();
        }
        expect(delivered(), route.path).to.not.include(subject);
      }
    });

    it('should refuse the next message of a Postfix session that stays open across an owner\'s reset', async function () {
      const session = await openSmtpSession({ port: postfix.submissionPort, caFile: postfix.caFile, tls: 'starttls', username: luisa.username, password: PASSWORD });
      const message = (subject: string) => ({ envelopeFrom: MAILBOX, headerFrom: MAILBOX, to: RECIPIENT, subject });
      try {
        const before = await session.send(message('before the reset'));
        expect(before.code, before.text).to.equal(250);
        await h.domain.collaborations.resetPassword(luisa, { actor: system });
        const after = await session.send(message('after the reset'));
        expect(after.code, after.text).to.equal(553);
        expect(after.text).to.match(/^5\.7\.1 .*not owned by user/);
      } finally {
        session.close();
      }
      await deliveredMail('before the reset');
      expect(delivered()).to.not.include('after the reset');
    });

    it('should refuse mail with a temporary error (4xx), never let it through, while the milter is down', async function () {
      await postfix.stopMilter();
      for (const route of paths()) {
        const attempt = await send(route, MAILBOX, MAILBOX);
        expect(attempt.code, `${route.path}: ${attempt.text}`).to.be.within(400, 499);
        expect(attempt.text, route.path).to.match(/^4\.\d\.\d /);
        expect(delivered(), route.path).to.not.include(attempt.subject);
      }
    });
  });
}
