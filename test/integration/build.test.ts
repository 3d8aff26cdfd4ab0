/**
 * The compiled app (scripts/build.mjs → dist/), as `npm start`, `npm run migrate` and hosts run it:
 * files found from the project root, migrations recorded under the names tsx records, and stacks
 * that point at the TypeScript lines.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { Sequelize } from 'sequelize';

const ROOT = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);

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

  it('should print a failed start’s stack with the .ts lines (LOG_LEVEL=debug)', async function () {
    const { code, stderr } = await node(['dist/src/server.js'], { BCRYPT_COST: 'abc', LOG_LEVEL: 'debug', DATA_DIR: dir });
    expect(code).to.equal(1);
    expect(stderr).to.include(`at loadConfig (${path.join(ROOT, 'src', 'config', 'index.ts')}:`);
    expect(stderr).not.to.match(/dist\/src\/config\/index\.js/);
  });
});
