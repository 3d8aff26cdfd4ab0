/**
 * The real process (`src/server.ts`): a start that fails ends with status 1 and one line that names
 * what failed (the port, the database without its password, the variable), never a stack dump, and
 * never "running at" for a server that is not running.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { DATABASES, type TestDatabase } from '../support/databases';
import { SESSION_SECRET } from '../support/harness';
import { freePort } from '../support/faulty-smtp';
import { AppProcess } from '../support/processes';

const PROGRAM = 'PEC collaborations did not start: ';

/** Starts src/server.ts and waits for it to exit (a start that succeeds is stopped and reported). */
async function start(env: Record<string, string>): Promise<{ code: number | null; output: string[] }> {
  const app = AppProcess.server('app', { NODE_ENV: 'development', BCRYPT_COST: '4', ...env });
  const outcome = await Promise.race([app.exited, app.waitFor(/running at/, 60_000).then(() => 'running' as const)]);
  if (outcome === 'running') {
    await app.stop();
    return { code: null, output: ['(it started)', ...app.output] };
  }
  return { code: outcome, output: app.output };
}

/** The one line a failed start prints, after checking that it is one line and the status is 1. */
async function failure(env: Record<string, string>): Promise<string> {
  const { code, output } = await start(env);
  expect(code, output.join('\n')).to.equal(1);
  expect(output, 'exactly one line').to.have.length(1);
  expect(output[0]).to.match(new RegExp(`^${PROGRAM}`));
  return (output[0] as string).slice(PROGRAM.length);
}

describe('Start-up failures of src/server.ts', function () {
  this.timeout(90_000);
  let dataDir: string;

  before(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pec-startup-'));
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  describe('configuration', function () {
    it('should refuse a malformed PORT, naming it', async function () {
      expect(await failure({ DATA_DIR: dataDir, PORT: 'abc' })).to.equal('configuration: PORT must be a whole number from 1 to 65535, got "abc"');
    });

    it('should refuse production without SMTP_URL, BASE_URL and SESSION_SECRET', async function () {
      expect(await failure({ DATA_DIR: dataDir, NODE_ENV: 'production' })).to.equal('configuration: production needs SMTP_URL, BASE_URL, SESSION_SECRET');
    });

    it('should refuse production with a plain-http public BASE_URL', async function () {
      const env = { DATA_DIR: dataDir, NODE_ENV: 'production', SMTP_URL: 'smtp://127.0.0.1:2525', SESSION_SECRET, BASE_URL: 'http://webmail.example.it' };
      expect(await failure(env)).to.equal('configuration: BASE_URL must be https:// in production, got "http://webmail.example.it"');
    });

    it('should refuse a short SESSION_SECRET outside production too', async function () {
      expect(await failure({ DATA_DIR: dataDir, SESSION_SECRET: 'x' })).to.equal('configuration: SESSION_SECRET must be at least 32 characters, of at least 10 different ones (e.g. openssl rand -base64 32)');
    });
  });

  it('should name an unreachable MariaDB without its password', async function () {
    const port = await freePort();
    const line = await failure({ DATA_DIR: dataDir, SESSION_SECRET, DATABASE_URL: `mysql://pec:S3cret-pw@127.0.0.1:${port}/pec` });
    expect(line).to.equal(`cannot open the database mysql://pec:***@127.0.0.1:${port}/pec: connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it("should name a SQLite file that cannot be opened (SQLITE_CANTOPEN)", async function () {
    // A folder where the file should be.
    const line = await failure({ DATA_DIR: dataDir, SESSION_SECRET, DATABASE_URL: `sqlite:${dataDir}` });
    expect(line).to.equal(`cannot open the database sqlite:${dataDir}: SQLITE_CANTOPEN: unable to open database file`);
  });

  for (const { name, create } of DATABASES) {
    describe(name, function () {
      let database: TestDatabase;
      before(async () => {
        database = await create();
      });
      after(async () => database?.drop());

      it('should exit with status 1 and name the port when the port is in use', async function () {
        const taken = net.createServer();
        await new Promise<void>((resolve) => taken.listen(0, resolve));
        const { port } = taken.address() as net.AddressInfo;
        try {
          const line = await failure({ DATA_DIR: dataDir, SESSION_SECRET, DATABASE_URL: database.url, PORT: String(port) });
          expect(line).to.equal(`cannot listen on port ${port}: the port is already in use (another program, or this app already running?)`);
        } finally {
          taken.close();
        }
      });

      if (name === 'MariaDB') {
        it('should name an unknown database', async function () {
          const missing = new URL(database.url);
          missing.pathname = '/pec_no_such_database';
          const line = await failure({ DATA_DIR: dataDir, SESSION_SECRET, DATABASE_URL: missing.toString() });
          expect(line).to.equal(`cannot open the database ${missing.toString()}: Unknown database 'pec_no_such_database'`);
        });
      }
    });
  }
});
