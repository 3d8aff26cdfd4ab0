/**
 * What an operator watches: /readyz (the database, each outbox lane's backlog, the SMTP state) while
 * the SMTP server refuses connections and after it is back, and /metrics behind its bearer token.
 * Real SMTP server (smtp-server), real databases, the real worker.
 */
import request from 'supertest';
import { expect } from 'chai';
import { DATABASES, type TestDatabase } from '../support/databases';
import { signedInOwner, startHarness, type Harness } from '../support/harness';
import { collaboratorIn, person } from '../support/accounts';
import { FaultySmtp, echoingAuthServer, freePort } from '../support/faulty-smtp';
import { capturedLogger } from '../support/logs';
import { createLogger } from '../../src/lib/logger';
import { startWorker } from '../../src/mail/worker';

const METRICS_TOKEN = 'metrics token of the tests: 0123456789abcdef';
const READER = 'reader.of.links@example.org';
const USERNAME = 'ada.rossi/studio.ops@pec.example.it';

/** `count` emails to READER, queued in one transaction. */
const queueEmails = (h: Harness, count: number) =>
  h.db.transaction(async (t) => {
    for (let i = 0; i < count; i++) {
      await h.domain.outbox.enqueueEmail(
        {
          template: 'password_set',
          to: READER,
          locale: 'it',
          mailboxId: 1,
          collaboratorId: 1,
          payload: { firstName: 'Ada', lastName: 'Rossi', username: USERNAME, mailbox: 'studio.ops@pec.example.it', accessLevel: 'read' },
        },
        t,
      );
    }
  });

/** One pass of both lanes of the real worker, with the harness's transport (SMTP_URL). */
async function workerPass(h: Harness, logger = createLogger('silent')): Promise<void> {
  const worker = startWorker(h.domain.outbox, h.deliver, logger, 3_600_000);
  await worker.poke();
  await worker.stop();
}

interface ReadyBody {
  status: string;
  database: string;
  outbox?: Record<'emails' | 'mailServerCommands', { queued: number; retrying: number; oldestAgeSeconds: number | null; failedLastHour: number }>;
  smtp?: { state: string; since?: string };
}

async function readyz(h: Harness): Promise<{ status: number; body: ReadyBody; cache: string | undefined }> {
  const res = await request(h.app).get('/readyz');
  return { status: res.status, body: res.body as ReadyBody, cache: res.headers['cache-control'] };
}

const idle = { queued: 0, retrying: 0, oldestAgeSeconds: null, failedLastHour: 0 };

