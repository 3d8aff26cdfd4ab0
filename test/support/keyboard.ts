import type { Locator, Page } from 'playwright-core';

/** How a browser test drives a page: the mouse, or the keyboard alone (Tab, Enter, typing). */
export type Mode = 'mouse' | 'keyboard';

export async function isFocused(locator: Locator): Promise<boolean> {
  return locator.evaluate((el) => el === el.ownerDocument.activeElement);
}

/** Keyboard only: Tab until the element has focus (fails when it is not reachable). */
export async function tabTo(page: Page, locator: Locator): Promise<void> {
  for (let i = 0; i < 80; i++) {
    if (await isFocused(locator)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`could not reach ${locator.toString()} with Tab`);
}

/** Clicks, or tabs to the element and presses Enter. */
export async function activate(page: Page, mode: Mode, locator: Locator): Promise<void> {
  if (mode === 'mouse') return locator.click();
  await tabTo(page, locator);
  await page.keyboard.press('Enter');
}

/** Fills a field, or tabs to it and types. */
export async function fill(page: Page, mode: Mode, locator: Locator, text: string): Promise<void> {
  if (mode === 'mouse') return locator.fill(text);
  await tabTo(page, locator);
  await page.keyboard.type(text);
}

/** Whether the element has, or gets within `ms`, the focus: scripts move it after a swap, not at once. */
export async function getsFocus(locator: Locator, ms = 2_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!(await isFocused(locator))) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return true;
}
