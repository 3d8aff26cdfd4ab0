/**
 * The real process (`src/server.ts`) stopped by SIGTERM under load: kept-alive clients of signed-in
 * pages are answered until the port closes (never a 500: the database stays open while requests can
 * reach it), and the process exits with status 0 within SHUTDOWN_GRACE_MS, even with a client that
 * never finishes its request. And a request that reaches a closed database anyway (a host that closed
 * it too early) is answered 503 with Retry-After, never 500.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConnectionError } from 'sequelize';
import { DATABASES, type TestDatabase } from '../support/databases';
import { OWNER_PASSWORD, SESSION_SECRET, signedInOwner, startHarness } from '../support/harness';
import { DATABASE_CLOSED } from '../../src/db';
import { freePort } from '../support/faulty-smtp';
import { mailboxWithActiveCollaborators } from '../support/seed';
import { AppProcess, waitForHttp } from '../support/processes';
import { ownerAcross, tally } from '../support/web-client';

const MAILBOX = 'studio.chiusura@pec.example.it';
const CLIENTS = 30;
const GRACE_MS = 1000;
/** Between the grace period's end and the process's: closing the worker, the limiter, the database. */
const EXIT_SLACK_MS = 1000;

/** One GET over `agent`: its status, or the connection's error code. */
function get(origin: string, pathname: string, cookie: string, agent: http.Agent): Promise<number | string> {
  return new Promise((resolve) => {
    const request = http.get(`${origin}${pathname}`, { agent, headers: { cookie } }, (response) => {
      response.resume();
      response.once('end', () => resolve(response.statusCode ?? 'none'));
      response.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    request.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

/** A client that sends half a request and then nothing: its connection is never idle. */
function stalledClient(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write('GET /settings/collaborations HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

describe('SIGTERM under load (src/server.ts)', function () {
  this.timeout(30_000);

  for (const { name, create } of DATABASES) {
    describe(name, function () {
      let database: TestDatabase;
      let dataDir: string;
      let app: AppProcess | undefined;

      before(async () => {
        database = await create();
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pec-shutdown-'));
        const db = await mailboxWithActiveCollaborators(database.url, MAILBOX, 5);
        await db.close();
      });
      after(async () => {
        await app?.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
        await database?.drop();
      });

      it('should answer 503 with Retry-After, not 500, to a request reaching a closed database', async function () {
        const h = await startHarness(database.url);
        try {
          await h.mailbox('studio.chiuso@pec.example.it');
          const owner = await signedInOwner(h.app, 'studio.chiuso@pec.example.it');
          await h.db.close();
          const res = await owner.get('/settings/collaborations');
          expect(res.status).to.equal(503);
          expect(res.headers['retry-after']).to.equal('5');
          const refusals = await Promise.allSettled([h.db.sequelize.query('SELECT 1'), h.db.transaction(async () => 1)]);
          for (const refusal of refusals) {
            expect(refusal.status).to.equal('rejected');
            const reason = (refusal as PromiseRejectedResult).reason as ConnectionError & { original: { code?: string } };
            expect(reason).to.be.instanceOf(ConnectionError);
            expect(reason.original.code).to.equal(DATABASE_CLOSED);
          }
        } finally {
          await h.close();
        }
      });

      it('should answer every request it accepts (no 500) and exit with status 0 within the grace period', async function () {
        const port = await freePort();
        const origin = `http://127.0.0.1:${port}`;
        app = AppProcess.server('app', {
          NODE_ENV: 'development',
          DATA_DIR: dataDir,
          DATABASE_URL: database.url,
          SESSION_SECRET,
          BCRYPT_COST: '4',
          PORT: String(port),
          SHUTDOWN_GRACE_MS: String(GRACE_MS),
        });
        await waitForHttp(`${origin}/healthz`);
        const owner = await ownerAcross([origin, origin], MAILBOX, OWNER_PASSWORD);
        const stalled = await stalledClient(port);

        const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
        const answers: Array<number | string> = [];
        let exited = false;
        const exit = app.exited.then((code) => {
          exited = true;
          return { code, at: Date.now() };
        });
        // Each client asks again as soon as it is answered, until its connection is refused or the process is gone.
        const clients = Array.from({ length: CLIENTS }, async () => {
          while (!exited) {
            const answer = await get(origin, '/settings/collaborations', owner.cookieHeader, agent);
            answers.push(answer);
            if (typeof answer === 'string') return;
          }
        });
        while (answers.length < 3 * CLIENTS) await new Promise((resolve) => setTimeout(resolve, 10));
        const sentAt = Date.now();
        process.kill(app.pid, 'SIGTERM');
        const late = new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`still running ${GRACE_MS + EXIT_SLACK_MS} ms after SIGTERM`)), GRACE_MS + EXIT_SLACK_MS).unref());
        const { code, at } = await Promise.race([exit, late]);
        await Promise.all(clients);
        agent.destroy();
        stalled.destroy();

        const counts = tally(answers);
        const failed = app.output.find((line) => line.includes('request failed'));
        const report = `answers ${JSON.stringify(counts)}${failed ? `, first failure: ${failed.slice(0, 400)}` : ''}`;
        expect(counts['500'] ?? 0, `500s: ${report}`).to.equal(0);
        expect(Object.keys(counts).filter((status) => /^\d+$/.test(status) && !['200', '503'].includes(status)), report).to.deep.equal([]);
        // Each kept-alive client was told its answer was the last on its connection, so none was still waiting to be cut.
        expect(app.output.filter((line) => line.includes('were cut')), report).to.deep.equal([]);
        expect(code, app.output.join('\n')).to.equal(0);
        expect(at - sentAt, 'ms from SIGTERM to exit').to.be.below(GRACE_MS + EXIT_SLACK_MS);
      });
    });
  }
});
