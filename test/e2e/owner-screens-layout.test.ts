import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { expectAccessible } from '../support/axe';
import { chromiumPerSuite, screenshots, signInThroughForm } from '../support/chromium';
import { GOOD_PASSWORD, OWNER_PASSWORD, WIDE_LIMITS, servedPerSuite, type Harness } from '../support/harness';
import { collaboratorIn, latestLinkToken } from '../support/accounts';
import type { Collaborator, Mailbox, Status } from '../../src/models';
import { system } from '../../src/domain/actor';
import { until } from '../support/wait';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts', 'owner-screens-layout');
const WIDTHS = [360, 1280] as const;
const MAILBOX = 'studio.rossi.associati@pec.example.it';
// The longest there are: a 40-character chosen name (so a 78-character username), a 60-character
// reference email and long names, as the testers of issue 14 used.
const FIRST_NAME = 'Giovanni Battista Maria';
const LAST_NAME = 'Della Rovere di Montefeltro';
const chosenName = (word: string) => `${word}.giovanni.battista.della.rovere.montefeltro`.slice(0, 40);
const referenceEmail = (word: string) => `${word}.giovanni.rovere@studio.legale.montefeltro.example.com`;

/**
 * Why `values` are not each shown whole in the open dialog, or else in <main> (empty when they are):
 * a value is missing, a piece of it between two break points ("/", "@", ".") is split across lines or
 * lies outside that box, or the box or the block holding the value scrolls sideways. Every occurrence
 * counts, but those in a box that scrolls on its own (a wide table on a phone). A string, so that the test runner's transpiler adds nothing to it.
 */
const NOT_SHOWN_WHOLE = `(values) => {
  const box = document.querySelector('dialog[open]') || document.querySelector('main');
  const problems = [];
  const edges = box.getBoundingClientRect();
  if (edges.left < 0 || edges.right > window.innerWidth) problems.push(box.tagName + ' is wider than the window');
  if (box.scrollWidth > box.clientWidth) problems.push(box.tagName + ' scrolls sideways');
  const nodes = [];
  let text = '';
  const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    nodes.push({ node, start: text.length });
    text += node.data;
  }
  const startOf = (offset) => nodes.find((n) => offset >= n.start && offset < n.start + n.node.data.length);
  const endOf = (offset) => nodes.find((n) => offset > n.start && offset <= n.start + n.node.data.length);
  // A table that scrolls sideways in a box of its own shows what it holds by scrolling.
  const scrollsOnItsOwn = (node) => {
    for (let e = node.parentElement; e !== box; e = e.parentElement) if (/auto|scroll/.test(getComputedStyle(e).overflowX)) return true;
    return false;
  };
  for (const value of values) {
    if (!text.includes(value)) problems.push(value + ': not in ' + box.tagName);
    for (let at = text.indexOf(value); at >= 0; at = text.indexOf(value, at + 1)) {
      if (scrollsOnItsOwn(startOf(at).node)) continue;
      let block = startOf(at).node.parentElement;
      while (getComputedStyle(block).display.startsWith('inline')) block = block.parentElement;
      if (block.scrollWidth > block.clientWidth) problems.push(value + ': its ' + block.tagName + ' scrolls sideways');
      let offset = at;
      for (const piece of value.split(/(?<=[/@.])/)) {
        const range = document.createRange();
        const from = startOf(offset);
        const to = endOf(offset + piece.length);
        range.setStart(from.node, offset - from.start);
        range.setEnd(to.node, offset + piece.length - to.start);
        const rects = [...range.getClientRects()].filter((r) => r.width > 0);
        if (new Set(rects.map((r) => Math.round(r.top))).size > 1) problems.push(value + ': "' + piece + '" is split across lines');
        if (rects.some((r) => r.left < edges.left - 0.5 || r.right > edges.right + 0.5)) problems.push(value + ': "' + piece + '" is outside ' + box.tagName);
        offset += piece.length;
      }
    }
  }
  return problems;
}`;

