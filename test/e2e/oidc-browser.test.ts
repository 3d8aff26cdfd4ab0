import http from 'node:http';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { expectAccessible } from '../support/axe';
import { chromiumPerSuite, screenshots, signInThroughForm } from '../support/chromium';
import { DATABASES, type TestDatabase } from '../support/databases';
import { GOOD_PASSWORD, WIDE_LIMITS, startHarness, type Harness } from '../support/harness';
import { collaboratorIn } from '../support/accounts';
import { CLIENT_ID, CLIENT_SECRET, TestProvider } from '../support/oidc';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts', 'oidc-browser');
const MAILBOX = 'studio.google@pec.example.it';

/** A free port of 127.0.0.1: the app's BASE_URL must be known before it listens (the redirect URI is built from it). */
async function freePort(): Promise<number> {
  const server = http.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// As the other browser suites: a real browser is slow to start, so SQLite only.
describe('Sign-in with Google in a real browser (Chromium, 360 px)', function () {
  this.timeout(120_000);
  const chromium = chromiumPerSuite();
  const snap = screenshots(ARTIFACTS);
  let database: TestDatabase;
  let h: Harness;
  let google: TestProvider;
  let server: Server;
  let base = '';

  before(async function () {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    google = await TestProvider.start([`${base}/login/oidc/google/callback`]);
    database = await (DATABASES.find((d) => d.name === 'SQLite') as (typeof DATABASES)[number]).create();
    h = await startHarness(database.url, { ...WIDE_LIMITS, BASE_URL: base, OIDC_GOOGLE_ISSUER: google.issuer, OIDC_GOOGLE_CLIENT_ID: CLIENT_ID, OIDC_GOOGLE_CLIENT_SECRET: CLIENT_SECRET });
    server = h.app.listen(port, '127.0.0.1');
    await once(server, 'listening');
  });

  after(async function () {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await h?.close();
    await database?.drop();
    await google?.close();
  });

  /** Clicks `selector` and waits until the browser is at `to` (a path of the app, or the provider's login page). */
  async function go(page: Page, selector: string, to: (url: URL) => boolean): Promise<void> {
    await Promise.all([page.waitForURL(to), page.click(selector)]);
  }

  const atApp = (pathname: string) => (url: URL) => url.origin === base && url.pathname === pathname;
  const atProvider = (url: URL) => url.origin === google.issuer && url.pathname.startsWith('/interaction/');

  it('should link a Google account, sign out, sign in with Google, and unlink it', async function () {
    const mailbox = await h.mailbox(MAILBOX);
    const c = await collaboratorIn(h, mailbox, 'active', { firstName: 'Giulia', lastName: 'Verdi', username: 'giulia.verdi', referenceEmail: 'giulia@example.com', accessLevel: 'send', manageSettings: false });
    google.accounts.set('google-giulia', { email: 'giulia.verdi@gmail.example' });
    google.nextLogin = 'google-giulia';
    const { page } = await chromium.newPage({ width: 360 });

    await signInThroughForm(page, base, c.username, GOOD_PASSWORD);
    await page.goto(`${base}/account/identities`);
    await expectAccessible(page, 'the identities page, none linked', 'it');
    await snap(page, 'identities-none');
    await go(page, '#link-google', atProvider);
    await go(page, '#provider-continue', atApp('/account/identities'));
    expect(await page.textContent('[role=status], .notice, main')).to.contain('Il tuo account Google è collegato');
    expect((await page.textContent('#linked-identities'))?.replace(/\u00ad|\u200b/g, '')).to.contain('giulia.verdi@gmail.example');
    await expectAccessible(page, 'the identities page, one linked', 'it');
    const width = await page.evaluate('document.documentElement.scrollWidth');
    expect(width, 'no sideways scrolling at 360 px').to.be.at.most(360);
    await snap(page, 'identities-linked');

    await go(page, '.topbar-signout [type=submit]', atApp('/login'));
    expect(await page.textContent('#sign-in-google')).to.contain('Accedi con Google');
    await expectAccessible(page, 'the sign-in page with its provider', 'it');
    await snap(page, 'login-with-google');
    // Still signed in at the provider since linking: it sends the browser straight back.
    await go(page, '#sign-in-google', atApp('/account'));
    expect(await page.textContent('.topbar-user')).to.contain('Giulia Verdi');

    await page.goto(`${base}/account/identities`);
    const id = (await h.db.models.LinkedIdentity.findOne())?.id;
    await page.fill(`#unlink-${id}-password`, GOOD_PASSWORD);
    await go(page, `#unlink-${id}`, atApp('/account/identities'));
    expect(await page.textContent('main')).to.contain('L’account Google è stato scollegato');
    expect(await page.textContent('#linked-identities')).to.contain('Nessun account collegato');
    await expectAccessible(page, 'the identities page after unlinking', 'it');
    await snap(page, 'identities-unlinked');

    await go(page, '.topbar-signout [type=submit]', atApp('/login'));
    await go(page, '#sign-in-google', atApp('/login/oidc/google/callback'));
    expect(await page.textContent('#oidc-error')).to.contain('non è collegato a nessun account');
    await expectAccessible(page, 'the page of an identity not linked', 'it');
    await snap(page, 'not-linked');
  });
});
