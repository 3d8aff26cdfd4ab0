/**
 * The owner's actions, through the HTTP contract, as a mail program sees them: a real Dovecot reads
 * the app's database, and the outbox asks it (doveadm HTTP API) to drop open connections.
 */
import { expect } from 'chai';
import { DATABASES, type TestDatabase } from '../support/databases';
import { Browser, OWNER_PASSWORD, newCollaborator, startHarness, type Harness } from '../support/harness';
import { SmtpSink, linkIn } from '../support/smtp-sink';
import { linkToken, setPasswordByLink } from '../support/accounts';
import { startDovecot, type Dovecot } from '../support/dovecot';
import { holdSession, imapLogin, postfixSaslCheck, smtpSubmit } from '../support/mail-client';

const MAILBOX = 'studio.neri@pec.example.it';
const USERNAME = `mario.rossi/${MAILBOX}`;
const FIRST = 'first password of mario, long';
const SECOND = 'second password of mario, longer';

for (const { name, create } of DATABASES) {
  describe(`Mail programs follow the owner's actions (${name})`, function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let sink: SmtpSink;
    let dovecot: Dovecot;
    let h: Harness;
    let owner: Browser;

    const imap = (password: string) => imapLogin({ port: dovecot.imapPort, caFile: dovecot.caFile, username: USERNAME, password });
    const smtp = (password: string) =>
      smtpSubmit({
        port: dovecot.submissionPort, caFile: dovecot.caFile,
        username: USERNAME,
        password,
        from: MAILBOX,
        to: 'cliente@example.com',
        message: `From: ${MAILBOX}\r\nTo: cliente@example.com\r\nSubject: hello\r\n\r\nBody.\r\n`,
      });

    /** Delivers what the outbox holds and follows the newest link, as the collaborator would (the owner's notices go elsewhere). */
    async function setPasswordFromEmail(password: string): Promise<void> {
      const before = sink.received.length;
      await h.drain();
      const mails = (await sink.waitFor(before + 1)).filter((mail) => !mail.envelopeTo.includes(MAILBOX));
      const { res } = await setPasswordByLink(h, linkToken(linkIn(mails[mails.length - 1]!)), password);
      expect(res.status, res.text).to.equal(200);
    }

    before(async function () {
      database = await create();
      sink = await new SmtpSink().start();
      // Migrations first: Dovecot reads the view they create.
      const bootstrap = await startHarness(database.url);
      await bootstrap.close();
      dovecot = await startDovecot({ databaseUrl: database.url, relayPort: sink.port });
      h = await startHarness(database.url, {
        SMTP_URL: sink.url,
        DOVEADM_URLS: dovecot.doveadmUrl,
        DOVEADM_API_KEY: dovecot.apiKey,
      });
      await h.mailbox(MAILBOX);
      owner = new Browser(h.app);
      await owner.signIn(MAILBOX, OWNER_PASSWORD);
      await owner.get('/settings/collaborations/new');
      expect((await owner.post('/settings/collaborations', newCollaborator())).status).to.equal(303);
      await setPasswordFromEmail(FIRST);
    });

    after(async function () {
      const log = this.currentTest?.state === 'failed' && dovecot ? await dovecot.readLog() : '';
      if (log) console.error(`--- Dovecot log ---\n${log}`);
      await h?.close();
      await dovecot?.stop();
      await sink?.stop();
      await database?.drop();
    });

    it('should lock out the old password at a reset, drop the open connection, and let the new one in', async function () {
      expect((await imap(FIRST)).exitCode).to.equal(0);
      expect((await smtp(FIRST)).exitCode).to.equal(0);
      const session = await holdSession('imap', { port: dovecot.imapPort, caFile: dovecot.caFile, username: USERNAME, password: FIRST });

      const c = await h.db.models.Collaborator.findOne({ where: { username: USERNAME } });
      await owner.get('/settings/collaborations');
      expect((await owner.post(`/settings/collaborations/${c!.id}/password-reset`)).status).to.equal(303);
      const [imapNow, smtpNow] = await Promise.all([imap(FIRST), smtp(FIRST)]);
      expect(imapNow.exitCode, 'IMAP refused at once').to.equal(67);
      expect(smtpNow.exitCode, 'SMTP refused at once').to.equal(67);

      // The same outbox pass sends the email and asks Dovecot to kick the user.
      await setPasswordFromEmail(SECOND);
      expect((await session.ended).bye).to.equal(true);
      const kick = await h.db.models.OutboxMessage.findOne({ where: { kind: 'doveadm', template: 'kick', collaboratorId: c!.id }, order: [['id', 'ASC']] });
      expect(kick?.status).to.equal('sent');

      const [newImap, oldImap, newSmtp] = await Promise.all([imap(SECOND), imap(FIRST), smtp(SECOND)]);
      expect(newImap.exitCode, newImap.output).to.equal(0);
      expect(oldImap.exitCode).to.equal(67);
      expect(newSmtp.exitCode, newSmtp.output).to.equal(0);
    });

    it('should drop the connection and refuse logins when the owner lowers the access level', async function () {
      const session = await holdSession('imap', { port: dovecot.imapPort, caFile: dovecot.caFile, username: USERNAME, password: SECOND });
      const c = await h.db.models.Collaborator.findOne({ where: { username: USERNAME } });
      await owner.get(`/settings/collaborations/${c!.id}`);
      expect((await owner.post(`/settings/collaborations/${c!.id}/access`, { accessLevel: 'send' })).status).to.equal(303);
      expect((await imap(SECOND)).exitCode).to.equal(67);
      await h.drain();
      expect((await session.ended).bye).to.equal(true);
    });

    it('should drop the connection of a deactivated collaborator', async function () {
      const c = await h.db.models.Collaborator.findOne({ where: { username: USERNAME } });
      await owner.get(`/settings/collaborations/${c!.id}`);
      await owner.post(`/settings/collaborations/${c!.id}/access`, { accessLevel: 'mail_clients' });
      expect((await imap(SECOND)).exitCode).to.equal(0);
      const session = await holdSession('imap', { port: dovecot.imapPort, caFile: dovecot.caFile, username: USERNAME, password: SECOND });
      await owner.post(`/settings/collaborations/${c!.id}/deactivation`);
      expect((await imap(SECOND)).exitCode).to.equal(67);
      await h.drain();
      expect((await session.ended).bye).to.equal(true);
    });

    describe('a password is compared as typed, on the web and in mail programs alike', function () {
      const LUISA = `luisa.neri/${MAILBOX}`;
      // U+00BA (º) is "o" in NFKC: a hash of the NFKC form let it in on the web only.
      const TYPED = 'Mi 1º caffè del mattino è amaro';
      const imapAs = (password: string) => imapLogin({ port: dovecot.imapPort, caFile: dovecot.caFile, username: LUISA, password });
      const smtpAs = (password: string) =>
        smtpSubmit({
          port: dovecot.submissionPort, caFile: dovecot.caFile,
          username: LUISA,
          password,
          from: MAILBOX,
          to: 'cliente@example.com',
          message: `From: ${MAILBOX}\r\nTo: cliente@example.com\r\nSubject: caffè\r\n\r\nBody.\r\n`,
        });

      before(async function () {
        await owner.get('/settings/collaborations/new');
        const created = await owner.post('/settings/collaborations', newCollaborator({ firstName: 'Luisa', lastName: 'Neri', username: 'luisa.neri', referenceEmail: 'luisa@example.com' }));
        expect(created.status).to.equal(303);
        await setPasswordFromEmail(TYPED);
      });

      it('should let a password set on the web with º and accents in over IMAP, SMTP AUTH and the web', async function () {
        const [imapNow, smtpNow, postfixNow] = await Promise.all([imapAs(TYPED), smtpAs(TYPED), postfixSaslCheck(dovecot.authSocket, LUISA, TYPED)]);
        expect(imapNow.exitCode, `IMAP: ${imapNow.output}`).to.equal(0);
        expect(smtpNow.exitCode, `SMTP: ${smtpNow.output}`).to.equal(0);
        expect(postfixNow, 'the auth socket Postfix uses').to.equal(true);
        expect((await new Browser(h.app).signIn(LUISA, TYPED)).status).to.equal(303);
        // The NFKC form is another password, everywhere.
        expect((await imapAs(TYPED.normalize('NFKC'))).exitCode).to.equal(67);
        expect((await new Browser(h.app).signIn(LUISA, TYPED.normalize('NFKC'))).status).not.to.equal(303);
      });

      it('should refuse on the web a password no mail program can send (NUL), and keep the current one working everywhere', async function () {
        const luisa = new Browser(h.app);
        expect((await luisa.signIn(LUISA, TYPED)).status).to.equal(303);
        await luisa.get('/settings/password');
        const unsendable = 'caffè\u0000del mattino amaro';
        const res = await luisa.post('/settings/password', { currentPassword: TYPED, password: unsendable, passwordConfirmation: unsendable });
        expect(res.status).to.equal(422);
        expect(res.text).to.include('non possono inviare');
        expect((await imapAs(TYPED)).exitCode).to.equal(0);
      });
    });
  });
}
