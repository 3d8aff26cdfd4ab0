/**
 * The mail-server lane of the outbox: commands to Dovecot (kick, auth cache flush) are rows of their
 * own per doveadm endpoint, sent ahead of and apart from emails, retried quickly, never given up,
 * and each failed attempt is logged without the API key. (Real Dovecots: test/e2e/lock-out.test.ts.)
 */
import http from 'node:http';
import type net from 'node:net';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { DATABASES, type TestDatabase } from '../support/databases';
import { SESSION_SECRET, startHarness, type Harness } from '../support/harness';
import { FaultySmtp } from '../support/faulty-smtp';
import { AppProcess } from '../support/processes';
import { collaboratorIn, reload } from '../support/accounts';
import { createLogger } from '../../src/lib/logger';
import { startWorker } from '../../src/mail/worker';
import { fileTransport, outboxDeliverer } from '../../src/mail/transport';
import type { Deliver } from '../../src/mail/outbox';
import { system } from '../../src/domain/actor';
import type { Mailbox } from '../../src/models';
import { until } from '../support/wait';

const MAILBOX = 'studio.lane@pec.example.it';
const API_KEY = 'short-key';

interface Doveadm {
  url: string;
  requests: Array<{ body: string; authorization: string }>;
  /** 'ok' answers as Dovecot does; 'echo' fails with the request's Authorization in the body; 'hang' never answers. */
  mode: 'ok' | 'echo' | 'hang';
  close(): Promise<void>;
}

