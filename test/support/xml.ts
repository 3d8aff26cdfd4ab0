/**
 * A real XML parser for the documents the app writes: Chromium's (libxml2), through playwright-core.
 * It refuses what XML 1.0 forbids (U+FFFF, U+0000…), as the mail programs reading them do.
 */
import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export class XmlParser {
  private constructor(
    private readonly browser: Browser,
    private readonly page: Page,
  ) {}

  static async start(): Promise<XmlParser> {
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: CHROMIUM_FLAGS });
    return new XmlParser(browser, await browser.newPage());
  }

  /** The parser's complaint about the document, or null when it is well formed. */
  async error(xml: string): Promise<string | null> {
    // In-page code is given as text: the project's TypeScript has no DOM types.
    return this.page.evaluate(`(() => {
      const doc = new DOMParser().parseFromString(${JSON.stringify(xml)}, 'application/xml');
      const error = doc.getElementsByTagName('parsererror')[0];
      return error ? error.textContent : null;
    })()`);
  }

  /** The text of every element with this local name, as the parser read it. */
  async texts(xml: string, name: string): Promise<string[]> {
    return this.page.evaluate(`Array.from(new DOMParser().parseFromString(${JSON.stringify(xml)}, 'application/xml').getElementsByTagNameNS('*', ${JSON.stringify(name)}), (e) => e.textContent)`);
  }

  close(): Promise<void> {
    return this.browser.close();
  }
}
