import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcrypt';
import { Sequelize } from 'sequelize';
import { loadConfig } from '../src/config';
import { openDatabase, type Database } from '../src/db';
import { Outbox } from '../src/mail/outbox';
import { redactor } from '../src/mail/redact';
import { systemClock } from '../src/lib/clock';
import { Sealer } from '../src/lib/secrets';
import { waitForHttp } from '../test/support/processes';
import { Child, ROOT, cpuMsOf, untilIdle } from './lib/processes';
import { Session } from './lib/http';
import { load } from './lib/load';
import { CountingSink } from './lib/sink';
import { DOMAIN, OWNER_PASSWORD, seed } from './lib/seed';

/*
 * npm run bench:profile: where the Collaborations page's CPU time goes. Seeds SIZE collaborators
 * (10,000 by default) in a temporary SQLite file, loads the page for SECONDS (20) under the V8 profiler
 * of the app as `npm start` runs it,
 * and prints self time by module (a package, a folder of ours, or V8's own work). LIST_CACHE_ENTRIES=0
 * profiles the page with every row rendered.
 * PROFILE_MAIL=1 profiles the outbox worker instead, as the bench's mail phase loads it: DRAINS (5)
 * times, EMAILS (1,000) invitations queued in one transaction once the app is idle, drained by the
 * app's worker to an SMTP sink of this process; prints the app's CPU ms per email for each drain.
 * PROFILE_MYSQL_URL (mysql://root@127.0.0.1:3306/test) runs it on a fresh MariaDB database instead.
 * NO_PROFILER=1 runs the app without the profiler, for CPU figures without its overhead (no profile printed).
 */
const SIZE = Number(process.env.SIZE ?? 10_000);
const SECONDS = Number(process.env.SECONDS ?? 20);
const URL_PATH = process.env.PROFILE_PATH ?? '/settings/collaborations';
const MAIL = process.env.PROFILE_MAIL === '1';
const DRAINS = Number(process.env.DRAINS ?? 5);
const EMAILS = Number(process.env.EMAILS ?? 1000);
const NO_PROFILER = process.env.NO_PROFILER === '1';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The module a frame belongs to: a package, our src/ or views/ folder, or V8's own work. */
function moduleOf({ functionName, url }: ProfileNode['callFrame']): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(V8 builtins)';
  const file = url.replace(/^file:\/\//, '');
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (pkg) return pkg[1] as string;
  if (file.startsWith('node:')) return file.split('/').slice(0, 2).join('/');
  const ours = path.relative(path.join(ROOT, 'dist'), file);
  if (!ours.startsWith('..')) return ours.split(path.sep).slice(0, 2).join('/');
  return file.endsWith('.ejs') ? 'views (compiled templates)' : '(other)';
}

/** Self time (µs) by module, or by function with `byFunction`; the idle loop left out. */
function summary(profile: Profile, byFunction = false): Array<[string, number]> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') return;
    const name = byFunction ? `${node.callFrame.functionName || '(anonymous)'} ${moduleOf(node.callFrame)}` : moduleOf(node.callFrame);
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return [...self.entries()].sort((a, b) => b[1] - a[1]);
}

/** A database for the run: a SQLite file in `dir`, or a fresh database on PROFILE_MYSQL_URL's server; `drop` removes it. */
async function freshDatabase(dir: string): Promise<{ url: string; drop(): Promise<void> }> {
  const server = process.env.PROFILE_MYSQL_URL;
  if (!server) return { url: `sqlite:${path.join(dir, 'profile.sqlite')}`, drop: async () => undefined };
  const name = `pec_profile_${crypto.randomBytes(4).toString('hex')}`;
  const run = async (sql: string) => {
    const admin = new Sequelize(server, { logging: false, dialect: 'mysql' });
    await admin.query(sql);
    await admin.close();
  };
  await run(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS \`${name}\``) };
}

/** Loads URL_PATH as the signed-in owner of the mailbox with SIZE collaborators; answers the headline. */
async function pageLoad(env: Record<string, string>, owner: string): Promise<string> {
  const session = new Session(env.BASE_URL as string);
  await session.signIn(owner, OWNER_PASSWORD);
  await load({ url: `${env.BASE_URL}${URL_PATH}`, seconds: 2, connections: 10, headers: { cookie: session.cookie } });
  if (process.env.PAGE_OUT) fs.writeFileSync(process.env.PAGE_OUT, await (await fetch(`${env.BASE_URL}${URL_PATH}`, { headers: { cookie: session.cookie } })).text());
  const result = await load({ url: `${env.BASE_URL}${URL_PATH}`, seconds: SECONDS, connections: 10, headers: { cookie: session.cookie } });
  return `${URL_PATH} at ${SIZE} collaborators: ${Math.round(result.rps)} req/s with 10 connections`;
}