/** An HTTP server speaking the doveadm API's answer format, whose behaviour the test switches. */
async function doveadmServer(): Promise<Doveadm> {
  const sockets = new Set<net.Socket>();
  const state: Doveadm = { url: '', requests: [], mode: 'ok', close: async () => undefined };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      state.requests.push({ body, authorization: req.headers.authorization ?? '' });
      if (state.mode === 'hang') return;
      if (state.mode === 'echo') return void res.writeHead(500).end(`refused ${req.headers.authorization} (${API_KEY})`);
      const commands = JSON.parse(body) as Array<[string, unknown, string]>;
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(commands.map(([, , tag]) => ['doveadmResponse', [], tag])));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/doveadm/v1`;
  state.close = async () => {
    sockets.forEach((socket) => socket.destroy());
    await new Promise((resolve) => server.close(resolve));
  };
  return state;
}

function capturedLogger() {
  const raw: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger('info', sink), raw };
}


for (const { name, create } of DATABASES) {
  describe(`mail-server lane of the outbox (${name})`, function () {
    this.timeout(20_000);
    let database: TestDatabase;
    let h: Harness;
    let one: Doveadm;
    let two: Doveadm;
    let mailbox: Mailbox;

    beforeEach(async function () {
      [one, two] = await Promise.all([doveadmServer(), doveadmServer()]);
      database = await create();
      h = await startHarness(database.url, { DOVEADM_URLS: `${one.url},${two.url}`, DOVEADM_API_KEY: API_KEY });
      mailbox = await h.mailbox(MAILBOX);
    });

    afterEach(async function () {
      await h.close();
      await database.drop();
      await Promise.all([one.close(), two.close()]);
    });

    const input = (username: string, accessLevel: 'send' | 'mail_clients' = 'mail_clients') => ({
      firstName: 'Ada', lastName: 'Neri', username, referenceEmail: `${username}@example.com`, accessLevel, manageSettings: false,
    });
    const commands = (where: Record<string, unknown> = {}) => h.db.models.OutboxMessage.findAll({ where: { kind: 'doveadm', ...where }, order: [['id', 'ASC']] });

    describe('what is queued', function () {
      it('should queue one kick per Dovecot at a reset, and a flush (no kick) per Dovecot when a password is set', async function () {
        const c = await collaboratorIn(h, mailbox, 'active', input('ada.neri'));
        const flushes = await commands({ collaboratorId: c.id });
        expect(flushes.map((row) => [row.template, JSON.parse(row.payload).endpoint, row.recipient])).to.deep.equal([
          ['flush', one.url, c.username],
          ['flush', two.url, c.username],
        ]);
        await h.domain.collaborations.resetPassword(c, { actor: system });
        expect((await commands({ collaboratorId: c.id, template: 'kick' })).map((row) => JSON.parse(row.payload).endpoint)).to.deep.equal([one.url, two.url]);
      });

      it('should queue a flush when the access is raised to mail programs, and nothing for other raises', async function () {
        const c = await collaboratorIn(h, mailbox, 'active', input('ada.neri', 'send'));
        expect(await commands({ collaboratorId: c.id }), 'no mail programs yet: nothing to flush').to.have.length(0);
        await h.domain.collaborations.changeAccess(c, { accessLevel: 'mail_clients', manageSettings: false }, { actor: system });
        expect((await commands({ collaboratorId: c.id })).map((row) => row.template)).to.deep.equal(['flush', 'flush']);
      });

      it('should send the user named in every flush, and a flush without a kick', async function () {
        await collaboratorIn(h, mailbox, 'active', input('ada.neri'));
        expect(await h.domain.outbox.runCommands(h.deliver)).to.equal(2);
        for (const server of [one, two]) {
          expect(server.requests.map((r) => JSON.parse(r.body))).to.deep.equal([[['authCacheFlush', { user: [`ada.neri/${MAILBOX}`] }, 'flush']]]);
        }
      });
    });

    describe('delivery', function () {
      it('should send a command while an email is stuck on the SMTP server, and claim emails apart', async function () {
        const c = await collaboratorIn(h, mailbox, 'active', input('ada.neri'));
        await h.domain.outbox.runCommands(h.deliver);
        let releaseEmail: () => void = () => undefined;
        const stuck = new Promise<void>((resolve) => (releaseEmail = resolve));
        const sentAt: Record<string, number> = {};
        const deliver: Deliver = async (message, secret) => {
          if (message.kind === 'email') await stuck;
          sentAt[`${message.kind}:${message.id}`] = Date.now();
          return h.deliver(message, secret);
        };
        const worker = startWorker(h.domain.outbox, deliver, createLogger('silent'), 3_600_000);
        try {
          void worker.poke();
          await until('an email being sent', () => h.db.models.OutboxMessage.count({ where: { kind: 'email', leaseOwner: h.domain.outbox.workerId } }).then((n) => n > 0));
          const asked = Date.now();
          // No poke: a transaction that queued commands wakes the worker of this process itself.
          await h.domain.collaborations.deactivate(c, { actor: system });
          await until('the kicks sent', async () => (await commands({ template: 'kick', status: 'sent' })).length === 2);
          expect(Date.now() - asked).to.be.below(1_000);
          expect(Object.keys(sentAt).filter((key) => key.startsWith('email:')), 'the emails still wait').to.have.length(0);
        } finally {
          releaseEmail();
          await worker.stop();
        }
      });

      it('should not let a Dovecot that hangs hold back another one', async function () {
        two.mode = 'hang';
        const c = await collaboratorIn(h, mailbox, 'active', input('ada.neri'));
        const worker = startWorker(h.domain.outbox, outboxDeliverer(h.config, fileTransport(h.config.dataDir, h.config.mailFrom)), createLogger('silent'), 3_600_000);
        try {
          void worker.poke();
          await until('the flush of the Dovecot that answers', async () => (await commands({ collaboratorId: c.id, status: 'sent' })).length === 1);
          const [sent] = await commands({ collaboratorId: c.id, status: 'sent' });
          expect(JSON.parse(sent!.payload).endpoint).to.equal(one.url);
          // A command queued later for the answering Dovecot goes out while the other still hangs.
          await h.domain.collaborations.resetPassword(await reload(h, c), { actor: system });
          await until('the kick of the Dovecot that answers', () => one.requests.length === 2);
          const [hanging] = await commands({ collaboratorId: c.id, template: 'flush', payload: JSON.stringify({ endpoint: two.url }) });
          expect(hanging?.status, 'the other still waits for its answer').to.equal('queued');
        } finally {
          await two.close();
          await worker.stop();
        }
      });
    });

    describe('a worker process of its own (npm run worker, the web process with WORKER=off)', function () {
      it('should send a kick within about a second of the change while its SMTP server hangs with emails queued', async function () {
        h.clock.set(new Date());
        const c = await collaboratorIn(h, mailbox, 'active', input('ada.neri'));
        const smtp = await new FaultySmtp().start();
        smtp.behaviour = { kind: 'stall' };
        const worker = AppProcess.worker('worker', {
          NODE_ENV: 'production',
          DATABASE_URL: database.url,
          SMTP_URL: smtp.url,
          SESSION_SECRET,
          BASE_URL: 'http://127.0.0.1',
          DOVEADM_URLS: `${one.url},${two.url}`,
          DOVEADM_API_KEY: API_KEY,
          LOG_LEVEL: 'info',
        });
        try {
          await worker.waitFor(/outbox worker running/);
          await until('the flushes sent', () => one.requests.length === 1 && two.requests.length === 1);
          await until('an email stuck on the SMTP server', () => smtp.stalled.length > 0);
          const asked = Date.now();
          await h.domain.collaborations.resetPassword(await reload(h, c), { actor: system });
          await until('a kick on each Dovecot', () => one.requests.length === 2 && two.requests.length === 2);
          const ms = Date.now() - asked;
          console.log(`      ${name}: a worker process sent the kicks ${ms} ms after the reset`);
          expect(ms).to.be.below(2_000);
        } finally {
          await worker.stop();
          await smtp.stop();
        }
      });
    });

    describe('retries', function () {
      it('should retry with a short backoff (250 ms doubling, at most 1 s) and never give up', async function () {
        await collaboratorIn(h, mailbox, 'active', input('ada.neri'));
        one.mode = 'echo';
        await h.domain.outbox.runCommands(h.deliver);
        const delays: number[] = [];
        for (let attempt = 1; attempt <= 30; attempt++) {
          const [row] = await commands({ payload: JSON.stringify({ endpoint: one.url }) });
          expect(row?.status, `after attempt ${attempt}`).to.equal('retrying');
          delays.push(row!.nextAttemptAt.getTime() - h.clock.now().getTime());
          h.clock.advance(delays[delays.length - 1]!);
          await h.domain.outbox.runCommands(h.deliver);
        }
        expect(delays.slice(0, 5)).to.deep.equal([250, 500, 1000, 1000, 1000]);
        one.mode = 'ok';
        h.clock.advance(1_000);
        expect(await h.domain.outbox.runCommands(h.deliver)).to.equal(1);
        expect((await commands()).map((row) => row.status)).to.deep.equal(['sent', 'sent']);
      });

      it('should log failed attempts 1, 2, 4, 8 with their server and no API key, and never as given up', async function () {
        const { logger, raw } = capturedLogger();
        one.mode = 'echo';
        const c = await collaboratorIn(h, mailbox, 'active', input('ada.neri'));
        const worker = startWorker(h.domain.outbox, outboxDeliverer(h.config, fileTransport(h.config.dataDir, h.config.mailFrom)), logger, 3_600_000);
        try {
          await worker.poke();
          // The test clock stands still: advanced past the backoff, the worker's own retry timer sends again.
          for (let i = 0; i < 7; i++) {
            h.clock.advance(1_000);
            // Failed and released (a claimed row has its attempt counted already).
            await until(`attempt ${i + 2}`, async () => (await commands({ collaboratorId: c.id, status: 'retrying', leaseOwner: null }))[0]?.attempts === i + 2);
          }
        } finally {
          await worker.stop();
        }
        const failures = raw.filter((line) => line.includes('attempt failed')).map((line) => JSON.parse(line) as { level: number; outbox: Record<string, unknown> });
        expect(failures.map(({ outbox }) => outbox.attempt)).to.deep.equal([1, 2, 4, 8]);
        for (const { level, outbox } of failures) {
          expect(level, 'a warning').to.equal(40);
          expect(outbox).to.include({ kind: 'doveadm', template: 'flush', server: new URL(one.url).host, maxAttempts: null });
        }
        const text = raw.join('');
        expect(one.requests[0]?.authorization).to.equal(`X-Dovecot-API ${Buffer.from(API_KEY).toString('base64')}`);
        expect(text).not.to.include(API_KEY);
        expect(text).not.to.include(Buffer.from(API_KEY).toString('base64'));
        expect(text).not.to.include('for good');
      });

      it('should tell the owner’s details which Dovecot may still have the collaborator connected', async function () {
        const c = await collaboratorIn(h, mailbox, 'active', input('ada.neri'));
        await h.domain.outbox.runCommands(h.deliver);
        two.mode = 'echo';
        await h.domain.collaborations.resetPassword(await reload(h, c), { actor: system });
        expect((await h.domain.directory.details(c)).pendingKicks, 'not tried yet').to.deep.equal([]);
        await h.domain.outbox.runCommands(h.deliver);
        expect((await h.domain.directory.details(c)).pendingKicks).to.deep.equal([new URL(two.url).host]);
        two.mode = 'ok';
        h.clock.advance(1_000);
        await h.domain.outbox.runCommands(h.deliver);
        expect((await h.domain.directory.details(c)).pendingKicks).to.deep.equal([]);
      });
    });
  });
}
