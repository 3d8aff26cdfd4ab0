import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcrypt';
import { loadConfig } from '../src/config';
import { openDatabase, type Database } from '../src/db';
import { Outbox } from '../src/mail/outbox';
import { redactor } from '../src/mail/redact';
import { systemClock } from '../src/lib/clock';
import { Sealer } from '../src/lib/secrets';
import { waitForHttp } from '../test/support/processes';
import { Child, cpuMsOf, eventLoop, memoryOf, ROOT, untilIdle } from './lib/processes';
import { freshDatabase, keptDatabase } from './lib/databases';
import { Session, inParallel } from './lib/http';
import { load } from './lib/load';
import { CountingSink } from './lib/sink';
import { threadCpuMsOf, threadCpuSince } from './lib/threads';
import { DOMAIN, OWNER_PASSWORD, seed, seedBulk, type Seeded } from './lib/seed';

/*
 * npm run bench:profile: where the Collaborations page's CPU time goes. Seeds SIZE collaborators
 * (10,000 by default) in a temporary SQLite file, loads the page for SECONDS (20) under the V8 profiler
 * of the app as `npm start` runs it,
 * and prints self time by module (a package, a folder of ours, or V8's own work). LIST_CACHE_ENTRIES=0
 * profiles the page with every row rendered; PROFILE_MYSQL_URL (a MariaDB server) profiles on a fresh
 * database there instead of SQLite. CONNECTIONS (10) sets the load's connections (the bench's 50);
 * the line printed gives the app's event-loop delay during the load (p99 and max, ms), then the CPU ms a
 * request of the load generator, autocannon in this process, on the same cores (see bench/lib/load.ts).
 *
 * PROFILE_ACTION=password-reset|password-link|deactivation profiles an owner action instead, as the
 * three-dot menu sends it (htmx, CSRF header): one POST on each fresh account that the action takes
 * (reset: the active ones; resend and deactivate: the pending and suspended), ACTIONS of them (1,000),
 * 50 at a time (as the bench), the worker off (its deliveries are not the action's). It also prints the app's CPU ms
 * per action on its main thread, on libuv's pool (SQLite's own work) and on V8's helper threads;
 * NO_PROFILE=1 prints only those, measured without the profiler.
 *
 * PROFILE_MAIL=1 profiles the outbox worker instead, as the bench's mail phase loads it: DRAINS (5)
 * times, EMAILS (1,000) invitations queued in one transaction once the app is idle, drained by the
 * app's worker to an SMTP sink of this process; prints the app's CPU ms per email for each drain.
 */
const SIZE = Number(process.env.SIZE ?? 10_000);
const SECONDS = Number(process.env.SECONDS ?? 20);
const URL_PATH = process.env.PROFILE_PATH ?? '/settings/collaborations';
/** Connections of the page load (10; the bench's is 50). */
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10);
const ACTION = process.env.PROFILE_ACTION;
const ACTIONS = Number(process.env.ACTIONS ?? 1000);
const MAIL = process.env.PROFILE_MAIL === '1';
/** PROFILE_WORKER=1 with PROFILE_ACTION: the app's worker on, delivering the actions' emails to a sink during the load (as the bench runs it). */
const WORKER_ON = process.env.PROFILE_WORKER === '1';
const DRAINS = Number(process.env.DRAINS ?? 5);
const EMAILS = Number(process.env.EMAILS ?? 1000);
/** TOTAL=n with PROFILE_MAIL: the database grown to n collaborators in all, as the bench grows it, before the drains. */
const TOTAL = Number(process.env.TOTAL ?? 0);
/**
 * KEEP_DATABASE with PROFILE_MAIL: the database is kept after the run, a SQLite file of that name (or with
 * PROFILE_MYSQL_URL, a database of that name on the server); one that exists is used as it is (seeded and
 * grown by an earlier run), so that drains can be repeated without growing it again.
 */
const KEEP_DATABASE = process.env.KEEP_DATABASE;
if (KEEP_DATABASE && !MAIL) throw new Error('KEEP_DATABASE: only with PROFILE_MAIL=1');
/** NO_PROFILE=1: the CPU figures without the profiler's own cost, and no profile. */
const PROFILING = process.env.NO_PROFILE !== '1';
const ACTION_IDS: Record<string, keyof Seeded['actionIds']> = { 'password-reset': 'active', 'password-link': 'pendingOrSuspended', deactivation: 'pendingOrSuspended' };
if (ACTION && !(ACTION in ACTION_IDS)) throw new Error(`PROFILE_ACTION: one of ${Object.keys(ACTION_IDS).join(', ')}`);

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

/**
 * CPU ms each kind of thread of `pid` used between two readings: the main thread, libuv's pool (its
 * 4 threads are the newest: libuv starts them at the first query, after V8's own), the rest (V8's
 * helpers: garbage collection, the profiler's sampling).
 */
