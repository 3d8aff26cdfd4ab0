import axe from 'axe-core';
import { expect } from 'chai';
import type { Page } from 'playwright-core';

const AXE_RUN = `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'] }, resultTypes: ['violations'] })`;

/** The WCAG 2.2 AA violations axe-core finds on the page as it is, one line each ("rule: targets"). */
export async function axeViolations(page: Page): Promise<string[]> {
  // A dialog fades in (app.css, 0.12 s): colours measured halfway through it fail the contrast rule.
  await page.evaluate('Promise.all(document.getAnimations().map((animation) => animation.finished))');
  // Each navigation starts a new document: axe is evaluated into it once, before its first run.
  if (!(await page.evaluate('typeof axe === "object"'))) await page.evaluate(axe.source);
  const result = await page.evaluate<axe.AxeResults>(AXE_RUN);
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

/** Expects the page in `language` and without any WCAG 2.2 AA violation; `where` names it in a failure. */
export async function expectAccessible(page: Page, where: string, language: string): Promise<void> {
  expect(await page.getAttribute('html', 'lang'), `${where}: language`).to.equal(language);
  expect(await axeViolations(page), where).to.deep.equal([]);
}

/** Switches the page's language with the top bar's form, unless it is in that language already. */
export async function chooseLanguage(page: Page, language: string): Promise<void> {
  if ((await page.getAttribute('html', 'lang')) === language) return;
  await page.selectOption('#language-select', language);
  await Promise.all([page.waitForSelector(`html[lang=${language}]`), page.click('.topbar-language [type=submit]')]);
}