describe('Long usernames and addresses at 360 and 1280 px (Chromium)', function () {
  this.timeout(120_000);
  const chromium = chromiumPerSuite();
  const snap = screenshots(ARTIFACTS);
  let h: Harness;
  let base = '';
  let mailbox: Mailbox;
  const people: Record<string, Collaborator> = {};

  async function person(word: string, status: Status): Promise<Collaborator> {
    const username = chosenName(word);
    const input = { firstName: FIRST_NAME, lastName: LAST_NAME, username, referenceEmail: referenceEmail(word), accessLevel: 'mail_clients' as const, manageSettings: true };
    return collaboratorIn(h, mailbox, status, input);
  }

  servedPerSuite(() => WIDE_LIMITS, (harness, url) => {
    h = harness;
    base = url;
  });
  before(async function () {
    fs.rmSync(ARTIFACTS, { recursive: true, force: true });
    mailbox = await h.mailbox(MAILBOX);
    for (const [word, status] of [['attivo', 'active'], ['invito', 'pending'], ['spento', 'deactivated'], ['nuovo1', 'pending'], ['nuovo2', 'pending']] as const) {
      people[word] = await person(word, status);
      expect(chosenName(word)).to.have.length(40);
      expect(referenceEmail(word)).to.have.length(60);
    }
  });

  after(async function () {
  });

  const who = (word: string) => people[word] as Collaborator;

  /**
   * The page as it is, at each width in turn (the same page, resized): never wider than the window,
   * without a WCAG 2.2 AA violation, and pictured, each of `whole` shown whole (NOT_SHOWN_WHOLE). A
   * dialog over the list leaves the list's width to the list's own tests (`overList`).
   */
  async function expectLaidOut(page: Page, name: string, { whole = [], overList = false }: { whole?: string[]; overList?: boolean } = {}): Promise<void> {
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      const where = `${name} at ${width} px`;
      await snap(page, `${name}-${width}`);
      if (!overList) expect(await page.evaluate('document.documentElement.scrollWidth'), `${where}: the page’s width`).to.be.at.most(width);
      expect(await page.evaluate(`(${NOT_SHOWN_WHOLE})(${JSON.stringify(whole)})`), where).to.deep.equal([]);
      await expectAccessible(page, where, 'it');
    }
  }

  const signIn = (page: Page, username: string, password: string) => signInThroughForm(page, base, username, password);

  /**
   * A page whose own scripts never load, as with JavaScript off, while the test's probes still run:
   * with JavaScript disabled a page runs no timers, and axe waits on them.
   */
  async function pageWithoutScripts(): Promise<Page> {
    const { context, page } = await chromium.newPage({ width: 360 });
    await context.route('**/*', (route) => (route.request().resourceType() === 'script' ? route.abort() : route.continue()));
    return page;
  }

  /** A page at 360 px (resized to 1280 px by expectLaidOut), its scripts loaded or not. */
  const newPage = async (javaScript: boolean): Promise<Page> => (javaScript ? (await chromium.newPage({ width: 360 })).page : pageWithoutScripts());

  const collaborations = () => `${base}/settings/collaborations`;
  const confirmations = [
    ['attivo', 'password-reset'],
    ['invito', 'password-link'],
    ['attivo', 'deactivation'],
    ['attivo', 'recreation'],
    ['spento', 'removal'],
  ] as const;

  it('should fit the sign-in, forgot-password and invalid-link pages', async function () {
    const page = await newPage(true);
    await page.goto(`${base}/login`);
    await expectLaidOut(page, 'login');
    await page.fill('#username', who('attivo').username);
    await page.fill('#password', 'not the password');
    await page.click('form[action="/login"] [type=submit]');
    await page.locator('#login-error').waitFor();
    await expectLaidOut(page, 'login-failed');
    await page.goto(`${base}/password/forgot`);
    await expectLaidOut(page, 'forgot-password');
    await page.fill('#username', who('attivo').username);
    await page.click('form[action="/password/forgot"] [type=submit]');
    await page.locator('p[role=status]').waitFor();
    await expectLaidOut(page, 'forgot-password-sent');
    await page.goto(`${base}/password/${'x'.repeat(43)}`);
    await expectLaidOut(page, 'invalid-link');
  });

  it("should fit the owner's add form, with its errors, the details page and the settings pages", async function () {
    const page = await newPage(true);
    await signIn(page, MAILBOX, OWNER_PASSWORD);
    await page.goto(`${collaborations()}/new`);
    await expectLaidOut(page, 'add-form', { whole: [MAILBOX] });
    await page.fill('#firstName', FIRST_NAME);
    await page.fill('#lastName', LAST_NAME);
    await page.fill('#username', chosenName('attivo'));
    await page.fill('#referenceEmail', MAILBOX);
    await page.click('#collaborator-form [type=submit]');
    await page.locator('.field-error').first().waitFor();
    await expectLaidOut(page, 'add-form-errors', { whole: [MAILBOX] });
    await page.goto(`${collaborations()}/${who('attivo').id}`);
    await expectLaidOut(page, 'details', { whole: [who('attivo').username, who('attivo').referenceEmail] });
    for (const settings of ['password', 'two-step', 'two-step/totp', 'confirmation']) {
      await page.goto(`${base}/settings/${settings}`);
      await expectLaidOut(page, `settings-${settings.replace('/', '-')}`);
    }
  });

  it('should show the whole username and email in each dialog opened from the three-dot menu', async function () {
    const page = await newPage(true);
    await signIn(page, MAILBOX, OWNER_PASSWORD);
    for (const [word, action] of confirmations) {
      await page.goto(collaborations());
      const row = page.locator(`#collaborator-${who(word).id}`);
      await row.locator('.menu-button').click();
      await row.locator(`.menu-list a[href$="/${action}"]`).click();
      await page.locator('dialog[open]').waitFor();
      await expectLaidOut(page, `dialog-${action}`, { whole: [who(word).username, who(word).referenceEmail], overList: true });
    }
  });

  /**
   * Browser code: why the open dialog (else the page) does not show its top with the question in
   * view and its buttons within reach (empty when it does). A string, as NOT_SHOWN_WHOLE.
   */
  const NOT_AT_ITS_TOP = `(() => {
    const problems = [];
    // A modal dialog; without JavaScript the same <dialog open> is part of the page.
    const dialog = [...document.querySelectorAll('dialog[open]')].find((d) => d.matches(':modal'));
    const title = document.getElementById('confirm-title');
    if (dialog && dialog.scrollTop > 0) problems.push('the dialog is scrolled ' + dialog.scrollTop + ' px down');
    if (!dialog && window.scrollY > 0) problems.push('the page is scrolled ' + window.scrollY + ' px down');
    const box = dialog ? dialog.getBoundingClientRect() : { top: 0, bottom: window.innerHeight };
    if (box.top < 0 || box.bottom > window.innerHeight + 0.5) problems.push('the dialog is taller than the window');
    const t = title.getBoundingClientRect();
    if (t.top < Math.max(box.top, 0) - 0.5 || t.bottom > Math.min(box.bottom, window.innerHeight) + 0.5) problems.push('the question is out of view (' + Math.round(t.top) + '..' + Math.round(t.bottom) + ')');
    if (dialog && !dialog.contains(document.activeElement)) problems.push('focus is outside the dialog');
    // Its buttons within reach: scrolled to the end, the submit button shows whole.
    const scroller = dialog || document.scrollingElement;
    const before = scroller.scrollTop;
    scroller.scrollTop = scroller.scrollHeight;
    const b = document.querySelector((dialog ? 'dialog[open] ' : 'main ') + '[type=submit]').getBoundingClientRect();
    if (b.top < Math.max(box.top, 0) - 0.5 || b.bottom > Math.min(box.bottom, window.innerHeight) + 0.5) problems.push('the submit button cannot be reached');
    scroller.scrollTop = before;
    return problems;
  })()`;

  // A short phone (640 px high) and a desktop: the 40-character username, the 60-character address
  // and the long names make every question longer than a phone's screen.
  const screens = [{ width: 360, height: 640 }, { width: 1280, height: 900 }] as const;
  const withName = [...confirmations, ['attivo', 'name']] as const;

  for (const javaScript of [true, false]) {
    it(`should open each ${javaScript ? 'dialog' : 'confirmation page (without JavaScript)'} at its top, the question in view and the buttons in reach`, async function () {
      const page = await newPage(javaScript);
      await signIn(page, MAILBOX, OWNER_PASSWORD);
      for (const size of screens) {
        await page.setViewportSize(size);
        for (const [word, action] of withName) {
          const where = `${action} at ${size.width} px`;
          if (javaScript) {
            await page.goto(collaborations());
            const row = page.locator(`#collaborator-${who(word).id}`);
            await row.locator('.menu-button').click();
            await row.locator(`.menu-list a[href$="/${action}"]`).click();
            await page.locator('dialog[open]').waitFor();
            // Its opening animation (120 ms) over: the dialog where it stays.
            await until('the dialog still', async () => Boolean(await page.evaluate("document.querySelector('dialog[open]')?.getAnimations().length === 0")));
          } else {
            await page.goto(`${collaborations()}/${who(word).id}/${action}`);
          }
          await snap(page, `top-${javaScript ? 'dialog' : 'page'}-${action}-${size.width}`);
          expect(await page.evaluate(NOT_AT_ITS_TOP), where).to.deep.equal([]);
          if (javaScript) {
            await page.keyboard.press('Escape');
            await page.locator('dialog').waitFor({ state: 'detached' });
          }
        }
      }
    });
  }

  it("should show the details page's tables whole at both widths, as label and value pairs on a phone", async function () {
    await h.domain.appPasswords.create(who('attivo'), { name: 'Thunderbird sul portatile di Giovanni Battista', scope: 'read_send' }, { actor: system });
    const page = await newPage(true);
    await signIn(page, MAILBOX, OWNER_PASSWORD);
    await page.goto(`${collaborations()}/${who('attivo').id}`);
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      await snap(page, `details-tables-${width}`);
      // Each table within <main>, nothing in it or around it scrolling sideways, and each value's
      // column named: by its header where the header shows whole, else by the label before it.
      const problems = await page.evaluate(`(() => {
        const problems = [];
        const main = document.querySelector('main');
        const edges = main.getBoundingClientRect();
        const tables = [...main.querySelectorAll('table')].filter((t) => !t.closest('.log'));
        if (tables.length < 3) problems.push(tables.length + ' tables, not 3');
        for (const table of tables) {
          const name = table.previousElementSibling ? table.previousElementSibling.textContent.slice(0, 30) : '';
          for (let e = table; e !== main; e = e.parentElement) if (e.scrollWidth > e.clientWidth + 1) problems.push(name + ': its ' + e.tagName + ' scrolls sideways');
          const heads = [...table.querySelectorAll('thead th')];
          const headsShown = heads.every((th) => th.getBoundingClientRect().width > 1);
          for (const th of heads) if (headsShown && th.scrollWidth > th.clientWidth + 1) problems.push(name + ': the header ' + th.textContent + ' is cut');
          for (const tr of table.querySelectorAll('tbody tr')) {
            [...tr.children].forEach((td, i) => {
              const r = td.getBoundingClientRect();
              // An empty cell is left out of a card (no label without a value).
              if (getComputedStyle(td).display === 'none') return;
              if (r.left < edges.left - 0.5 || r.right > edges.right + 0.5) problems.push(name + ': a value lies outside main');
              const label = getComputedStyle(td, '::before').content;
              if (!headsShown && !label.includes(heads[i].textContent.trim())) problems.push(name + ': ' + td.textContent.slice(0, 20) + ' without its label ' + heads[i].textContent);
            });
          }
        }
        return problems;
      })()`);
      expect(problems, `details at ${width} px`).to.deep.equal([]);
      await expectAccessible(page, `details tables at ${width} px`, 'it');
    }
  });

  it('should fit the list at tablet and small-laptop widths too, its columns never cut', async function () {
    const page = await newPage(true);
    await signIn(page, MAILBOX, OWNER_PASSWORD);
    await page.goto(collaborations());
    for (const width of [768, 1024, 1200]) {
      await page.setViewportSize({ width, height: 900 });
      await snap(page, `list-${width}`);
      expect(await page.evaluate('document.documentElement.scrollWidth'), `the page at ${width} px`).to.be.at.most(width);
      const list = await page.evaluate(`(() => { const t = document.querySelector('table.collaborators').getBoundingClientRect(); const p = document.querySelector('.list-panel').getBoundingClientRect(); return t.right <= p.right + 0.5; })()`);
      expect(list, `the list within its panel at ${width} px`).to.equal(true);
    }
  });

  it("should answer the browser's request for its icon, kept for days, and never 404 on a page's way", async function () {
    const page = await newPage(true);
    const failed: string[] = [];
    page.on('response', (r) => void (r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`)));
    await signIn(page, MAILBOX, OWNER_PASSWORD);
    await page.goto(collaborations());
    expect(await page.evaluate('document.querySelector(\'link[rel~="icon"]\')?.getAttribute("href")'), 'declared in the layout').to.equal('/favicon.ico');
    const icon = await page.request.get(`${base}/favicon.ico`);
    expect(icon.status()).to.equal(200);
    expect(icon.headers()['content-type']).to.match(/^image\//);
    expect(Number(/max-age=(\d+)/.exec(icon.headers()['cache-control'] ?? '')?.[1])).to.be.at.least(7 * 24 * 3600);
    expect((await icon.body()).subarray(0, 4).toString('hex'), 'an ICO file').to.equal('00000100');
    expect(failed).to.deep.equal([]);
  });

  it('should fit each confirmation page without JavaScript, the username and email whole', async function () {
    const page = await newPage(false);
    await signIn(page, MAILBOX, OWNER_PASSWORD);
    for (const [word, action] of confirmations) {
      await page.goto(`${collaborations()}/${who(word).id}/${action}`);
      await expectLaidOut(page, `page-${action}`, { whole: [who(word).username, who(word).referenceEmail] });
    }
  });

  for (const javaScript of [true, false]) {
    const word = javaScript ? 'nuovo1' : 'nuovo2';
    const tag = javaScript ? 'js' : 'nojs';
    it(`should fit the set-password page, its errors and its done page${javaScript ? '' : ' without JavaScript'}`, async function () {
      const page = await newPage(javaScript);
      await page.goto(`${base}/password/${await latestLinkToken(h, who(word))}`);
      await expectLaidOut(page, `set-password-${tag}`, { whole: [who(word).username] });
      await page.fill('#password', 'short');
      await page.click('form[action="/password/new"] [type=submit]');
      await page.locator('.field-error').first().waitFor();
      await expectLaidOut(page, `set-password-errors-${tag}`, { whole: [who(word).username] });
      await page.fill('#password', GOOD_PASSWORD);
      await page.fill('#passwordConfirmation', GOOD_PASSWORD);
      await page.click('form[action="/password/new"] [type=submit]');
      await page.locator('a.button.primary[href="/login"]').waitFor();
      await expectLaidOut(page, `set-password-done-${tag}`, { whole: [who(word).username] });
    });

    it(`should fit the collaborator's account page${javaScript ? '' : ' without JavaScript'}`, async function () {
      const page = await newPage(javaScript);
      await signIn(page, who('attivo').username, GOOD_PASSWORD);
      await page.goto(`${base}/account`);
      await expectLaidOut(page, `account-${tag}`, { whole: [who('attivo').username] });
    });
  }

  // Last: delivering the outbox takes the queued links that the set-password tests read.
  it('should fit the development mail viewer, its long links and Message-IDs wrapped', async function () {
    await h.drain();
    const page = await newPage(true);
    await page.goto(`${base}/dev/mail`);
    await page.locator('.dev-mail').first().waitFor();
    await expectLaidOut(page, 'dev-mail');
  });
});
