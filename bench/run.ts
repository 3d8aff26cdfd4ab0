import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcrypt';
import { Sequelize } from 'sequelize';
import { loadConfig, type Config } from '../src/config';
import { openDatabase, type Database } from '../src/db';
import { Outbox } from '../src/mail/outbox';
import { Sealer } from '../src/lib/secrets';
import { systemClock } from '../src/lib/clock';
import { Child, ROOT, cpuMsOf, memoryOf, untilIdle, withPeakRss } from './lib/processes';
import { waitForHttp } from '../test/support/processes';
import { Session, inParallel } from './lib/http';
import { CountingSink } from './lib/sink';
import { cycle, load, type LoadResult } from './lib/load';
import { DOMAIN, OWNER_PASSWORD, SEARCH, seed, type Seeded } from './lib/seed';

/*
 * npm run bench: the app against the stack's own ceiling, on one machine, in one run.
 * BENCH_QUICK=1 runs small sizes and short loads (checks the harness); BENCH_MYSQL_URL adds MariaDB;
 * BENCH_SECONDS, BCRYPT_COST and UV_THREADPOOL_SIZE override the defaults.
 */
const QUICK = process.env.BENCH_QUICK === '1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 2 : 10));
const WARMUP = QUICK ? 1 : 3;
/** Hashing at cost 12 serves a few requests a second: this load runs longer to count enough of them. */
const SET_SECONDS = QUICK ? 6 : Math.max(SECONDS, 20);
const CONNECTIONS = 50;
const SIZES = QUICK ? [100, 1000, 5000] : [100, 10_000, 100_000];
const PAGE_SIZE = SIZES[1] as number;
const OTHERS = QUICK ? 50 : 1000;
const MAIL = QUICK ? 200 : 1000;
const COST = Number(process.env.BCRYPT_COST ?? 12);
const THREADPOOL = process.env.UV_THREADPOOL_SIZE ?? '4';
const SECRET = crypto.randomBytes(32).toString('base64url');
const OUT = path.join(__dirname, 'results.json');

interface Measured extends LoadResult {
  name: string;
  peakRssMb: number | null;
  loopP99: number | null;
  /** CPU time the serving process spent per successful request: steadier than req/s on a shared machine. */
  cpuMsPerRequest: number | null;
}

interface Comparison {
  name: string;
  value: string;
  target: string;
  met: boolean | null;
}

interface TargetRun {
  database: string;
  seeded: { collaborators: number; seconds: number };
  pageBytes: number;
  loads: Measured[];
  extra: Record<string, unknown>;
  comparisons: Comparison[];
  appPeakRssMb: number | null;
}

