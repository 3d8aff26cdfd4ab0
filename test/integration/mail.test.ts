import { expect } from 'chai';
import net from 'node:net';
import { DATABASES, type TestDatabase } from '../support/databases';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, newCollaborator, startHarness, type Harness } from '../support/harness';
import { SmtpSink, linkIn } from '../support/smtp-sink';
import { linkToken, setPasswordByLink, saveNoticeChoices } from '../support/accounts';

const MAILBOX = 'studio.bianchi@pec.example.it';

/** A loopback port with nothing listening on it (yet). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

for (const { name, create } of DATABASES) {
  describe(`Email through a real SMTP server (${name})`, function () {
    let database: TestDatabase;
    let h: Harness;
    let sink: SmtpSink;
    let smtpPort: number;

    before(async function () {
      database = await create();
      smtpPort = await freePort();
      h = await startHarness(database.url, { SMTP_URL: `smtp://127.0.0.1:${smtpPort}` });
      // The owner's notices are emails too; these tests count the collaborator's alone.
      await saveNoticeChoices(h, await h.mailbox(MAILBOX), { address: '', events: [], delivery: 'immediate', digestHour: '0' });
    });

    after(async function () {
      await sink?.stop();
      await h.close();
      await database.drop();
    });

    it('should deliver the invitation, whose link sets the password, and the collaborator signs in', async function () {
      sink = await new SmtpSink().start(smtpPort);
      const owner = new Browser(h.app);
      await owner.signIn(MAILBOX, OWNER_PASSWORD);
      await owner.get('/settings/collaborations/new');
      expect((await owner.post('/settings/collaborations', newCollaborator())).status).to.equal(303);
      expect(await h.drain()).to.equal(1);
      const [invitation] = await sink.waitFor(1);
      expect(invitation!.to).to.deep.equal(['mario@example.com']);
      expect(invitation!.messageId).to.match(/^<outbox-\d+\.\d+@webmail\.pec\.test>$/);
      const link = linkIn(invitation!);
      expect(link.startsWith('http://webmail.pec.test/password/')).to.equal(true);

      const { res: done } = await setPasswordByLink(h, linkToken(link));
      expect(done.status).to.equal(200);
      expect(done.text).to.include('mail-programs');

      expect(await h.drain()).to.equal(1);
      const [, confirmation] = await sink.waitFor(2);
      expect(confirmation!.subject).not.to.equal(invitation!.subject);
      expect(linkIn.bind(null, confirmation!)).to.throw();

      const signIn = await new Browser(h.app).signIn(`mario.rossi/${MAILBOX}`, GOOD_PASSWORD);
      expect(signIn.status).to.equal(303);
      expect(signIn.headers.location).to.equal('/account');
      const message = await h.db.models.OutboxMessage.findOne({ where: { template: 'invitation' } });
      expect(message?.status).to.equal('sent');
      expect(message?.secret, 'the link is dropped once delivered').to.equal(null);
    });

    it("should send in the owner's name, encoded, from the configured address", async function () {
      await h.db.models.Mailbox.update({ displayName: 'Studio Bàrbara Bianchi' }, { where: { address: MAILBOX } });
      const owner = new Browser(h.app);
      await owner.signIn(MAILBOX, OWNER_PASSWORD);
      await owner.get('/settings/collaborations/new');
      expect((await owner.post('/settings/collaborations', newCollaborator({ username: 'giulia', referenceEmail: 'giulia@example.com' }))).status).to.equal(303);
      const before = sink.received.length;
      expect(await h.drain()).to.equal(1);
      const invitation = (await sink.waitFor(before + 1))[before]!;
      expect(invitation.from).to.deep.equal({ name: 'Studio Bàrbara Bianchi (via PEC Collaborazioni)', address: 'no-reply@webmail.pec.test' });
      const raw = invitation.headers.find((header) => header.key === 'from')?.value ?? '';
      expect(raw, 'a non-ASCII name travels as an RFC 2047 encoded word').to.match(/=\?utf-8\?/i);
      expect(invitation.subject).to.equal('Invito di Studio Bàrbara Bianchi: il tuo account collaboratore');
    });

    it('should commit a reset while SMTP is down and deliver its email once SMTP is back', async function () {
      const c = await h.db.models.Collaborator.findOne({ where: { username: `mario.rossi/${MAILBOX}` } });
      await sink.stop();
      const owner = new Browser(h.app);
      await owner.signIn(MAILBOX, OWNER_PASSWORD);
      await owner.get('/settings/collaborations');
      expect((await owner.post(`/settings/collaborations/${c!.id}/password-reset`)).status).to.equal(303);
      expect((await c!.reload()).status).to.equal('suspended');

      expect(await h.drain()).to.equal(0);
      const waiting = await h.db.models.OutboxMessage.findOne({ where: { template: 'owner_reset' } });
      expect(waiting?.status).to.equal('retrying');
      expect(waiting?.lastError).to.match(/ECONNREFUSED|connect/i);
      const list = await owner.get('/settings/collaborations');
      expect(list.text).to.include('delivery-retrying');

      sink = await new SmtpSink().start(smtpPort);
      expect(await h.drain(), 'not before the backoff has passed').to.equal(0);
      h.clock.advance(60_000);
      expect(await h.drain()).to.equal(1);
      const [reset] = await sink.waitFor(1);
      const newPassword = 'the river runs quietly again';
      expect((await setPasswordByLink(h, linkToken(linkIn(reset!)), newPassword)).res.status).to.equal(200);
      expect((await new Browser(h.app).signIn(`mario.rossi/${MAILBOX}`, newPassword)).status).to.equal(303);
    });

    it('should mark an email failed after the last attempt and keep no link for it', async function () {
      await sink.stop();
      const c = await h.db.models.Collaborator.findOne({ where: { username: `mario.rossi/${MAILBOX}` } });
      await h.domain.collaborations.resetPassword(c!, { actor: { type: 'owner', id: null, name: MAILBOX } });
      for (let attempt = 0; attempt < 5; attempt += 1) {
        await h.drain();
        h.clock.advance(120_000);
      }
      const failed = await h.db.models.OutboxMessage.findOne({ where: { template: 'owner_reset' }, order: [['id', 'DESC']] });
      expect(failed?.status).to.equal('failed');
      expect(failed?.attempts).to.equal(5);
      expect(failed?.secret).to.equal(null);
    });
  });
}
