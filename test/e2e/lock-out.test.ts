/**
 * An owner's reset, deactivation or lowered access locks the collaborator out of every Dovecot
 * within 5 s: two real Dovecots on the app's database, sessions held open over IMAP (IDLE), POP3
 * and submission, the app's SMTP server for emails stalled with emails queued, and the worker
 * running as in production (in-process, 1 s ticks). Times from the owner's request to each
 * session's end are printed.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { DATABASES, type TestDatabase } from '../support/databases';
import { Browser, OWNER_PASSWORD, startHarness, type Harness } from '../support/harness';
import { latestLinkToken, reload, setPasswordByLink, collaboratorIn } from '../support/accounts';
import { startDovecot, type Dovecot } from '../support/dovecot';
import { FaultySmtp } from '../support/faulty-smtp';
import { SmtpSink } from '../support/smtp-sink';
import { TcpProxy } from '../support/tcp-proxy';
import { TestClock } from '../support/clock';
import { holdSession, imapLogin, type HeldSession } from '../support/mail-client';
import { createLogger } from '../../src/lib/logger';
import { translator } from '../../src/i18n';
import { startWorker, type RunningWorker } from '../../src/mail/worker';
import type { Collaborator, Mailbox } from '../../src/models';
import { until } from '../support/wait';

const MAILBOX = 'studio.verdi@pec.example.it';
const FIRST = 'first password of mario, long';
const SECOND = 'second password of mario, longer';
const OTHERS = 'a password of a colleague, long';
const API_KEY = 'shared-doveadm-key';
const LOCK_OUT_MS = 5_000;
const run = promisify(execFile);

/** Resolves with the session's end, or rejects once `ms` have passed. */
function endedWithin(session: HeldSession, ms: number, what: string): Promise<{ bye: boolean; text: string; at: number }> {
  return Promise.race([
    session.ended,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: still open after ${ms} ms`)), ms)),
  ]);
}

/** How many `imap` and `imap-hibernate` processes the Dovecot's master runs now. */
async function mailProcesses(dovecot: Dovecot): Promise<{ imap: number; hibernate: number }> {
  const master = (await fs.readFile(path.join(dovecot.dir, 'run', 'master.pid'), 'utf8')).trim();
  const { stdout } = await run('ps', ['--ppid', master, '-o', 'args=']).catch(() => ({ stdout: '' }));
  const names = stdout.split('\n').map((line) => line.trim().split(/\s/)[0]);
  return { imap: names.filter((n) => n === 'dovecot/imap').length, hibernate: names.filter((n) => n === 'dovecot/imap-hibernate').length };
}


for (const { name, create } of DATABASES) {
  describe(`Lock-out of mail programs on every Dovecot (${name})`, function () {
    this.timeout(90_000);
    let database: TestDatabase;
    let smtp: FaultySmtp;
    let relay: SmtpSink;
    let a: Dovecot;
    let b: Dovecot;
    let proxy: TcpProxy;
    let h: Harness;
    let worker: RunningWorker;
    let owner: Browser;
    let mailbox: Mailbox;
    let mario: Collaborator;
    const logLines: string[] = [];

    const credentials = (dovecot: Dovecot, port: 'imapPort' | 'pop3Port' | 'submissionPort', username: string, password: string) => ({
      port: dovecot[port], caFile: dovecot.caFile, username, password,
    });
    const proxiedUrl = () => `http://127.0.0.1:${proxy.port}/doveadm/v1`;

    before(async function () {
      database = await create();
      smtp = await new FaultySmtp().start();
      relay = await new SmtpSink().start();
      // Migrations first: Dovecot reads the view they create.
      await (await startHarness(database.url)).close();
      const dovecotOptions = { databaseUrl: database.url, relayPort: relay.port, apiKey: API_KEY, authCache: true, hibernateTimeout: '2s' };
      a = await startDovecot(dovecotOptions);
      b = await startDovecot(dovecotOptions);
      proxy = await new TcpProxy('127.0.0.1', Number(new URL(b.doveadmUrl).port)).start();
      h = await startHarness(
        database.url,
        { SMTP_URL: smtp.url, SMTP_TIMEOUT_MS: '60000', DOVEADM_URLS: `${a.doveadmUrl},${proxiedUrl()}`, DOVEADM_API_KEY: API_KEY },
        { clock: new TestClock(new Date(), true) },
      );
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          logLines.push(chunk.toString('utf8'));
          done();
        },
      });
      worker = startWorker(h.domain.outbox, h.deliver, createLogger('info', sink), 1000);
      mailbox = await h.mailbox(MAILBOX);
      mario = await collaboratorIn(h, mailbox, 'active', { firstName: 'Mario', lastName: 'Verdi', username: 'mario.verdi', referenceEmail: 'mario@example.com', accessLevel: 'mail_clients', manageSettings: false }, FIRST);
      owner = new Browser(h.app);
      expect((await owner.signIn(MAILBOX, OWNER_PASSWORD)).status).to.equal(303);
      await owner.get('/settings/collaborations');
      // The invitations and confirmations of the set-up go out; from here on, SMTP hangs.
      await smtp.until('the set-up emails', () => smtp.delivered.length >= 2);
      smtp.behaviour = { kind: 'stall' };
    });

    after(async function () {
      const failed = this.currentTest?.state === 'failed';
      if (failed && a) console.error(`--- Dovecot A log ---\n${await a.readLog()}\n--- Dovecot B log ---\n${await b?.readLog()}`);
      await worker?.stop();
      await h?.close();
      await proxy?.stop();
      await a?.stop();
      await b?.stop();
      await relay?.stop();
      await smtp?.stop();
      await database?.drop();
    });

    it('should close IMAP IDLE on both Dovecots, POP3 and submission within 5 s of a reset, while SMTP hangs with emails queued', async function () {
      const sessions = {
        'IMAP IDLE on A': await holdSession('imap-idle', credentials(a, 'imapPort', mario.username, FIRST)),
        'IMAP IDLE on B': await holdSession('imap-idle', credentials(b, 'imapPort', mario.username, FIRST)),
        'POP3 on B': await holdSession('pop3', credentials(b, 'pop3Port', mario.username, FIRST)),
        'submission on A': await holdSession('submission', credentials(a, 'submissionPort', mario.username, FIRST)),
      };
      // Emails ahead in the queue, to an SMTP server that never answers.
      await h.db.transaction(async (t) => {
        for (let i = 0; i < 30; i++) {
          await h.domain.outbox.enqueueEmail(
            { template: 'password_set', to: `reader${i}@example.org`, locale: 'it', mailboxId: mailbox.id, collaboratorId: mario.id, payload: { firstName: 'Ada', lastName: 'Rossi', username: mario.username, mailbox: MAILBOX, accessLevel: 'read' } },
            t,
          );
        }
      });
      await smtp.until('emails stuck on the SMTP server', () => smtp.stalled.length >= 1);

      const started = Date.now();
      expect((await owner.post(`/settings/collaborations/${mario.id}/password-reset`)).status).to.equal(303);
      const ends = await Promise.all(Object.entries(sessions).map(async ([what, session]) => [what, await endedWithin(session, LOCK_OUT_MS, what)] as const));
      for (const [what, end] of ends) console.log(`      ${name}: ${what} closed ${end.at - started} ms after the reset`);
      for (const [what, end] of ends) expect(end.at - started, what).to.be.below(LOCK_OUT_MS);
      expect(smtp.delivered.length, 'no email went out meanwhile').to.equal(2);
    });

    it('should let a newly set password in at the first attempt with the auth cache on, and refuse the old one', async function () {
      // A login while suspended leaves "unknown user" in the auth cache of both servers.
      for (const dovecot of [a, b]) expect((await imapLogin(credentials(dovecot, 'imapPort', mario.username, SECOND))).exitCode).to.equal(67);
      const flushes = { kind: 'doveadm', template: 'flush', collaboratorId: mario.id, status: 'sent' };
      const before = await h.db.models.OutboxMessage.count({ where: flushes });
      const token = await latestLinkToken(h, mario, 'owner_reset');
      const { res } = await setPasswordByLink(h, token, SECOND);
      expect(res.status, res.text).to.equal(200);
      await until('a flush delivered to each Dovecot', async () => (await h.db.models.OutboxMessage.count({ where: flushes })) === before + 2);
      for (const dovecot of [a, b]) {
        const [fresh, old] = [await imapLogin(credentials(dovecot, 'imapPort', mario.username, SECOND)), await imapLogin(credentials(dovecot, 'imapPort', mario.username, FIRST))];
        expect(fresh.exitCode, fresh.output).to.equal(0);
        expect(old.exitCode, old.output).to.equal(67);
      }
    });

    it('should kick on a Dovecot whose doveadm API was down for 3 s as soon as it is back, and tell the owner meanwhile', async function () {
      mario = await reload(h, mario);
      const onA = await holdSession('imap-idle', credentials(a, 'imapPort', mario.username, SECOND));
      const onB = await holdSession('imap-idle', credentials(b, 'imapPort', mario.username, SECOND));
      proxy.down();
      const started = Date.now();
      await owner.get(`/settings/collaborations/${mario.id}`);
      expect((await owner.post(`/settings/collaborations/${mario.id}/access`, { accessLevel: 'send' })).status).to.equal(303);
      const endA = await endedWithin(onA, LOCK_OUT_MS, 'IMAP IDLE on A');
      console.log(`      ${name}: IMAP IDLE on A closed ${endA.at - started} ms after the lowered access (B down)`);

      const server = `127.0.0.1:${proxy.port}`;
      await until('a failed kick', async () => (await h.db.models.OutboxMessage.count({ where: { kind: 'doveadm', status: 'retrying' } })) > 0);
      const stillConnected = translator('it')('details.stillConnected', { server });
      const page = await owner.get(`/settings/collaborations/${mario.id}`);
      expect(page.text).to.include(stillConnected);

      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + 3_000 - Date.now())));
      const back = Date.now();
      proxy.up();
      const endB = await endedWithin(onB, LOCK_OUT_MS, 'IMAP IDLE on B');
      console.log(`      ${name}: IMAP IDLE on B closed ${endB.at - back} ms after its doveadm API came back (${endB.at - started} ms after the lowered access)`);
      expect(endB.at - back).to.be.below(2_500);
      await until('the kick marked sent', async () => (await h.db.models.OutboxMessage.count({ where: { kind: 'doveadm', status: 'retrying' } })) === 0);
      expect((await owner.get(`/settings/collaborations/${mario.id}`)).text).not.to.include(stillConnected);

      const failures = logLines.filter((line) => line.includes('outbox delivery attempt failed'));
      expect(failures.length, 'each failed attempt logged').to.be.greaterThan(0);
      expect(failures.every((line) => line.includes(server) && !line.includes(API_KEY) && !line.includes(Buffer.from(API_KEY).toString('base64')))).to.equal(true);
      expect(logLines.join('')).not.to.include('for good');
    });

    it('should leave other users’ hibernated IDLE connections open when one user is kicked', async function () {
      const input = (username: string) => ({ firstName: 'Col', lastName: username, username, referenceEmail: `${username}@example.com`, accessLevel: 'mail_clients' as const, manageSettings: false });
      const luisa = await collaboratorIn(h, mailbox, 'active', input('luisa.verdi'), OTHERS);
      const paolo = await collaboratorIn(h, mailbox, 'active', input('paolo.verdi'), OTHERS);
      await owner.get(`/settings/collaborations/${mario.id}`);
      expect((await owner.post(`/settings/collaborations/${mario.id}/access`, { accessLevel: 'mail_clients' })).status).to.equal(303);
      const held = {
        mario: await holdSession('imap-idle', credentials(a, 'imapPort', mario.username, SECOND)),
        luisa: await holdSession('imap-idle', credentials(a, 'imapPort', luisa.username, OTHERS)),
        paolo: await holdSession('imap-idle', credentials(a, 'imapPort', paolo.username, OTHERS)),
      };
      // imap_hibernate_timeout is 2 s: once hibernated, a connection has no imap process any more.
      await until('three hibernated connections', async () => {
        const { imap, hibernate } = await mailProcesses(a);
        return imap === 0 && hibernate > 0;
      });
      const { hibernate } = await mailProcesses(a);
      const started = Date.now();
      expect((await owner.post(`/settings/collaborations/${mario.id}/deactivation`)).status).to.equal(303);
      const end = await endedWithin(held.mario, LOCK_OUT_MS, 'mario on A');
      console.log(`      ${name}: hibernated IMAP IDLE of the deactivated user closed ${end.at - started} ms after the deactivation (${hibernate} imap-hibernate processes)`);
      const others = await Promise.race([
        Promise.race([held.luisa.ended, held.paolo.ended]).then((e) => `closed: ${e.text}`),
        new Promise<string>((resolve) => setTimeout(() => resolve('open'), 2_000)),
      ]);
      expect(others, 'the other users’ connections').to.equal('open');
      held.luisa.close();
      held.paolo.close();
    });
  });
}