const log = (message: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A free port below Linux's ephemeral range: a port the kernel hands out to others (tests running
 * beside the bench listen on port 0) could be taken between this check and the child's listen.
 */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20_000 + crypto.randomInt(10_000);
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/** A fresh database: a temporary SQLite file, or a new database on the MariaDB server. */
async function freshDatabase(kind: 'sqlite' | 'mariadb'): Promise<{ url: string; drop(): Promise<void> }> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pec-bench-'));
    return { url: `sqlite:${path.join(dir, 'bench.sqlite')}`, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const server = process.env.BENCH_MYSQL_URL as string;
  const name = `pec_bench_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new Sequelize(server, { logging: false, dialect: 'mysql' });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.close();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const again = new Sequelize(server, { logging: false, dialect: 'mysql' });
      await again.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await again.close();
    },
  };
}

/** bcrypt alone, in its own process with the app's thread pool size and cost. */
async function bcryptRate(seconds: number): Promise<{ hashesPerSecond: number; hashes: number }> {
  const child = Child.start('bcrypt', 'bench/bcrypt-rate.ts', { BCRYPT_COST: String(COST), SECONDS: String(seconds), IN_FLIGHT: String(CONNECTIONS), UV_THREADPOOL_SIZE: THREADPOOL });
  const line = await child.nextLine((l) => l.startsWith('{'), (seconds + 60) * 1000);
  await child.stop();
  return JSON.parse(line) as { hashesPerSecond: number; hashes: number };
}

/** The app's event-loop delay since the previous call (BENCH_EVENT_LOOP=1 in the app). */
async function eventLoop(app: Child): Promise<{ p50: number; p99: number; max: number }> {
  const line = app.nextLine((l) => l.startsWith('{"eventLoopDelay"'), 5000);
  app.signal('SIGUSR2');
  return (JSON.parse(await line) as { eventLoopDelay: { p50: number; p99: number; max: number } }).eventLoopDelay;
}

/** Latency of one page request every 250 ms while a load runs: is the app still answering people? */
function probe(url: string, cookie: string): { stop(): Promise<{ p50: number; p99: number; max: number; n: number }> } {
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const response = await fetch(url, { headers: { cookie } });
      await response.arrayBuffer();
      if (response.ok) times.push(performance.now() - started);
      await sleep(250);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const sorted = [...times].sort((a, b) => a - b);
      const at = (q: number) => round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN);
      return { p50: at(0.5), p99: at(0.99), max: round(sorted[sorted.length - 1] ?? NaN), n: sorted.length };
    },
  };
}

/** Waits for the requests a stopped load left in flight: the next load starts on an idle server. */
async function settle(url: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const started = performance.now();
    await (await fetch(url)).arrayBuffer();
    if (performance.now() - started < 20) return;
    await sleep(100);
  }
}

/** Emails left queued by a load are marked sent, so the next load starts with an idle worker. */
async function clearQueue(db: Database): Promise<number> {
  const [, meta] = await db.sequelize.query(
    "UPDATE outbox_messages SET status = 'sent', secret = NULL, lease_owner = NULL, lease_until = NULL WHERE status IN ('queued', 'retrying')",
  );
  return typeof meta === 'number' ? meta : ((meta as { affectedRows?: number; changes?: number } | undefined)?.affectedRows ?? (meta as { changes?: number } | undefined)?.changes ?? 0);
}

async function benchDatabase(kind: 'sqlite' | 'mariadb', sink: CountingSink, bcryptAlone: { hashesPerSecond: number }): Promise<TargetRun> {
  const database = await freshDatabase(kind);
  const loads: Measured[] = [];
  const extra: Record<string, unknown> = {};
  let app: Child | null = null;
  let baseline: Child | null = null;
  let db: Database | null = null;
  try {
    const [port, baselinePort] = [await freePort(), await freePort()];
    const base = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      PORT: String(port),
      BASE_URL: base,
      DATABASE_URL: database.url,
      SMTP_URL: sink.url,
      NODE_ENV: 'production',
      SESSION_SECRET: SECRET,
      LOG_LEVEL: 'warn',
      BCRYPT_COST: String(COST),
      UV_THREADPOOL_SIZE: THREADPOOL,
      BENCH_EVENT_LOOP: '1',
      // Owner actions are measured by the thousand: the sending limits would refuse all but the first.
      MAIL_LIMIT_PER_RECIPIENT: '1000000',
      MAIL_LIMIT_PER_MAILBOX: '1000000',
      DATA_DIR: path.dirname(database.url.startsWith('sqlite:') ? database.url.slice(7) : os.tmpdir()),
    };
    const config: Config = loadConfig(env);

    log(`${kind}: migrating and seeding ${SIZES.join(' / ')} collaborators + ${OTHERS} mailboxes`);
    db = await openDatabase(database.url);
    const hash = await bcrypt.hash(OWNER_PASSWORD, COST);
    // Enough links for bcrypt's rate over the load, with room for the requests in flight at the end.
    const links = Math.ceil(bcryptAlone.hashesPerSecond * SET_SECONDS * 1.5) + CONNECTIONS * 2;
    const seeded: Seeded = await seed(db, config, { sizes: SIZES, others: OTHERS, links, hash });
    log(`${kind}: seeded ${seeded.collaborators} collaborators in ${round(seeded.seconds)} s`);

    app = Child.startApp(env);
    await waitForHttp(`${base}/healthz`);
    extra.idleRssMb = round(memoryOf(app.pid)?.rss ?? NaN);
    const owners = new Map<number, { cookie: string; csrf: string }>();
    for (const [size, address] of seeded.owners) {
      const session = new Session(base);
      const csrf = await session.signIn(address, OWNER_PASSWORD);
      owners.set(size, { cookie: session.cookie, csrf });
    }
    const page = owners.get(PAGE_SIZE) as { cookie: string; csrf: string };
    const pageBytes = Buffer.byteLength(await (await fetch(`${base}/settings/collaborations`, { headers: { cookie: page.cookie } })).text());

    baseline = Child.start('baseline', 'bench/baseline.ts', { PORT: String(baselinePort), PAGE_BYTES: String(pageBytes), NODE_ENV: 'production', SESSION_SECRET: SECRET, UV_THREADPOOL_SIZE: THREADPOOL });
    const baselineUrl = `http://127.0.0.1:${baselinePort}`;
    await waitForHttp(`${baselineUrl}/healthz`);
    const baselineSession = new Session(baselineUrl);
    await baselineSession.request('/login');
    const baselineBytes = Buffer.byteLength(await (await fetch(`${baselineUrl}/page`, { headers: { cookie: baselineSession.cookie } })).text());
    extra.baselineBytes = baselineBytes;

    const appPid = app.pid;
    const measure = async (name: string, pid: number, run: (seconds: number) => Promise<LoadResult>, opts: { warmup?: boolean; loop?: boolean; seconds?: number } = {}) => {
      if (opts.warmup !== false) {
        await run(WARMUP);
        await settle(`http://127.0.0.1:${pid === appPid ? port : baselinePort}/healthz`);
      }
      if (opts.loop !== false && app) await eventLoop(app);
      const cpuBefore = cpuMsOf(pid);
      const { result, peakRssMb } = await withPeakRss(pid, () => run(opts.seconds ?? SECONDS));
      const cpuAfter = cpuMsOf(pid);
      const loop = opts.loop !== false && app ? await eventLoop(app) : null;
      const cpuMsPerRequest = cpuBefore !== null && cpuAfter !== null && result.ok > 0 ? round((cpuAfter - cpuBefore) / result.ok, 2) : null;
      const measured: Measured = { name, ...result, peakRssMb: peakRssMb === null ? null : round(peakRssMb), loopP99: loop?.p99 ?? null, cpuMsPerRequest };
      loads.push(measured);
      log(`${kind}: ${name}: ${round(result.rps)} req/s, ${cpuMsPerRequest} CPU ms/req, p50 ${result.p50} ms, p99 ${result.p99} ms, ${result.other} non-2xx, ${result.errors} errors`);
      return measured;
    };
    const get = (url: string, cookie: string) => (seconds: number) => load({ url, seconds, connections: CONNECTIONS, headers: { cookie } });

    // 1. ceiling
    const ceiling = await measure('ceiling: bare Express + EJS', baseline.pid, get(`${baselineUrl}/page`, baselineSession.cookie), { loop: false });
    const list = await measure(`page, ${PAGE_SIZE} collaborators`, appPid, get(`${base}/settings/collaborations`, page.cookie));
    const search = await measure(`search ?q=${SEARCH}, ${PAGE_SIZE}`, appPid, get(`${base}/settings/collaborations?q=${SEARCH}`, page.cookie));

    // 2. growth
    const growth = new Map<number, Measured>([[PAGE_SIZE, list]]);
    for (const size of SIZES.filter((s) => s !== PAGE_SIZE)) {
      const owner = owners.get(size) as { cookie: string };
      growth.set(size, await measure(`page, ${size} collaborators`, appPid, get(`${base}/settings/collaborations`, owner.cookie)));
    }

    // 3. owner actions, as the three-dot menu sends them (htmx, the row comes back)
    const largest = owners.get(SIZES[SIZES.length - 1] as number) as { cookie: string; csrf: string };
    const actionHeaders = { cookie: largest.cookie, 'x-csrf-token': largest.csrf, 'hx-request': 'true', 'content-type': 'application/x-www-form-urlencoded' };
    const action = (ids: () => number, verb: string) => (seconds: number) =>
      load({
        url: base,
        seconds,
        connections: CONNECTIONS,
        requests: [{ method: 'POST', setupRequest: (request) => ({ ...request, path: `/settings/collaborations/${ids()}/${verb}`, headers: actionHeaders, body: '' }) }],
      });
    const reset = await measure('owner action: reset', appPid, action(cycle(seeded.actionIds.active), 'password-reset'));
    extra.resetMailBacklog = await clearQueue(db);
    const resend = await measure('owner action: resend link', appPid, action(cycle(seeded.actionIds.pendingOrSuspended), 'password-link'));
    extra.resendMailBacklog = await clearQueue(db);

    // 4. setting passwords: every request redeems its own link in its own session
    log(`${kind}: opening ${seeded.linkTokens.length} links, one session each`);
    const linkSessions = await inParallel(seeded.linkTokens, 8, async (token) => {
      const session = new Session(base);
      const opened = await session.request(`/password/${token}`);
      const form = await session.request(opened.location ?? '/password/new');
      if (form.status !== 200) throw new Error(`GET /password/new answered ${form.status}`);
      return { cookie: session.cookie, csrf: Session.csrfIn(form.body) };
    });
    const nextSession = cycle(linkSessions);
    const password = (i: number) => `maestrale sul porto ${i} ${crypto.randomBytes(4).toString('hex')}`;
    let n = 0;
    const small = owners.get(SIZES[0] as number) as { cookie: string };
    const pageProbe = probe(`${base}/settings/collaborations`, small.cookie);
    const setPassword = await measure(
      'set password (POST /password/new)',
      appPid,
      (seconds) =>
        load({
          url: base,
          seconds,
          connections: CONNECTIONS,
          timeoutSeconds: 60,
          requests: [
            {
              method: 'POST',
              path: '/password/new',
              setupRequest: (request) => {
                const { cookie, csrf } = nextSession();
                const pw = password((n += 1));
                return { ...request, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ password: pw, passwordConfirmation: pw, _csrf: csrf }).toString() };
              },
            },
          ],
        }),
      { warmup: false, seconds: SET_SECONDS },
    );
    extra.pageProbeDuringSetPassword = await pageProbe.stop();

    // 5. mail: queued in one transaction, drained by the app's worker to the sink, once the app has
    // hashed the passwords the stopped load left queued (they would compete with the worker)
    await untilIdle(appPid);
    extra.setPasswordMailBacklog = await clearQueue(db);
    const outbox = new Outbox(db, systemClock, new Sealer(SECRET));
    await eventLoop(app);
    const before = sink.count;
    sink.reset();
    const mailCpu = cpuMsOf(appPid);
    const { peakRssMb: mailRss, result: mail } = await withPeakRss(appPid, async () => {
      await db?.transaction(async (t) => {
        for (let i = 0; i < MAIL; i++) {
          await outbox.enqueueEmail(
            {
              template: 'invitation',
              to: `mail${i}@example.org`,
              locale: 'it',
              mailboxId: 1,
              collaboratorId: 1,
              link: `${base}/password/${crypto.randomBytes(32).toString('base64url')}`,
              payload: { firstName: 'Mario', lastName: `Rossi ${i}`, username: `mail${i}/owner@${DOMAIN}`, mailbox: `owner@${DOMAIN}`, accessLevel: 'read', expiresAt: new Date(Date.now() + 86_400_000).toISOString() },
            },
            t,
          );
        }
      });
      const committed = performance.now();
      await sink.waitFor(before + MAIL, 600_000);
      // The rate counts from the first delivery: the worker polls once a second, and the wait for that
      // tick is latency, not throughput (reported apart).
      const seconds = (sink.lastAt - sink.firstAt) / 1000;
      return { emailsPerSecond: (MAIL - 1) / seconds, seconds, firstAfterCommitMs: round(sink.firstAt - committed), lastAfterCommitS: round((sink.lastAt - committed) / 1000, 2) };
    });
    const mailLoop = await eventLoop(app);
    const mailCpuAfter = cpuMsOf(appPid);
    const cpuMsPerEmail = mailCpu !== null && mailCpuAfter !== null ? round((mailCpuAfter - mailCpu) / MAIL, 2) : null;
    extra.mail = { ...mail, emails: MAIL, cpuMsPerEmail, peakRssMb: mailRss === null ? null : round(mailRss), loopP99: mailLoop.p99 };
    log(`${kind}: mail: ${MAIL} emails in ${round(mail.seconds, 2)} s = ${round(mail.emailsPerSecond)} emails/s, ${cpuMsPerEmail} CPU ms/email`);

    const appPeakRssMb = memoryOf(appPid)?.hwm ?? null;
    const largestSize = SIZES[SIZES.length - 1] as number;
    const smallest = growth.get(SIZES[0] as number) as Measured;
    const biggest = growth.get(largestSize) as Measured;
    const probeStats = extra.pageProbeDuringSetPassword as { p99: number };
    // A load that served nothing (every answer slower than the load lasted) meets no target.
    const served = (...loads: Measured[]) => loads.every((l) => l.ok > 0);
    const comparisons: Comparison[] = [
      { name: `page ${PAGE_SIZE} req/s ÷ ceiling`, value: `${round((list.rps / ceiling.rps) * 100)}%`, target: '≥ 50%', met: served(list, ceiling) && list.rps / ceiling.rps >= 0.5 },
      { name: `page ${PAGE_SIZE} CPU ms/req ÷ ceiling`, value: `${round((list.cpuMsPerRequest ?? NaN) / (ceiling.cpuMsPerRequest ?? NaN), 2)}×`, target: '(report)', met: null },
      { name: `page ${PAGE_SIZE} p99 ÷ ceiling p99`, value: `${round(list.p99 / ceiling.p99, 2)}×`, target: '≤ 2×', met: served(list, ceiling) && list.p99 / ceiling.p99 <= 2 },
      { name: 'search req/s ÷ ceiling', value: `${round((search.rps / ceiling.rps) * 100)}%`, target: '≥ 50%', met: served(search, ceiling) && search.rps / ceiling.rps >= 0.5 },
      { name: 'search p99 ÷ ceiling p99', value: `${round(search.p99 / ceiling.p99, 2)}×`, target: '≤ 2×', met: served(search, ceiling) && search.p99 / ceiling.p99 <= 2 },
      { name: `p99 ${largestSize} ÷ p99 ${SIZES[0]}`, value: `${round(biggest.p99 / smallest.p99, 2)}×`, target: '≤ 1.5×', met: served(biggest, smallest) && biggest.p99 / smallest.p99 <= 1.5 },
      { name: `p50 ${largestSize} ÷ p50 ${SIZES[0]}`, value: `${round(biggest.p50 / smallest.p50, 2)}×`, target: '≤ 1.5×', met: served(biggest, smallest) && biggest.p50 / smallest.p50 <= 1.5 },
      { name: 'reset: req/s, p99', value: `${round(reset.rps)}, ${reset.p99} ms`, target: '(report)', met: null },
      { name: 'resend: req/s, p99', value: `${round(resend.rps)}, ${resend.p99} ms`, target: '(report)', met: null },
      { name: 'set-password ÷ bcrypt alone', value: `${round((setPassword.rps / bcryptAlone.hashesPerSecond) * 100)}%`, target: '≥ 90%', met: setPassword.rps / bcryptAlone.hashesPerSecond >= 0.9 },
      { name: 'event loop p99 during set-password', value: `${setPassword.loopP99} ms`, target: '< 20 ms', met: (setPassword.loopP99 ?? Infinity) < 20 },
      { name: 'page p99 during set-password (probe)', value: `${probeStats.p99} ms`, target: '(report)', met: null },
      { name: 'mail drained', value: `${round(mail.emailsPerSecond)} emails/s`, target: '≥ 500/s', met: mail.emailsPerSecond >= 500 },
      { name: 'app RSS when started, idle', value: `${extra.idleRssMb} MB`, target: '(report)', met: null },
      { name: 'app peak RSS (VmHWM)', value: `${round(appPeakRssMb ?? NaN)} MB`, target: '< 150 MB', met: appPeakRssMb !== null && appPeakRssMb < 150 },
    ];
    extra.reset = { rps: reset.rps, p99: reset.p99 };
    extra.resend = { rps: resend.rps, p99: resend.p99 };
    return { database: kind, seeded: { collaborators: seeded.collaborators, seconds: seeded.seconds }, pageBytes, loads, extra, comparisons, appPeakRssMb };
  } finally {
    await baseline?.stop();
    await app?.stop();
    await db?.close();
    await database.drop();
  }
}

