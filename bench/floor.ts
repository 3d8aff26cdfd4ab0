import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import sqlite3 from 'sqlite3';
import { waitForHttp } from '../test/support/processes';
import { inParallel } from './lib/http';
import { appCommand } from './lib/processes';
import { appLibraries, sessionKey } from './lib/stack';
import { threadCpuMsOf, threadCpuSince } from './lib/threads';

/*
 * The stack's own floor for an owner action (issue 17): a bare Express 5 app with the libraries the
 * app's shared steps use, configured as src/app.ts configures them (helmet with its CSP,
 * express-session with a store reading one SQLite row a request by the driver's Database#all,
 * cookie-parser, csrf-csrf's signed double-submit bound to the session, the urlencoded body), that
 * answers an htmx POST with an empty fragment. Loaded as bench:profile loads an action (50 at a
 * time, 100 to warm up, ACTIONS measured, 1,000); prints its CPU ms a request by kind of thread.
 * `node --import tsx bench/floor.ts`.
 */
const ACTIONS = Number(process.env.ACTIONS ?? 1000);
/** STATEMENTS=n: the POST runs n more one-row statements (Database#run, in turn) before answering: what the driver costs a statement. */
const STATEMENTS = Number(process.env.STATEMENTS ?? 0);
const SECRET = 'floor-secret-of-32-bytes-or-more-xxxxxxxx';
const SID = 'floor-session-id';

/** The server: `floor.ts serve <file> <port>`. */
function serve(file: string, port: number): void {
  const db = new sqlite3.Database(file);
  const app = express();
  const { doubleCsrfProtection, generateCsrfToken } = appLibraries(app, db, SECRET);
  app.get('/token', (req, res) => res.send(generateCsrfToken(req, res)));
  app.use(express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 50 }));
  app.use(doubleCsrfProtection);
  const statement = () => new Promise<void>((resolve, reject) => db.run('UPDATE sessions SET expires = ?1 WHERE sid = ?2', ['9999-12-31', 'none'], (err) => (err ? reject(err) : resolve())));
  app.post('/action', async (req, res) => {
    // The session read from the store, not a new one.
    if (!(req.session as { identity?: unknown }).identity) return res.sendStatus(401);
    for (let i = 0; i < STATEMENTS; i++) await statement();
    res.type('html').send('');
  });
  app.get('/healthz', (_req, res) => res.send('ok'));
  app.listen(port, '127.0.0.1');
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pec-floor-'));
  const file = path.join(dir, 'floor.sqlite');
  const db = new sqlite3.Database(file);
  const data = JSON.stringify({ cookie: { originalMaxAge: null, httpOnly: true, sameSite: 'lax', path: '/' }, identity: { principal: { type: 'owner', id: 1 }, credentialVersion: 0 } });
  await new Promise<void>((resolve, reject) =>
    db.exec(`CREATE TABLE sessions (sid TEXT PRIMARY KEY, data TEXT, expires TEXT); INSERT INTO sessions VALUES ('${sessionKey(SID)}', '${data}', '9999-12-31')`, (err) => (err ? reject(err) : resolve())),
  );
  db.close();
  const port = 30_000 + crypto.randomInt(10_000);
  // With Node's flags and variables of package.json's start script, as the app runs.
  const app = appCommand();
  const child = spawn(process.execPath, [...app.nodeFlags, '--import', 'tsx', __filename, 'serve', file, String(port)], {
    env: { ...process.env, ...app.env, NODE_ENV: 'production' },
    stdio: 'inherit',
  });
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/healthz`);
    // express-session's signed cookie (cookie-signature's HMAC-SHA256, base64 without padding).
    const signature = crypto.createHmac('sha256', SECRET).update(SID).digest('base64').replace(/=+$/, '');
    const cookie = `sid=${encodeURIComponent(`s:${SID}.${signature}`)}`;
    const answer = await fetch(`${base}/token`, { headers: { cookie } });
    const token = await answer.text();
    const csrfCookie = (answer.headers.get('set-cookie') ?? '').split(';')[0];
    const headers = { cookie: `${cookie}; ${csrfCookie}`, 'x-csrf-token': token, 'hx-request': 'true', 'content-type': 'application/x-www-form-urlencoded' };
    let failed = 0;
    const post = async () => {
      const res = await fetch(`${base}/action`, { method: 'POST', headers, body: '' });
      await res.arrayBuffer();
      if (res.status !== 200) failed += 1;
    };
    await inParallel(Array.from({ length: 100 }), 50, post);
    const pid = child.pid as number;
    const before = threadCpuMsOf(pid);
    const started = performance.now();
    await inParallel(Array.from({ length: ACTIONS }), 50, post);
    const seconds = (performance.now() - started) / 1000;
    const used = threadCpuSince(before, threadCpuMsOf(pid));
    if (failed > 0) throw new Error(`${failed} posts were not answered 200`);
    if (!used) throw new Error('no /proc');
    // libuv's pool: the 4 newest threads (started at the first query, after V8's own), as bench:profile tells them.
    const pool = new Set([...used.keys()].sort((a, b) => b - a).slice(0, 4));
    const kinds = { main: 0, pool: 0, other: 0 };
    for (const [tid, ms] of used) kinds[tid === pid ? 'main' : pool.has(tid) ? 'pool' : 'other'] += ms;
    const per = (ms: number) => (ms / ACTIONS).toFixed(2);
    console.log(`floor POST: ${ACTIONS} in ${seconds.toFixed(1)} s, CPU ms each: main thread ${per(kinds.main)}, V8 helpers ${per(kinds.other)}, libuv pool (SQLite) ${per(kinds.pool)}; apart from the pool ${per(kinds.main + kinds.other)}`);
  } finally {
    child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === 'serve') serve(process.argv[3] as string, Number(process.argv[4]));
else
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
