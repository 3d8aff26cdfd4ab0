/**
 * README pictures from the real app: starts the server on a throwaway SQLite database with the demo
 * seed, drives Chromium with playwright-core and writes PNGs to docs/screenshots/.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { DEMO, seedDemo } from '../src/seed';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db';
import { createDomain } from '../src/domain';
import { systemClock } from '../src/lib/clock';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'docs', 'screenshots');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

async function waitUntilUp(url: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`the app did not answer at ${url}`);
}

/** The demo's emails reach the dev outbox a moment after start; the set-password picture needs one. */
async function seedMailDelivered(url: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    const page = await fetch(`${url}/dev/mail`).then((r) => r.text(), () => '');
    if (/\/password\/[A-Za-z0-9_-]{43}/.test(page)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error('the demo invitations never reached the dev outbox');
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true, animations: 'disabled' });
  console.log(`docs/screenshots/${name}.png`);
}

async function signIn(page: Page, base: string, username: string, password: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('form[action="/login"] button[type=submit]')]);
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pec-screens-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { NODE_ENV: 'development', PORT: String(port), BASE_URL: base, DATA_DIR: dataDir, DATABASE_URL: `sqlite:${path.join(dataDir, 'app.sqlite')}`, SMTP_URL: '', LOG_LEVEL: 'warn' };
  // The demo seed, as `npm start` makes it on its own default database (it seeds no database it is given).
  const db = await openDatabase(env.DATABASE_URL);
  const domain = createDomain(db, loadConfig(env), systemClock);
  await seedDemo(domain);
  await domain.rateLimits.close();
  await db.close();
  const server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  try {
    await waitUntilUp(base);
    await seedMailDelivered(base);
    fs.mkdirSync(OUT, { recursive: true });
    const desktop = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'it-IT' });
    const page = await desktop.newPage();
    await page.goto(`${base}/login`);
    await shot(page, 'login');
    await signIn(page, base, DEMO.mailbox, DEMO.password);
    await shot(page, 'collaborations');
    await page.click('#collaborator-list tbody tr:first-child .menu-button');
    await shot(page, 'menu');
    await page.click('#collaborator-list tbody tr:first-child [role=menuitem][href$="/password-reset"]');
    await page.waitForSelector('dialog[open]');
    await shot(page, 'reset-dialog');
    await page.keyboard.press('Escape');
    await page.click('#collaborator-list tbody tr:first-child .menu-button');
    await page.click('#collaborator-list tbody tr:first-child [role=menuitem][href$="/recreation"]');
    await page.waitForSelector('dialog[open]');
    await shot(page, 'recreate-dialog');
    await page.keyboard.press('Escape');
    await page.goto(`${base}/settings/activity`);
    await shot(page, 'activity');
    await page.goto(`${base}/settings/collaborations/new`);
    await page.click('#collaborator-form button[type=submit]');
    await page.waitForSelector('.field-error');
    await shot(page, 'add-form-errors');
    await page.goto(`${base}/settings/collaborations`);
    await page.click('#collaborator-list tbody tr:first-child td:first-child a');
    await shot(page, 'details');
    // The set-password page, from the invitation the demo sent to its pending collaborator.
    // Other demo emails carry links that were used or replaced since: take the pending one's.
    await page.goto(`${base}/dev/mail`);
    const invitation = await page.locator('.dev-mail', { hasText: 'luca.esposito@example.com' }).first().innerText();
    const link = /https?:\/\/\S+\/password\/[A-Za-z0-9_-]{43}/.exec(invitation)?.[0];
    if (!link) throw new Error('no live invitation link for the pending demo collaborator');
    const visitor = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'it-IT' });
    const linkPage = await visitor.newPage();
    await linkPage.goto(link);
    await shot(linkPage, 'set-password');
    await signIn(linkPage, base, `giulia.bianchi/${DEMO.mailbox}`, DEMO.collaboratorPassword);
    await shot(linkPage, 'account');
    await page.setViewportSize({ width: 1920, height: 900 });
    await page.goto(`${base}/settings/collaborations`);
    await shot(page, 'collaborations-wide');
    const phone = await browser.newContext({ viewport: { width: 360, height: 780 }, locale: 'it-IT', isMobile: true, hasTouch: true });
    const phonePage = await phone.newPage();
    await signIn(phonePage, base, DEMO.mailbox, DEMO.password);
    await shot(phonePage, 'collaborations-phone');
    await phonePage.click('#collaborator-list tbody tr:first-child td:first-child a');
    await shot(phonePage, 'details-phone');
  } finally {
    await browser.close();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