function machine() {
  const cpuinfo = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  return {
    nproc: os.availableParallelism(),
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown',
    memoryGb: round(os.totalmem() / 1024 ** 3),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
  };
}

function table(runs: TargetRun[], bcryptAlone: { hashesPerSecond: number }): string {
  const lines: string[] = [];
  const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
  const lpad = (s: string, n: number) => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
  lines.push(`${pad('database', 9)}${pad('load (50 connections)', 38)}${lpad('req/s', 9)}${lpad('p50 ms', 9)}${lpad('p99 ms', 9)}${lpad('non-2xx', 9)}${lpad('CPU ms', 9)}${lpad('RSS MB', 9)}${lpad('loop p99', 10)}`);
  for (const run of runs) {
    for (const l of run.loads) {
      lines.push(`${pad(run.database, 9)}${pad(l.name, 38)}${lpad(String(round(l.rps)), 9)}${lpad(String(l.p50), 9)}${lpad(String(l.p99), 9)}${lpad(String(l.other + l.errors), 9)}${lpad(String(l.cpuMsPerRequest ?? '-'), 9)}${lpad(String(l.peakRssMb ?? '-'), 9)}${lpad(l.loopP99 === null ? '-' : `${l.loopP99}`, 10)}`);
    }
    const mail = run.extra.mail as { emailsPerSecond: number; peakRssMb: number; loopP99: number; cpuMsPerEmail: number | null };
    lines.push(`${pad(run.database, 9)}${pad(`mail: ${MAIL} queued → SMTP sink`, 38)}${lpad(`${round(mail.emailsPerSecond)}/s`, 9)}${lpad('', 27)}${lpad(String(mail.cpuMsPerEmail ?? '-'), 9)}${lpad(String(mail.peakRssMb), 9)}${lpad(String(mail.loopP99), 10)}`);
  }
  lines.push(`${pad('-', 9)}${pad(`bcrypt alone (cost ${COST}, pool ${THREADPOOL})`, 38)}${lpad(String(round(bcryptAlone.hashesPerSecond)), 9)}`);
  lines.push('');
  lines.push(`${pad('database', 9)}${pad('comparison', 40)}${lpad('value', 14)}  ${pad('target', 10)}met`);
  for (const run of runs) {
    for (const c of run.comparisons) lines.push(`${pad(run.database, 9)}${pad(c.name, 40)}${lpad(c.value, 14)}  ${pad(c.target, 10)}${c.met === null ? '-' : c.met ? 'yes' : 'NO'}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  const targets: Array<'sqlite' | 'mariadb'> = ['sqlite', ...(process.env.BENCH_MYSQL_URL ? (['mariadb'] as const) : [])];
  log(`${QUICK ? 'quick run' : 'full run'}: ${SECONDS} s per load, ${CONNECTIONS} connections, bcrypt cost ${COST}, UV_THREADPOOL_SIZE ${THREADPOOL}, on ${targets.join(' + ')}`);
  const bcryptAlone = await bcryptRate(SET_SECONDS);
  log(`bcrypt alone: ${round(bcryptAlone.hashesPerSecond)} hashes/s`);
  const sink = await new CountingSink().start();
  const runs: TargetRun[] = [];
  const failures: Array<{ database: string; error: string }> = [];
  try {
    for (const target of targets) {
      try {
        runs.push(await benchDatabase(target, sink, bcryptAlone));
      } catch (error) {
        // One database failing still leaves the other's figures worth keeping.
        console.error(`[bench] ${target} failed:`, error);
        failures.push({ database: target, error: String(error) });
      }
    }
  } finally {
    await sink.stop();
  }
  const output = table(runs, bcryptAlone);
  console.log(`\n${output}\n`);
  const results = {
    date: new Date().toISOString(),
    quick: QUICK,
    seconds: SECONDS,
    connections: CONNECTIONS,
    sizes: SIZES,
    otherMailboxes: OTHERS,
    bcrypt: { cost: COST, threadpool: Number(THREADPOOL), ...bcryptAlone },
    machine: machine(),
    runs,
    failures,
    table: output,
    totalSeconds: round((Date.now() - started) / 1000),
  };
  fs.writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${path.relative(ROOT, OUT)} in ${results.totalSeconds} s`);
  if (failures.length > 0) process.exitCode = 1;
}

main().then(
  () => process.exit(process.exitCode ?? 0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
