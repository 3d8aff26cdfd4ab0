import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { DATABASES, type TestDatabase } from '../support/databases';
import { GOOD_PASSWORD, SESSION_SECRET } from '../support/harness';
import { chromiumPerSuite } from '../support/chromium';
import { SmtpSink, linkIn } from '../support/smtp-sink';
import { createHostApp } from '../../examples/host/app';
import type { Collaborations } from '../../src/plugin';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts', 'host');
const sqlite = DATABASES.find((d) => d.name === 'SQLite') as (typeof DATABASES)[number];
const NEW_PASSWORD = 'a second long and quiet river';

// The example host (examples/host), as its developer wrote it, driven in Chromium.
describe('Mounted in another webmail (examples/host, Chromium)', function () {
  this.timeout(60_000);
  const chromium = chromiumPerSuite();
  let database: TestDatabase;
  let sink: SmtpSink;
  let server: http.Server;
  let feature: Collaborations;
  let worker: ReturnType<Collaborations['startWorker']>;
  let base = '';

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    sink = await new SmtpSink().start();
    database = await sqlite.create();
    // The port first: every emailed link is built from BASE_URL.
    server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const host = await createHostApp({ NODE_ENV: 'test', BASE_URL: base, DATABASE_URL: database.url, SMTP_URL: sink.url, SESSION_SECRET, BCRYPT_COST: '4', LOG_LEVEL: 'silent' });
    feature = host.feature;
    server.on('request', host.app);
    worker = feature.startWorker();
  });

  after(async () => {
    await worker?.stop();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await feature?.settled();
    await feature?.domain.rateLimits.close();
    await feature?.domain.db.close();
    await sink?.stop();
    await database?.drop();
  });

  /**
   * The latest email to `address` (with a set-password link when `linked`), once the worker has
   * delivered what is queued: one pass sends several at once, in no set order.
   */
  async function lastMailTo(address: string, linked = false) {
    await worker.poke();
    const mails = sink.received.filter((m) => m.to.includes(address) && (!linked || m.text.includes('/password/')));
    expect(mails, `emails to ${address}`).to.not.be.empty;
    return mails[mails.length - 1] as (typeof mails)[number];
  }

  /** The collaborator opens the emailed link (in a browser of their own) and sets a password. */
  async function setPasswordFromEmail(email: string, password: string, shot: string): Promise<void> {
    const link = linkIn(await lastMailTo(email, true));
    expect(link.startsWith(`${base}/admin/collaborators/password/`), `the link follows the host's prefix: ${link}`).to.equal(true);
    const context = await chromium.newContext();
    const page = await context.newPage();
    await page.goto(link);
    expect(new URL(page.url()).pathname).to.equal('/admin/collaborators/password/new');
    await page.fill('#password', password);
    await page.fill('#passwordConfirmation', password);
    await page.click('form[action="/admin/collaborators/password/new"] [type=submit]');
    await page.locator('a.button.primary[href="/"]').waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, `${shot}.png`), fullPage: true });
  }

  async function status(page: Page, username: string): Promise<string> {
    const badge = page.locator('tbody tr', { hasText: username }).locator('.badge');
    return (await badge.getAttribute('class'))?.replace('badge badge-', '') ?? '';
  }

  it('should add a collaborator, send the link, take a password, reset it and take a new one, in the host\'s own page', async () => {
    const context = await chromium.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await Promise.all([page.waitForURL(`${base}/admin/collaborators`), page.click('text=Sign in as Studio Bianchi')]);
    // The host's layout around our page.
    await page.locator('header.host-bar').waitFor();
    expect(await page.title()).to.match(/— Host Webmail$/);

    await page.click('a.button.primary[href="/admin/collaborators/new"]');
    await page.fill('#firstName', 'Anna');
    await page.fill('#lastName', 'Verdi');
    await page.fill('#username', 'anna.verdi');
    await page.fill('#referenceEmail', 'anna.verdi@example.com');
    await page.check('input[name=accessLevel][value=mail_clients]');
    await page.click('#collaborator-form [type=submit]');
    const username = 'anna.verdi/studio.bianchi@pec.example.it';
    await page.locator('tbody tr', { hasText: username }).waitFor();
    expect(await status(page, username)).to.equal('pending');
    await page.screenshot({ path: path.join(ARTIFACTS, 'list.png'), fullPage: true });

    await setPasswordFromEmail('anna.verdi@example.com', GOOD_PASSWORD, 'invitation-done');
    await page.reload();
    expect(await status(page, username)).to.equal('active');

    const row = page.locator('tbody tr', { hasText: username });
    await row.locator('.menu-button').click();
    await row.locator('.menu-list a[href$="/password-reset"]').click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    await dialog.locator('[type=submit]').click();
    await dialog.waitFor({ state: 'detached' });
    await page.locator('tbody tr', { hasText: username }).locator('.badge-suspended').waitFor();

    await setPasswordFromEmail('anna.verdi@example.com', NEW_PASSWORD, 'reset-done');
    await page.reload();
    expect(await status(page, username)).to.equal('active');
    // The feature keeps what it owns keyed by the host's mailbox id, and nothing of the host's password.
    const record = await feature.domain.db.models.Mailbox.findByPk(7001);
    expect([record?.address, record?.passwordHash]).to.deep.equal(['studio.bianchi@pec.example.it', null]);
  });

  it('should answer 404 to a visitor of the owner\'s pages, and keep the host\'s own pages its own', async () => {
    const context = await chromium.newContext();
    const page = await context.newPage();
    const res = await page.goto(`${base}/admin/collaborators`);
    expect(res?.status()).to.equal(404);
    const home = await page.goto(`${base}/`);
    expect(home?.status()).to.equal(200);
    expect(await page.locator('button', { hasText: 'Sign in as Notaio Neri' }).count()).to.equal(1);
  });
});
