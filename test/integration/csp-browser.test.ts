import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { chromiumPerSuite } from '../support/chromium';
import { DATABASES, type TestDatabase } from '../support/databases';
import { startHarness, type Harness } from '../support/harness';
import { DEMO, seedDemo } from '../../src/seed';

// What the browser enforces does not depend on the database: one real browser run, on SQLite.
const sqlite = DATABASES.find((d) => d.name === 'SQLite') as (typeof DATABASES)[number];

describe('Content-Security-Policy in a real browser (Chromium)', function () {
  this.timeout(120_000);
  const chromium = chromiumPerSuite();
  let database: TestDatabase;
  let h: Harness;
  let server: Server;
  let base = '';

  before(async function () {
    database = await sqlite.create();
    h = await startHarness(database.url);
    await seedDemo(h.domain);
    server = h.app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async function () {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await h?.close();
    await database?.drop();
  });

  /** A page that collects every CSP violation the browser reports, by event and on the console. */
  async function watchedPage(): Promise<{ page: Page; violations: string[] }> {
    const context = await chromium.newContext();
    // In-page code is given as text: the project's TypeScript has no DOM types.
    await context.addInitScript(`
      window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => {
        window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber);
      });`);
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    return { page, violations };
  }

  async function reported(page: Page): Promise<string[]> {
    return page.evaluate<string[]>('window.cspViolations');
  }

  it('should report no violation while the owner uses every page, htmx swaps and dialogs included', async function () {
    const { page, violations } = await watchedPage();
    const seen: string[] = [];
    await page.goto(`${base}/login`);
    await page.fill('#username', DEMO.mailbox);
    await page.fill('#password', DEMO.password);
    await Promise.all([page.waitForURL(`${base}/settings/collaborations`), page.click('button[type=submit]:not(.small)')]);
    // htmx is loaded and working under the policy: a search swaps the list in place.
    await page.fill('#q', 'giulia');
    await page.locator('#collaborator-list tbody tr').nth(1).waitFor({ state: 'detached' });
    seen.push(...(await reported(page)));
    // A three-dot menu opens its confirmation dialog through htmx.
    await page.fill('#q', '');
    await page.locator('#collaborator-list tbody tr').nth(1).waitFor();
    const details = await page.locator('#collaborator-list tbody tr a').first().getAttribute('href');
    await page.locator('.menu-button').first().click();
    await page.locator('[role=menuitem][hx-get]').first().click();
    await page.waitForSelector('dialog[open]');
    seen.push(...(await reported(page)));
    for (const path of [details as string, '/settings/collaborations/new', '/settings/activity', '/settings/access-history', '/settings/password']) {
      await page.goto(`${base}${path}`);
      seen.push(...(await reported(page)));
    }
    // The activity filter swaps the table through htmx.
    await page.goto(`${base}/settings/activity`);
    await page.selectOption('#activity-action', 'collaborator.deactivated');
    await page.waitForURL(/action=collaborator.deactivated/);
    seen.push(...(await reported(page)));
    expect([...seen, ...violations]).to.deep.equal([]);
  });

  it('should report a violation for an inline script, so the check above can fail', async function () {
    const { page, violations } = await watchedPage();
    await page.goto(`${base}/login`);
    await page.evaluate(`
      const script = document.createElement('script');
      script.textContent = 'window.inlineRan = true';
      document.body.appendChild(script);
      const div = document.createElement('div');
      div.innerHTML = '<p style="color:red">x</p>';
      document.body.appendChild(div);`);
    // The reports arrive as events, after the init script's listener has recorded them: wait for two
    // (waitForFunction would itself need unsafe-eval under this policy).
    await page.evaluate(`new Promise((resolve) => {
      const enough = () => window.cspViolations.length >= 2 && resolve();
      document.addEventListener('securitypolicyviolation', enough);
      enough();
    })`);
    expect(await page.evaluate('window.inlineRan')).to.equal(undefined);
    const all = [...(await reported(page)), ...violations].join('\n');
    expect(all).to.match(/script-src/);
    expect(all).to.match(/style-src/);
  });
});
