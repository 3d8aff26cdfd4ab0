import { chromium, type Browser, type BrowserContext, type BrowserContextOptions } from 'playwright-core';

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export interface ChromiumPerSuite {
  /** A fresh context (its own cookies and storage) for the running test; closed when the test ends. */
  newContext(options?: BrowserContextOptions): Promise<BrowserContext>;
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
  return {
    async newContext(options) {
      if (!browser) throw new Error('Chromium is not running: call newContext from a test');
      const context = await browser.newContext(options);
      open.add(context);
      return context;
    },
  };
}
