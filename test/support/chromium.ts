import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/** Signs in through the sign-in form at `base`, as a person would; resolves once the browser has left /login. */
export async function signInThroughForm(page: Page, base: string, username: string, password: string): Promise<void> {
  await page.goto(`${base}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((u) => u.pathname !== '/login'), page.click('form[action="/login"] [type=submit]')]);
}

export interface PageOptions {
  javaScript?: boolean;
  /** CSS pixels; the height is 900. Default 1280. */
  width?: number;
  /** The browser's language (Accept-Language); default it-IT. */
  locale?: string;
}

export interface ChromiumPerSuite {
  /** A fresh context (its own cookies and storage) for the running test; closed when the test ends. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
  /** A page in a fresh context of its own (newContext), as a phone or a desktop sees it. */
  newPage(options?: PageOptions): Promise<{ context: BrowserContext; page: Page }>;
}

/** Numbered full-page screenshots in `folder` (created), one per step a journey takes: `snap(page, name)`. */
export function screenshots(folder: string, prefix = ''): (page: Page, name: string) => Promise<void> {
  fs.mkdirSync(folder, { recursive: true });
  let step = 0;
  return async (page, name) => {
    step += 1;
    await page.screenshot({ path: path.join(folder, `${prefix}${String(step).padStart(3, '0')}-${name}.png`), fullPage: true, animations: 'disabled' });
  };
}

/**
 * Gives the surrounding `describe` one Chromium (Debian's, or `CHROMIUM_PATH`), launched before its
 * tests and closed after them. Every context a test opened is closed as soon as that test ends, by
 * passing, failing or timing out: mocha does not stop a test it gave up on, so without this its
 * pending clicks and navigations would go on driving pages during the tests that follow. Once its
 * contexts are closed, its next browser call throws and it stops there.
 */
export function chromiumPerSuite(): ChromiumPerSuite {
  let browser: Browser | undefined;
  const open = new Set<BrowserContext>();
  before(async function () {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS });
  });
  afterEach(async function () {
    const contexts = [...open];
    open.clear();
    await Promise.all(contexts.map((context) => context.close({ reason: 'the test that opened this context has ended' })));
  });
  after(async function () {
    await browser?.close();
  });
  async function newContext(options?: BrowserContextOptions): Promise<BrowserContext> {
    if (!browser) throw new Error('Chromium is not running: call newContext from a test');
    const context = await browser.newContext(options);
    open.add(context);
    return context;
  }
  return {
    newContext,
    async newPage({ javaScript = true, width = 1280, locale = 'it-IT' } = {}) {
      const context = await newContext({ viewport: { width, height: 900 }, javaScriptEnabled: javaScript, locale });
      return { context, page: await context.newPage() };
    },
  };
}