function cpuByThreadKind(pid: number, used: Map<number, number>): Record<'main' | 'pool' | 'other', number> {
  const pool = new Set([...used.keys()].sort((a, b) => b - a).slice(0, 4));
  const kinds = { main: 0, pool: 0, other: 0 };
  for (const [tid, ms] of used) kinds[tid === pid ? 'main' : pool.has(tid) ? 'pool' : 'other'] += ms;
  return kinds;
}

/**
 * Posts ACTION once on each of `ids` (warming up on the first 100), 10 at a time, as the owner's
 * htmx menu does; prints the CPU ms per action by kind of thread, and how long the answers took (a
 * stall shows as a slowest answer of seconds). Returns a line for the summary.
 */
async function postActions(base: string, app: Child, owner: { cookie: string; csrf: string }, ids: number[], sink: CountingSink | null): Promise<string> {
  const headers = { cookie: owner.cookie, 'x-csrf-token': owner.csrf, 'hx-request': 'true', 'content-type': 'application/x-www-form-urlencoded' };
  let failed = 0;
  /** How long each post measured took to be answered, ms. */
  let answeredMs: number[] = [];
  const post = async (id: number) => {
    const sentAt = performance.now();
    const answer = await fetch(`${base}/settings/collaborations/${id}/${ACTION}`, { method: 'POST', headers, body: '' });
    await answer.arrayBuffer();
    if (answer.status !== 200) failed += 1;
    answeredMs.push(performance.now() - sentAt);
  };
  const warm = ids.slice(0, 100);
  const measured = ids.slice(100, 100 + ACTIONS);
  if (measured.length < ACTIONS) throw new Error(`only ${measured.length} accounts for ${ACTION}: raise SIZE`);
  await inParallel(warm, 50, post);
  answeredMs = [];
  const before = threadCpuMsOf(app.pid);
  const sentBefore = sink?.count ?? 0;
  const started = performance.now();
  await inParallel(measured, 50, post);
  const sent = (sink?.count ?? 0) - sentBefore;
  const seconds = (performance.now() - started) / 1000;
  const used = threadCpuSince(before, threadCpuMsOf(app.pid));
  if (failed > 0) throw new Error(`${failed} of the ${ACTION} posts were not answered 200`);
  const kinds = used ? cpuByThreadKind(app.pid, used) : null;
  const per = (ms: number | undefined) => ((ms ?? NaN) / measured.length).toFixed(2);
  const answered = answeredMs.sort((a, b) => a - b);
  const at = (share: number) => Math.round(answered[Math.min(answered.length - 1, Math.floor(answered.length * share))] ?? NaN);
  console.log(`POST …/:id/${ACTION}: ${measured.length} in ${seconds.toFixed(1)} s (answered in p50 ${at(0.5)} ms, p99 ${at(0.99)}, slowest ${at(1)}), CPU ms each: main thread ${per(kinds?.main)}, V8 helpers ${per(kinds?.other)}, libuv pool (SQLite) ${per(kinds?.pool)}${sink ? `; ${sent} emails delivered meanwhile` : ''}`);
  return `POST /settings/collaborations/:id/${ACTION} at ${SIZE} collaborators: ${Math.round(measured.length / seconds)} req/s with 50 at a time`;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pec-profile-'));
  const kept = KEEP_DATABASE ? await keptDatabase(KEEP_DATABASE, process.env.PROFILE_MYSQL_URL) : null;
  const reused = kept?.existed ?? false;
  const database = kept ? { url: kept.url, drop: async () => undefined } : await freshDatabase(process.env.PROFILE_MYSQL_URL ? 'mariadb' : 'sqlite', process.env.PROFILE_MYSQL_URL);
  const { url } = database;
  const port = 20_000 + crypto.randomInt(10_000);
  const sink = MAIL || (ACTION && WORKER_ON) ? await new CountingSink().start() : null;
  const env: Record<string, string> = {
    PORT: String(port),
    BASE_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: url,
    DATA_DIR: dir,
    NODE_ENV: 'production',
    SESSION_SECRET: crypto.randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'warn',
    BENCH_EVENT_LOOP: '1',
    WORKER: sink ? 'on' : 'off',
    SMTP_URL: sink ? sink.url : 'smtp://127.0.0.1:1',
    ...(process.env.LIST_CACHE_ENTRIES ? { LIST_CACHE_ENTRIES: process.env.LIST_CACHE_ENTRIES } : {}),
    // The actions are measured by the thousand: the sending limits would refuse all but the first.
    ...(ACTION ? { MAIL_LIMIT_PER_RECIPIENT: '1000000', MAIL_LIMIT_PER_MAILBOX: '1000000' } : {}),
  };
  try {
    const db = await openDatabase(url);
    const seeded = reused ? null : await seed(db, loadConfig(env), { sizes: [MAIL ? 1 : SIZE], others: 0, links: 0, hash: await bcrypt.hash(OWNER_PASSWORD, 4) });
    if (!MAIL) await db.close();
    const app = Child.startApp(env, 'app', PROFILING ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []);
    await waitForHttp(`${env.BASE_URL}/healthz`);
    const base = env.BASE_URL as string;
    let title: string;
    if (MAIL && sink) {
      // As the bench grows it: while the app (and its worker) runs, in mailboxes of 10,000, after the bench's own seeding.
      const present = await db.models.Collaborator.count();
      if (TOTAL > present) {
        const seconds = await seedBulk(db, { collaborators: TOTAL - present, each: 10_000, hash: await bcrypt.hash(OWNER_PASSWORD, 4), from: await db.models.Mailbox.count() });
        console.log(`grown to ${TOTAL} collaborators in ${seconds.toFixed(1)} s`);
      }
      title = await mailDrains(db, env, app.pid, sink);
      await db.close();
    } else {
      const session = new Session(base);
      if (!seeded) throw new Error('a kept database serves PROFILE_MAIL only');
      const csrf = await session.signIn(seeded.owners.get(SIZE) as string, OWNER_PASSWORD);
      title = ACTION ? await postActions(base, app, { cookie: session.cookie, csrf }, seeded.actionIds[ACTION_IDS[ACTION] as keyof Seeded['actionIds']], sink) : await loadPage(base, app, session.cookie);
    }
    await app.stop();
    console.log(title);
    if (!PROFILING) return;
    console.log('self time (idle left out):');
    const file = fs.readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
    if (!file) throw new Error('the app wrote no profile');
    const profile = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Profile;
    if (process.env.PROFILE_OUT) fs.copyFileSync(path.join(dir, file), process.env.PROFILE_OUT);
    for (const [title, rows] of [['by module', summary(profile)], ['by function', summary(profile, true)]] as const) {
      const total = rows.reduce((sum, [, us]) => sum + us, 0);
      console.log(`\n${title}:`);
      for (const [name, us] of rows.slice(0, 25)) console.log(`${((us / total) * 100).toFixed(1).padStart(6)}%  ${name}`);
    }
  } finally {
    await sink?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    await database.drop();
  }
}

