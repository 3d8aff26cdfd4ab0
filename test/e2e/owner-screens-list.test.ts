import path from 'node:path';
import { expect } from 'chai';
import type { Locator, Page } from 'playwright-core';
import { chooseLanguage, expectAccessible } from '../support/axe';
import { chromiumPerSuite, screenshots, signInThroughForm } from '../support/chromium';
import { getsFocus } from '../support/keyboard';
import { OWNER_PASSWORD, servedPerSuite, type Harness } from '../support/harness';
import { collaboratorIn, person } from '../support/accounts';
import { system } from '../../src/domain/actor';
import type { Mailbox } from '../../src/models';
import { until } from '../support/wait';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts', 'owner-screens-list');
const MAILBOX = 'studio.rossi@pec.example.it';
const WIDTHS = [360, 1280] as const;
const LANGUAGES = ['it', 'en', 'es'] as const;
type Language = (typeof LANGUAGES)[number];
const DAY = 24 * 3600 * 1000;

// The longest chosen name (40 characters) and a 60-character reference email.
const LONG_NAME = 'maria.francesca.della.valle.bianchi.sbtt';
const LONG_EMAIL = 'maria.francesca.della.valle@studio-legale-associat.exampl.it';


describe('The Collaborations list in a real browser (Chromium)', function () {
  this.timeout(120_000);
  const chromium = chromiumPerSuite();
  const snap = screenshots(ARTIFACTS);
  let h: Harness;
  let base = '';
  let mailbox: Mailbox;

  servedPerSuite(() => ({}), (harness, url) => {
    h = harness;
    base = url;
  });
  before(async () => {
    mailbox = await h.mailbox(MAILBOX);
  });
  beforeEach(async () => {
    await h.reset();
    mailbox = (await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } })) as Mailbox;
  });
  after(async () => {
  });

  /** The owner's list, signed in with a fresh context of that width (and height), in `language`. */
  async function ownerList({ width = 1280, height = 900, javaScript = true, language = 'it' as Language } = {}): Promise<Page> {
    const context = await chromium.newContext({ viewport: { width, height }, javaScriptEnabled: javaScript, locale: 'it-IT' });
    const page = await context.newPage();
    await signInThroughForm(page, base, MAILBOX, OWNER_PASSWORD);
    await chooseLanguage(page, language);
    if (new URL(page.url()).pathname !== '/settings/collaborations') await page.goto(`${base}/settings/collaborations`);
    return page;
  }

  const row = (page: Page, id: number): Locator => page.locator(`#collaborator-${id}`);
  /** Whether the focus is on the ⋮ of collaborator `id`'s row. */
  const focusOnMenu = (page: Page, id: number) => page.evaluate<boolean>(`document.activeElement === document.querySelector('#collaborator-${id} .menu-button')`);

  /** A collaborator whose invitation went out, and the owner's list at 360 px with its resend dialog open. */
  async function resendDialogOpen(): Promise<{ c: Awaited<ReturnType<typeof h.domain.collaborations.create>>; page: Page; dialog: Locator }> {
    const c = await h.domain.collaborations.create(mailbox, person('Mario', 'Rossi', 'mario.rossi'), { actor: system });
    await h.drain();
    const page = await ownerList({ width: 360 });
    await row(page, c.id).locator('.menu-button').click();
    await row(page, c.id).locator('a[href$="/password-link"]').click();
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    return { c, page, dialog };
  }

  /** Whether the box of `inner` lies within the box of `outer` (both visible). */
  async function inside(inner: Locator, outer: Locator): Promise<boolean> {
    const [a, b] = [await inner.boundingBox(), await outer.boundingBox()];
    if (!a || !b) return false;
    return a.x >= b.x && a.y >= b.y && a.x + a.width <= b.x + b.width + 0.5 && a.y + a.height <= b.y + b.height + 0.5;
  }

  const widthFits = (page: Page) => page.evaluate<number[]>('[document.documentElement.scrollWidth, window.innerWidth]');

  /** Browser code: the text before each line break inside an element (its text nodes, character by character). */
  const BREAKS = new Function('el', `
    const range = document.createRange(); const before = []; let lastTop = null; let text = '';
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest('.visually-hidden')) continue;
      for (let i = 0; i < node.data.length; i++) {
        range.setStart(node, i); range.setEnd(node, i + 1);
        const top = Math.round(range.getBoundingClientRect().top);
        if (lastTop !== null && top > lastTop + 2) before.push(text);
        lastTop = top; text += node.data[i];
      }
    }
    return before;`) as (el: unknown) => string[];

  describe('long usernames and addresses', function () {
    for (const width of WIDTHS) {
      it(`should fit ${width} px with a 40-character username and a 60-character address, the menu inside the panel`, async function () {
        expect(LONG_NAME).to.have.length(40);
        expect(LONG_EMAIL).to.have.length(60);
        const long = await collaboratorIn(h, mailbox, 'suspended', person('Maria Francesca', 'Della Valle Bianchi', LONG_NAME, LONG_EMAIL));
        await collaboratorIn(h, mailbox, 'active', person('Anna', 'Neri', 'anna.neri'));
        const page = await ownerList({ width });
        await snap(page, `long-names-${width}`);
        const [scrollWidth, innerWidth] = await widthFits(page);
        expect(scrollWidth, 'the page is no wider than the window').to.be.at.most(innerWidth as number);
        const menu = row(page, long.id).locator('.menu-button');
        expect(await inside(menu, page.locator('section.panel').first()), 'the ⋮ button inside the panel').to.equal(true);
        expect(await row(page, long.id).textContent(), 'the full username in the row').to.include(`${LONG_NAME}/${MAILBOX}`);
        // Breaks only where "/", "@" or "." allow: every line of the username ends at one of them.
        for (const part of ['.username-chosen', 'td.email']) {
          const breaks = await row(page, long.id).locator(part).evaluate(BREAKS);
          for (const at of breaks as string[]) expect(at, `${part} breaks after "/", "@" or "."`).to.match(/[/@.]$/);
        }
        await expectAccessible(page, `list with long names at ${width} px`, 'it');
        // And with the filter and order open (axe does not run in a page without JavaScript).
        await page.click('.list-options summary');
        await expectAccessible(page, `list with its options at ${width} px`, 'it');
      });
    }
  });

  describe('scanning a long list', function () {
    it('should show a collaborator on the first screen of a 360 px phone', async function () {
      for (let i = 0; i < 8; i++) await h.domain.collaborations.create(mailbox, person('Anna', `Neri ${i}`, `anna${i}`), { actor: system });
      const page = await ownerList({ width: 360, height: 740 });
      await snap(page, 'phone-first-screen');
      const first = page.locator('#collaborator-list tbody tr').first().locator('a').first();
      const box = await first.boundingBox();
      expect(box, 'the first collaborator').not.to.equal(null);
      expect((box?.y ?? Infinity) + (box?.height ?? 0), 'its name within the first 740 px').to.be.at.most(740);
    });

    it('should filter by status and sort without JavaScript, with the search and the pages', async function () {
      const made = [];
      for (let i = 0; i < 3; i++) made.push(await collaboratorIn(h, mailbox, 'active', person('Anna', `Neri ${i}`, `anna${i}`)));
      const suspended = await collaboratorIn(h, mailbox, 'suspended', person('Bruno', 'Neri', 'bruno'));
      await collaboratorIn(h, mailbox, 'pending', person('Carla', 'Neri', 'carla'));
      // Anna Neri 1 signed in last.
      for (const c of [made[0], made[2], made[1]]) {
        h.clock.advance(DAY);
        await h.domain.accessHistory.recordMailSignIn(c!.username, true, { channel: 'imap', ip: '192.0.2.1', clientName: null });
      }
      const page = await ownerList({ javaScript: false });
      await page.click('.list-options summary');
      await page.selectOption('#status', 'suspended');
      await Promise.all([page.waitForURL(/status=suspended/), page.click('.list-options [type=submit]')]);
      expect(await page.locator('#collaborator-list tbody tr').count()).to.equal(1);
      expect(await row(page, suspended.id).count()).to.equal(1);
      await snap(page, 'filter-no-js');

      await page.fill('#q', 'anna');
      await page.selectOption('#status', { index: 0 });
      await page.selectOption('#sort', 'lastAccess');
      await page.selectOption('#dir', 'desc');
      await Promise.all([page.waitForURL(/sort=lastAccess/), page.click('.list-options [type=submit]')]);
      const ids = await page.locator('#collaborator-list tbody tr').evaluateAll((rows) => rows.map((r) => Number(r.id.replace('collaborator-', ''))));
      expect(ids).to.deep.equal([made[1]!.id, made[2]!.id, made[0]!.id]);
      expect(await page.locator('#collaborator-list').textContent()).to.match(/Ultimo accesso/);
    });

    it('should filter and sort in place with JavaScript, the address following', async function () {
      const anna = await collaboratorIn(h, mailbox, 'active', person('Anna', 'Bianchi', 'anna'));
      const zeno = await collaboratorIn(h, mailbox, 'suspended', person('Zeno', 'Verdi', 'zeno'));
      const page = await ownerList();
      await page.evaluate('window.stillHere = true');
      await page.click('.list-options summary');
      await page.selectOption('#status', 'suspended');
      await page.waitForURL(/status=suspended/);
      await row(page, anna.id).waitFor({ state: 'detached' });
      expect(await row(page, zeno.id).count()).to.equal(1);
      // A slow server: the order is changed while the filter's answer is still on its way, and must win.
      await page.route(/\/settings\/collaborations\?/, async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 500));
        await route.continue().catch(() => undefined);
      });
      await page.selectOption('#status', { index: 0 });
      await page.selectOption('#dir', 'desc');
      await until('the list filtered in place', async () => Boolean(await page.evaluate(`document.querySelector('#collaborator-list tbody tr')?.id === 'collaborator-${zeno.id}' && document.querySelectorAll('#collaborator-list tbody tr').length === 2`)));
      await until('the address to follow', async () => Boolean(await page.evaluate(`location.search.includes('dir=desc')`)));
      expect(await page.evaluate('window.stillHere'), 'the same page, not reloaded').to.equal(true);
      await expectAccessible(page, 'sorted with JavaScript', 'it');
    });

    it('should put the focus on the first field in error when the add form comes back', async function () {
      const page = await ownerList({ width: 360, height: 740 });
      await page.goto(`${base}/settings/collaborations/new`);
      await page.fill('#firstName', 'Zeno');
      await Promise.all([page.waitForURL(`${base}/settings/collaborations`), page.click('#collaborator-form [type=submit]')]);
      await page.locator('#lastName-error').waitFor();
      expect(await page.evaluate('document.activeElement && document.activeElement.id')).to.equal('lastName');
    });

    for (const javaScript of [true, false]) {
      it(`should show the new collaborator after adding, ${javaScript ? 'with' : 'without'} JavaScript`, async function () {
        for (let i = 0; i < 60; i++) await h.domain.collaborations.create(mailbox, person('Anna', `Neri ${String(i).padStart(2, '0')}`, `anna${i}`), { actor: system });
        const page = await ownerList({ width: 360, height: 740, javaScript });
        await page.goto(`${base}/settings/collaborations/new`);
        await page.fill('#firstName', 'Zeno');
        await page.fill('#lastName', 'Zucchi');
        await page.fill('#username', 'zeno.zucchi');
        await page.fill('#referenceEmail', 'zeno@example.org');
        await Promise.all([page.waitForURL(/\/settings\/collaborations(\?|#|$)/), page.click('#collaborator-form [type=submit]')]);
        const zeno = await h.db.models.Collaborator.findOne({ where: { username: `zeno.zucchi/${MAILBOX}` } });
        const added = row(page, zeno!.id);
        await added.waitFor();
        await until('the new row on screen', async () => Boolean(await page.evaluate(`(() => { const r = document.getElementById('collaborator-${zeno!.id}').getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight; })()`)));
        expect(await page.locator('[role=status]', { hasText: 'Zeno Zucchi' }).count(), 'the notice').to.be.at.least(1);
        await snap(page, `added-${javaScript ? 'js' : 'no-js'}`);
      });
    }
  });

  describe('removal with JavaScript', function () {
    const said = { it: /non potrà essere annullat/i, en: /cannot be undone/i, es: /no se podrá deshacer/i };
    const removed = { it: /Mario Rossi/, en: /Mario Rossi/, es: /Mario Rossi/ };
    const counts = { it: 'Collaboratori: 2', en: '2 collaborators', es: 'Colaboradores: 2' };
    LANGUAGES.forEach((language, l) => {
      const width = WIDTHS[l % 2] as number;
      it(`should say it cannot be undone, then announce it, update the count and place focus (${language}, ${width} px)`, async function () {
        await collaboratorIn(h, mailbox, 'active', person('Anna', 'Bianchi', 'anna'));
        const mario = await collaboratorIn(h, mailbox, 'deactivated', person('Mario', 'Rossi', 'mario.rossi'));
        const next = await collaboratorIn(h, mailbox, 'active', person('Zeno', 'Verdi', 'zeno'));
        const page = await ownerList({ width, language });
        await row(page, mario.id).locator('.menu-button').click();
        await row(page, mario.id).locator('a[href$="/removal"]').click();
        const dialog = page.locator('dialog[open]');
        await dialog.waitFor();
        expect(await dialog.textContent()).to.match(said[language]);
        await expectAccessible(page, `removal dialog ${language}`, language);
        await dialog.locator('[type=submit]').click();
        await row(page, mario.id).waitFor({ state: 'detached' });
        await page.locator('[role=status]', { hasText: removed[language] }).first().waitFor();
        await page.locator('.count', { hasText: counts[language] }).waitFor();
        expect(await getsFocus(row(page, next.id).locator('.menu-button')), "focus on the next row's menu").to.equal(true);
        await snap(page, `removed-${language}-${width}`);
        await expectAccessible(page, `after removal ${language}`, language);
      });
    });
  });

  describe('statuses', function () {
    const expired = { it: /Link scaduto il/, en: /Link expired on/, es: /Enlace caducado el/ };
    const waits = { it: /invito non ancora accettato/i, en: /invitation not accepted yet/i, es: /invitación aún no aceptada/i };
    LANGUAGES.forEach((language, l) => {
      const width = WIDTHS[l % 2] as number;
      it(`should show an expired invitation as expired with the resend button in the row (${language}, ${width} px)`, async function () {
        const c = await h.domain.collaborations.create(mailbox, person('Mario', 'Rossi', 'mario.rossi'), { actor: system });
        await h.drain();
        h.clock.advance(16 * DAY);
        const page = await ownerList({ width, language });
        const r = row(page, c.id);
        expect(await r.textContent()).to.match(expired[language]);
        expect(await r.textContent()).to.match(waits[language]);
        const resend = r.locator('a.row-resend');
        expect(await resend.isVisible(), 'the resend button, outside the menu').to.equal(true);
        await snap(page, `expired-${language}-${width}`);
        await expectAccessible(page, `expired invitation ${language}`, language);
        await resend.click();
        const dialog = page.locator('dialog[open]');
        await dialog.waitFor();
        await dialog.locator('[type=submit]').click();
        await dialog.waitFor({ state: 'detached' });
        await until('the row no longer expired', async () => Boolean(await page.evaluate(`!/scaduto|expired|caducado/i.test(document.getElementById('collaborator-${c.id}').textContent)`)));
        expect(await page.locator('[role=status]', { hasText: 'Mario Rossi' }).count(), 'the notice, in its own place').to.be.at.least(1);
        expect(await r.locator('[role=status]').count(), 'no notice squeezed into the row').to.equal(0);
      });
    });

    it('should update a row whose email is queued to sent, without reloading', async function () {
      const c = await h.domain.collaborations.create(mailbox, person('Mario', 'Rossi', 'mario.rossi'), { actor: system });
      const page = await ownerList({ width: 1280 });
      await row(page, c.id).locator('.delivery-queued').waitFor();
      await page.evaluate('window.stillHere = true');
      await h.drain();
      await row(page, c.id).locator('.delivery-sent').waitFor({ timeout: 15_000 });
      expect(await page.evaluate('window.stillHere'), 'the same page, not reloaded').to.equal(true);
      // Delivered: the row stops asking.
      expect(await row(page, c.id).getAttribute('hx-trigger')).to.equal(null);
    });

    it('should update the row to sent after an action in its dialog, with focus kept on its menu button', async function () {
      const { c, page, dialog } = await resendDialogOpen();
      await dialog.locator('[type=submit]').click();
      await dialog.waitFor({ state: 'detached' });
      await row(page, c.id).locator('.delivery-queued').waitFor();
      expect(await focusOnMenu(page, c.id), 'focus back on ⋮').to.equal(true);
      await h.drain();
      await row(page, c.id).locator('.delivery-sent').waitFor({ timeout: 15_000 });
      expect(await focusOnMenu(page, c.id), 'still on the new row’s ⋮').to.equal(true);
    });

    it('should have the focus on the menu button already when the dialog stops being open, not a task later', async function () {
      const { c, page, dialog } = await resendDialogOpen();
      // What anything that waits for the dialog to close (a poll of the row, a test, a screen reader)
      // finds at that moment: a mutation observer runs right after the change, before the next task.
      await page.evaluate(`(() => {
        const dialog = document.querySelector('dialog[open]');
        window.focusWhenClosed = 'never closed';
        const seen = new MutationObserver(() => {
          if (dialog.open && dialog.isConnected) return;
          seen.disconnect();
          window.focusWhenClosed = document.activeElement === document.querySelector('#collaborator-${c.id} .menu-button') ? 'on ⋮' : String(document.activeElement && document.activeElement.outerHTML).slice(0, 80);
        });
        seen.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['open'] });
      })()`);
      await dialog.locator('[type=submit]').click();
      await dialog.waitFor({ state: 'detached' });
      await row(page, c.id).locator('.delivery-queued').waitFor();
      expect(await page.evaluate('window.focusWhenClosed')).to.equal('on ⋮');
    });

    it("should give the focus back to the row's menu button when a poll replaced the row while its dialog was loading", async function () {
      // Queued: the row asks for itself every 5 s.
      const c = await h.domain.collaborations.create(mailbox, person('Mario', 'Rossi', 'mario.rossi'), { actor: system });
      const page = await ownerList({ width: 360 });
      await row(page, c.id).locator('.delivery-queued').waitFor();
      // A slow network: the dialog arrives after the row's next poll has replaced the row.
      await page.route(`**/settings/collaborations/${c.id}/password-link`, async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 6_000));
        await route.continue().catch(() => undefined);
      });
      const polled = page.waitForResponse((r) => r.url().endsWith(`/settings/collaborations/${c.id}/row`), { timeout: 15_000 });
      await row(page, c.id).locator('.menu-button').click();
      await row(page, c.id).locator('a[href$="/password-link"]').click();
      await polled;
      const dialog = page.locator('dialog[open]');
      await dialog.waitFor({ timeout: 15_000 });
      await page.keyboard.press('Escape');
      await page.locator('dialog').waitFor({ state: 'detached' });
      expect(await focusOnMenu(page, c.id), 'focus back on the new row’s ⋮').to.equal(true);
    });
  });
});