for (const { name, create } of DATABASES) {
  describe(`operations (${name})`, function () {
    this.timeout(30_000);

    describe('GET /readyz through an SMTP outage', function () {
      let database: TestDatabase;
      let h: Harness;
      let smtp: FaultySmtp;
      let smtpPort: number;

      before(async function () {
        smtpPort = await freePort();
        database = await create();
        h = await startHarness(database.url, { SMTP_URL: `smtp://127.0.0.1:${smtpPort}`, SMTP_TIMEOUT_MS: '3000' });
        smtp = new FaultySmtp();
      });

      after(async function () {
        await smtp.stop();
        await h.close();
        await database.drop();
      });

      it('should answer ok, no-store, with empty lanes when nothing waits', async function () {
        const { status, body, cache } = await readyz(h);
        expect(status).to.equal(200);
        expect(cache).to.equal('no-store');
        expect(body).to.deep.equal({ status: 'ok', database: 'reachable', outbox: { emails: idle, mailServerCommands: idle }, smtp: { state: 'ok' } });
      });

      it('should count queued emails and their age, still ok', async function () {
        await queueEmails(h, 3);
        h.clock.advance(10_000);
        const { status, body } = await readyz(h);
        expect(status).to.equal(200);
        expect(body.status).to.equal('ok');
        expect(body.outbox?.emails).to.deep.equal({ queued: 3, retrying: 0, oldestAgeSeconds: 10, failedLastHour: 0 });
      });

      it('should be degraded (200) with the emails retrying and SMTP failing while the server refuses connections', async function () {
        const failedAt = h.clock.now();
        await h.db.transaction((t) => h.domain.outbox.enqueueMailServerCommand('kick', USERNAME, [`http://127.0.0.1:${smtpPort}/doveadm/v1`], { mailboxId: 1, collaboratorId: 1 }, t));
        await workerPass(h);
        const { status, body } = await readyz(h);
        expect(status).to.equal(200);
        expect(body.status).to.equal('degraded');
        expect(body.outbox?.emails).to.deep.equal({ queued: 0, retrying: 3, oldestAgeSeconds: 10, failedLastHour: 0 });
        expect(body.outbox?.mailServerCommands).to.deep.equal({ queued: 0, retrying: 1, oldestAgeSeconds: 0, failedLastHour: 0 });
        // States only: no reply text, hence no internal address or port, no recipient.
        expect(body.smtp).to.deep.equal({ state: 'failing', since: failedAt.toISOString() });
        expect(JSON.stringify(body)).not.to.include(READER).and.not.to.include('ada.rossi').and.not.to.include('127.0.0.1').and.not.to.include(String(smtpPort));
      });

      it('should keep "failing since" at the first failure while the retries fail too', async function () {
        const firstFailure = (await readyz(h)).body.smtp?.since;
        h.clock.advance(5_000);
        await workerPass(h);
        const { body } = await readyz(h);
        expect(body.outbox?.emails.retrying).to.equal(3);
        expect(body.smtp).to.include({ state: 'failing', since: firstFailure });
      });

      it('should be ok again once the server is back and the retries have drained', async function () {
        await smtp.start(smtpPort);
        await h.db.models.OutboxMessage.destroy({ where: { kind: 'doveadm' } });
        h.clock.advance(60_000);
        await workerPass(h);
        expect(smtp.delivered).to.have.length(3);
        const { status, body } = await readyz(h);
        expect(status).to.equal(200);
        expect(body).to.deep.equal({ status: 'ok', database: 'reachable', outbox: { emails: idle, mailServerCommands: idle }, smtp: { state: 'ok' } });
      });

      it('should count an email given up within the last hour, and forget it after the hour', async function () {
        // A permanent refusal of the recipient: given up at the first attempt, and no sign of SMTP failing.
        smtp.behaviour = { kind: 'refuse', stage: 'rcpt', code: 550 };
        await queueEmails(h, 1);
        await workerPass(h);
        const given = await readyz(h);
        expect(given.body.status).to.equal('degraded');
        expect(given.body.outbox?.emails).to.deep.equal({ queued: 0, retrying: 0, oldestAgeSeconds: null, failedLastHour: 1 });
        expect(given.body.smtp).to.deep.equal({ state: 'ok' });
        h.clock.advance(3_600_000);
        const later = await readyz(h);
        expect(later.body.status).to.equal('ok');
        expect(later.body.outbox?.emails.failedLastHour).to.equal(0);
      });
    });

    for (const method of ['PLAIN', 'LOGIN'] as const) {
      describe(`SMTP credentials echoed by a server refusing AUTH ${method}`, function () {
        const user = 'mailer';
        const password = 'Zq9sec';
        const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
        // Written here, not taken from the code under test: each in full and without its padding.
        const forms = [user, password, base64(user), base64(password), base64(`\0${user}\0${password}`), base64(`${user}\0${user}\0${password}`)].flatMap((form) => [form, form.replace(/=+$/, '')]);
        let database: TestDatabase;
        let h: Harness;
        let server: Awaited<ReturnType<typeof echoingAuthServer>>;
        let collaboratorId: number;
        let logs: ReturnType<typeof capturedLogger>;

        before(async function () {
          server = await echoingAuthServer(method);
          database = await create();
          h = await startHarness(database.url, { SMTP_URL: `smtp://${user}:${password}@127.0.0.1:${server.port}`, SMTP_TIMEOUT_MS: '3000' });
          const mailbox = await h.mailbox('studio.ops@pec.example.it');
          const input = { firstName: 'Mario', lastName: 'Rossi', username: 'mario.rossi', referenceEmail: 'mario@example.com', accessLevel: 'read' as const, manageSettings: false };
          collaboratorId = (await h.domain.collaborations.create(mailbox, input, { actor: { type: 'owner', id: mailbox.id, name: mailbox.address } })).id;
          logs = capturedLogger();
          await workerPass(h, logs.logger);
        });

        after(async function () {
          await h.close();
          await server.stop();
          await database.drop();
        });

        const expectClean = (text: string, where: string) => {
          for (const form of forms) expect(text, `${where} shows ${JSON.stringify(form)}`).not.to.include(form);
        };

        it('should store the refusal as the reason, without the credentials in any form', async function () {
          expect(server.attempts).to.be.above(0);
          const row = await h.db.models.OutboxMessage.findOne({ where: { collaboratorId, kind: 'email' } });
          expect(row?.status).to.equal('retrying');
          expect(row?.lastError).to.match(/^EAUTH: Invalid login: 535 5\.7\.8 Authentication failed, bad token /);
          expectClean(row?.lastError ?? '', 'the stored reason');
        });

        it('should show the owner the refusal on the collaborator\'s page, without the credentials', async function () {
          const owner = await signedInOwner(h.app, 'studio.ops@pec.example.it');
          const page = await owner.get(`/settings/collaborations/${collaboratorId}`);
          expect(page.status).to.equal(200);
          expect(page.text).to.include('535 5.7.8 Authentication failed');
          expectClean(page.text, 'the details page');
        });

        it('should log the failed attempt without the credentials', function () {
          const failures = logs.lines.filter((line) => line.outbox);
          expect(failures).to.have.length.above(0);
          expect(failures[0]?.outbox?.reason).to.include('535 5.7.8 Authentication failed');
          expectClean(logs.raw.join(''), 'the log');
        });

        it('should answer /readyz failing, with no reply text at all', async function () {
          const { body } = await readyz(h);
          expect(body.smtp).to.have.keys('state', 'since');
          expect(body.smtp?.state).to.equal('failing');
          expectClean(JSON.stringify(body), '/readyz');
          expect(JSON.stringify(body)).not.to.include('535').and.not.to.include(String(server.port));
        });
      });
    }

    describe('GET /metrics', function () {
      let database: TestDatabase;
      let h: Harness;

      before(async function () {
        database = await create();
        h = await startHarness(database.url, { METRICS_TOKEN });
      });

      after(async function () {
        await h.close();
        await database.drop();
      });

      it('should answer 401 without the token, or with a wrong one', async function () {
        const none = await request(h.app).get('/metrics');
        expect(none.status).to.equal(401);
        expect(none.headers['www-authenticate']).to.match(/^Bearer/);
        expect(none.text).not.to.include('pec_outbox');
        const wrong = await request(h.app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}x`);
        expect(wrong.status).to.equal(401);
        const basic = await request(h.app).get('/metrics').set('Authorization', `Basic ${METRICS_TOKEN}`);
        expect(basic.status).to.equal(401);
      });

      it('should serve the text format with the process, the outbox gauges read now, and request durations by route pattern', async function () {
        const mailbox = await h.mailbox('studio.ops@pec.example.it');
        const ada = await collaboratorIn(h, mailbox, 'pending', person('Ada', 'Rossi', 'ada.rossi'));
        await h.db.models.OutboxMessage.destroy({ where: {} });
        await queueEmails(h, 2);
        const owner = await signedInOwner(h.app, 'studio.ops@pec.example.it');
        expect((await owner.get(`/settings/collaborations/${ada.id}`)).status).to.equal(200);
        await request(h.app).get(`/password/${'t'.repeat(43)}`);
        await request(h.app).get(`/settings/collaborations/${encodeURIComponent(USERNAME)}`);
        await request(h.app).get(`/nowhere/${encodeURIComponent(USERNAME)}`);
        await request(h.app).get('/healthz');
        const res = await request(h.app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
        expect(res.status).to.equal(200);
        expect(res.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4/);
        expect(res.headers['cache-control']).to.equal('no-store');
        expect(res.text).to.include('process_cpu_user_seconds_total');
        expect(res.text).to.include('pec_outbox_queued{lane="emails"} 2');
        expect(res.text).to.include('pec_outbox_retrying{lane="mail_server_commands"} 0');
        expect(res.text).to.include('pec_database_up 1');
        expect(res.text).to.match(/http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} 1/);
        expect(res.text).to.match(/http_request_duration_seconds_count\{method="GET",route="\/password\/:token",status="\d+"\} 1/);
        expect(res.text).to.match(/http_request_duration_seconds_count\{method="GET",route="\/settings\/collaborations\/:id",status="200"\} 1/);
        const routes = [...res.text.matchAll(/route="([^"]*)"/g)].map((m) => m[1]);
        expect(routes).to.include('none');
        for (const route of routes) expect(route).not.to.match(/ada|studio|ttttt|nowhere/);
      });
    });

    describe('when the database is gone', function () {
      let database: TestDatabase;
      let h: Harness;

      before(async function () {
        database = await create();
        h = await startHarness(database.url);
      });

      after(async function () {
        await h.close().catch(() => undefined);
        await database.drop();
      });

      it('should not serve /metrics at all without METRICS_TOKEN', async function () {
        expect((await request(h.app).get('/metrics')).status).to.equal(404);
      });

      it('should answer /readyz 503 unavailable', async function () {
        await h.db.close();
        const { status, body, cache } = await readyz(h);
        expect(status).to.equal(503);
        expect(cache).to.equal('no-store');
        expect(body).to.deep.equal({ status: 'unavailable', database: 'unreachable' });
      });
    });
  });
}
