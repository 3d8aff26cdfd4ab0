import axe from 'axe-core';
import type { Page } from 'playwright-core';

const AXE_RUN = `axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'] }, resultTypes: ['violations'] })`;

/** The WCAG 2.2 AA violations axe-core finds on the page as it is, one line each ("rule: targets"). */
export async function axeViolations(page: Page): Promise<string[]> {
  // Each navigation starts a new document: axe is evaluated into it once, before its first run.
  if (!(await page.evaluate('typeof axe === "object"'))) await page.evaluate(axe.source);
  const result = await page.evaluate<axe.AxeResults>(AXE_RUN);
  return result.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