/** DRAINS drains of EMAILS invitations (queued as the bench's mail phase queues them) by the app's worker; answers the headline. */
async function mailDrains(db: Database, env: Record<string, string>, pid: number, sink: CountingSink): Promise<string> {
  const outbox = new Outbox(db, systemClock, new Sealer(env.SESSION_SECRET as string), redactor({}));
  const figures: string[] = [];
  for (let drain = 1; drain <= DRAINS; drain++) {
    await untilIdle(pid);
    const [before, cpuBefore] = [sink.count, cpuMsOf(pid) as number];
    sink.reset();
    await db.transaction(async (t) => {
      for (let i = 0; i < EMAILS; i++) {
        const payload = { firstName: 'Mario', lastName: `Rossi ${i}`, username: `mail${i}/owner@${DOMAIN}`, mailbox: `owner@${DOMAIN}`, accessLevel: 'read' as const, expiresAt: new Date(Date.now() + 86_400_000).toISOString() };
        const link = `${env.BASE_URL}/password/${crypto.randomBytes(32).toString('base64url')}`;
        await outbox.enqueueEmail({ template: 'invitation', to: `mail${i}@example.org`, locale: 'it', mailboxId: 1, collaboratorId: 1, link, payload }, t);
      }
    });
    await sink.waitFor(before + EMAILS, 600_000);
    await untilIdle(pid);
    const perSecond = Math.round((EMAILS - 1) / ((sink.lastAt - sink.firstAt) / 1000));
    const cpuMs = ((cpuMsOf(pid) as number) - cpuBefore) / EMAILS;
    figures.push(`${perSecond}/s ${cpuMs.toFixed(2)} ms`);
    console.log(`drain ${drain}: ${EMAILS} emails, ${perSecond} emails/s, ${cpuMs.toFixed(2)} CPU ms per email`);
  }
  return `mail: ${DRAINS} drains of ${EMAILS} emails (${figures.join(', ')})`;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pec-profile-'));
  const database = await freshDatabase(dir);
  const port = 20_000 + crypto.randomInt(10_000);
  const sink = MAIL ? await new CountingSink().start() : null;
  const env: Record<string, string> = {
    PORT: String(port),
    BASE_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: database.url,
    DATA_DIR: dir,
    NODE_ENV: 'production',
    SESSION_SECRET: crypto.randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'warn',
    WORKER: sink ? 'on' : 'off',
    SMTP_URL: sink ? sink.url : 'smtp://127.0.0.1:1',
    ...(process.env.LIST_CACHE_ENTRIES ? { LIST_CACHE_ENTRIES: process.env.LIST_CACHE_ENTRIES } : {}),
  };
  try {
    const db = await openDatabase(database.url);
    const seeded = await seed(db, loadConfig(env), { sizes: [sink ? 1 : SIZE], others: 0, links: 0, hash: await bcrypt.hash(OWNER_PASSWORD, 4) });
    if (!sink) await db.close();
    const app = Child.startApp(env, 'app', NO_PROFILER ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    await waitForHttp(`${env.BASE_URL}/healthz`);
    const headline = sink ? await mailDrains(db, env, app.pid, sink) : await pageLoad(env, seeded.owners.get(SIZE) as string);
    await app.stop();
    if (sink) await db.close();
    if (NO_PROFILER) return console.log(headline);
    const file = fs.readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
    if (!file) throw new Error('the app wrote no profile');
    const profile = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Profile;
    if (process.env.PROFILE_OUT) fs.copyFileSync(path.join(dir, file), process.env.PROFILE_OUT);
    console.log(`${headline}; self time (idle left out)`);
    for (const [title, rows] of [['by module', summary(profile)], ['by function', summary(profile, true)]] as const) {
      const total = rows.reduce((sum, [, us]) => sum + us, 0);
      console.log(`\n${title}:`);
      for (const [name, us] of rows.slice(0, 25)) console.log(`${((us / total) * 100).toFixed(1).padStart(6)}%  ${name}`);
    }
  } finally {
    await sink?.stop();
    await database.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
