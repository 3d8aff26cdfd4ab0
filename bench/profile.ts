import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcrypt';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db';
import { waitForHttp } from '../test/support/processes';
import { Child, ROOT, cpuMsOf } from './lib/processes';
import { Session } from './lib/http';
import { load } from './lib/load';
import { OWNER_PASSWORD, seed } from './lib/seed';

/*
 * npm run bench:profile: where the Collaborations page's CPU time goes. Seeds SIZE collaborators
 * (10,000 by default) in a temporary SQLite file, loads the page for SECONDS (20) under the V8 profiler
 * of the app as `npm start` runs it,
 * and prints the app's CPU ms per request (the profiler's own cost included) and self time by module
 * (a package, a folder of ours, or V8's own work). LIST_CACHE_ENTRIES=0 profiles the page with every
 * row rendered.
 */
const SIZE = Number(process.env.SIZE ?? 10_000);
const SECONDS = Number(process.env.SECONDS ?? 20);
const URL_PATH = process.env.PROFILE_PATH ?? '/settings/collaborations';

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

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pec-profile-'));
  const url = `sqlite:${path.join(dir, 'profile.sqlite')}`;
  const port = 20_000 + crypto.randomInt(10_000);
  const env: Record<string, string> = {
    PORT: String(port),
    BASE_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: url,
    DATA_DIR: dir,
    NODE_ENV: 'production',
    SESSION_SECRET: crypto.randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'warn',
    WORKER: 'off',
    SMTP_URL: 'smtp://127.0.0.1:1',
    ...(process.env.LIST_CACHE_ENTRIES ? { LIST_CACHE_ENTRIES: process.env.LIST_CACHE_ENTRIES } : {}),
  };
  try {
    const db = await openDatabase(url);
    const seeded = await seed(db, loadConfig(env), { sizes: [SIZE], others: 0, links: 0, hash: await bcrypt.hash(OWNER_PASSWORD, 4) });
    await db.close();
    const app = Child.startApp(env, 'app', ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
    await waitForHttp(`${env.BASE_URL}/healthz`);
    const session = new Session(env.BASE_URL as string);
    await session.signIn(seeded.owners.get(SIZE) as string, OWNER_PASSWORD);
    await load({ url: `${env.BASE_URL}${URL_PATH}`, seconds: 2, connections: 10, headers: { cookie: session.cookie } });
    if (process.env.PAGE_OUT) fs.writeFileSync(process.env.PAGE_OUT, await (await fetch(`${env.BASE_URL}${URL_PATH}`, { headers: { cookie: session.cookie } })).text());
    const cpuBefore = cpuMsOf(app.pid);
    const result = await load({ url: `${env.BASE_URL}${URL_PATH}`, seconds: SECONDS, connections: 10, headers: { cookie: session.cookie } });
    const cpuAfter = cpuMsOf(app.pid);
    await app.stop();
    const file = fs.readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
    if (!file) throw new Error('the app wrote no profile');
    const profile = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as Profile;
    if (process.env.PROFILE_OUT) fs.copyFileSync(path.join(dir, file), process.env.PROFILE_OUT);
    const cpuMs = cpuBefore !== null && cpuAfter !== null && result.ok > 0 ? ((cpuAfter - cpuBefore) / result.ok).toFixed(2) : '?';
    console.log(`${URL_PATH} at ${SIZE} collaborators: ${Math.round(result.rps)} req/s with 10 connections, ${cpuMs} CPU ms a request; self time (idle left out)`);
    for (const [title, rows] of [['by module', summary(profile)], ['by function', summary(profile, true)]] as const) {
      const total = rows.reduce((sum, [, us]) => sum + us, 0);
      console.log(`\n${title}:`);
      for (const [name, us] of rows.slice(0, 25)) console.log(`${((us / total) * 100).toFixed(1).padStart(6)}%  ${name}`);
    }
  } finally {
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
