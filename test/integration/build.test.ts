/**
 * The compiled app (scripts/build.mjs → dist/), as `npm start`, `npm run migrate` and hosts run it:
 * files found from the project root, migrations recorded under the names tsx records, and stacks
 * that point at the TypeScript lines.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { Sequelize } from 'sequelize';
import { freePort } from '../support/faulty-smtp';
import { waitForHttp } from '../support/processes';

const ROOT = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);
/** Packages that only some requests use (passkeys, OIDC, TOTP, a password typed, /metrics) or only a pending migration. */
const REQUIRED_WHEN_USED = ['@simplewebauthn/server', 'openid-client', 'otpauth', 'qrcode', '@zxcvbn-ts/language-common', 'prom-client', 'umzug'];

/** Runs a Node program of the project to its end; a non-zero status is returned, not thrown. */
async function node(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

describe('The compiled app (dist/)', function () {
  this.timeout(60_000);
  let dir: string;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pec-build-'));
    expect((await node(['scripts/build.mjs'])).code).to.equal(0);
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('should skip the build when no source changed since', async function () {
    const { code, stdout } = await node(['scripts/build.mjs']);
    expect(code).to.equal(0);
    expect(stdout).to.equal('');
  });

  it('should migrate with the compiled migrations under their .ts names, so tsx finds nothing left to run', async function () {
    const url = `sqlite:${path.join(dir, 'app.sqlite')}`;
    const compiled = await node(['dist/src/cli.js', 'migrate'], { DATABASE_URL: url });
    expect(compiled.code, compiled.stderr).to.equal(0);
    const db = new Sequelize(url, { logging: false });
    const [rows] = await db.query('SELECT name FROM schema_migrations ORDER BY name');
    await db.close();
    const sources = fs.readdirSync(path.join(ROOT, 'migrations')).filter((f) => f.endsWith('.ts')).sort();
    expect((rows as Array<{ name: string }>).map((r) => r.name)).to.deep.equal(sources);
    const again = await node(['--import', 'tsx', 'src/cli.ts', 'migrate'], { DATABASE_URL: url });
    expect(again.code, again.stderr).to.equal(0);
  });

  it('should start on a migrated database without the packages only some requests need (issue 17, RSS)', async function () {
    const url = `sqlite:${path.join(dir, 'started.sqlite')}`;
    const migrated = await node(['dist/src/cli.js', 'migrate'], { DATABASE_URL: url });
    expect(migrated.code, migrated.stderr).to.equal(0);
    const list = path.join(dir, 'loaded.json');
    const port = await freePort();
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', DATABASE_URL: url, DATA_DIR: dir, PORT: String(port), LOADED_PACKAGES_FILE: list };
    const app = spawn(process.execPath, ['--require', path.join(ROOT, 'test', 'support', 'loaded-packages.cjs'), 'dist/src/server.js'], { cwd: ROOT, env, stdio: 'ignore' });
    const exited = once(app, 'exit');
    await waitForHttp(`http://127.0.0.1:${port}/healthz`);
    app.kill('SIGTERM');
    await exited;
    const loaded = JSON.parse(fs.readFileSync(list, 'utf8')) as string[];
    expect(loaded).to.include.members(['express', 'sequelize']);
    expect(loaded.filter((name) => REQUIRED_WHEN_USED.includes(name))).to.deep.equal([]);
  });

  it('should print a failed start’s stack with the .ts lines (LOG_LEVEL=debug)', async function () {
    const { code, stderr } = await node(['dist/src/server.js'], { BCRYPT_COST: 'abc', LOG_LEVEL: 'debug', DATA_DIR: dir });
    expect(code).to.equal(1);
    expect(stderr).to.include(`at loadConfig (${path.join(ROOT, 'src', 'config', 'index.ts')}:`);
    expect(stderr).not.to.match(/dist\/src\/config\/index\.js/);
  });
});