/** Loads URL_PATH for SECONDS (after 2 s of warm-up); returns a line for the summary. */
async function loadPage(base: string, app: Child, cookie: string): Promise<string> {
  await load({ url: `${base}${URL_PATH}`, seconds: 2, connections: CONNECTIONS, headers: { cookie } });
  if (process.env.PAGE_OUT) fs.writeFileSync(process.env.PAGE_OUT, await (await fetch(`${base}${URL_PATH}`, { headers: { cookie } })).text());
  await eventLoop(app);
  const before = threadCpuMsOf(app.pid);
  const loaderBefore = process.cpuUsage();
  const result = await load({ url: `${base}${URL_PATH}`, seconds: SECONDS, connections: CONNECTIONS, headers: { cookie } });
  const loader = process.cpuUsage(loaderBefore);
  const used = threadCpuSince(before, threadCpuMsOf(app.pid));
  const loop = await eventLoop(app);
  const kinds = used ? cpuByThreadKind(app.pid, used) : null;
  const per = (ms: number | undefined) => ((ms ?? NaN) / result.ok).toFixed(2);
  const all = kinds ? kinds.main + kinds.pool + kinds.other : undefined;
  return `${URL_PATH} at ${SIZE} collaborators: ${Math.round(result.rps)} req/s with ${CONNECTIONS} connections, CPU ms a request ${per(all)}${PROFILING ? ' (under the profiler)' : ''}: main thread ${per(kinds?.main)}, V8 helpers ${per(kinds?.other)}, libuv pool (SQLite) ${per(kinds?.pool)}; peak RSS ${Math.round(memoryOf(app.pid)?.hwm ?? NaN)} MB; event loop delay p99 ${loop.p99} ms, max ${loop.max} ms; the load generator (this process) ${per((loader.user + loader.system) / 1000)} CPU ms a request`;
}

/** DRAINS drains of EMAILS invitations (queued as the bench's mail phase queues them) by the app's worker; returns a line for the summary. */
async function mailDrains(db: Database, env: Record<string, string>, pid: number, sink: CountingSink): Promise<string> {
  const outbox = new Outbox(db, systemClock, new Sealer(env.SESSION_SECRET as string), redactor({}));
  const figures: string[] = [];
  for (let drain = 1; drain <= DRAINS; drain++) {
    await untilIdle(pid);
    const [before, cpuBefore, threadsBefore] = [sink.count, cpuMsOf(pid) as number, threadCpuMsOf(pid)];
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
    const used = threadCpuSince(threadsBefore, threadCpuMsOf(pid));
    const kinds = used ? cpuByThreadKind(pid, used) : null;
    const per = (ms: number | undefined) => ((ms ?? NaN) / EMAILS).toFixed(2);
    figures.push(`${perSecond}/s ${cpuMs.toFixed(2)} ms`);
    console.log(`drain ${drain}: ${EMAILS} emails, ${perSecond} emails/s, ${cpuMs.toFixed(2)} CPU ms per email (main thread ${per(kinds?.main)}, libuv pool (SQLite) ${per(kinds?.pool)}, V8 helpers ${per(kinds?.other)})`);
  }
  return `mail: ${DRAINS} drains of ${EMAILS} emails (${figures.join(', ')})${PROFILING ? ' (under the profiler)' : ''}`;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
