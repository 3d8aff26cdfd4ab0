import path from 'node:path';
import { expect } from 'chai';
import { Op } from 'sequelize';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { chooseLanguage, expectAccessible } from '../support/axe';
import { activate, fill, tabTo, type Mode } from '../support/keyboard';
import { chromiumPerSuite, screenshots } from '../support/chromium';
import { GOOD_PASSWORD, OWNER_PASSWORD, WIDE_LIMITS, servedPerSuite, type Harness } from '../support/harness';
import { collaboratorIn } from '../support/accounts';
import { AuthenticatorApp } from '../support/authenticator';
import type { Collaborator, Mailbox } from '../../src/models';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts', 'two-step-browser');
const LANGUAGES = ['it', 'en', 'es'] as const;
type Language = (typeof LANGUAGES)[number];
// The WCAG 2.2 A and AA rules, as in browser.test.ts.
const DAY_S = 24 * 3600;
/** One TOTP step: each code is accepted once, so the next sign-in waits for the next one. */
const STEP_MS = 30_000;

// As browser.test.ts: a real browser is slow to start, so SQLite only.

describe('Two-step verification in a real browser (Chromium)', function () {
  this.timeout(120_000);
  const chromium = chromiumPerSuite();
  let h: Harness;
  let base = '';

  servedPerSuite(() => WIDE_LIMITS, (harness, url) => {
    h = harness;
    base = url;
  });
  before(async () => {
  });

  after(async () => {
  });

  const newPage = (options: { javaScript?: boolean; width?: number } = {}) => chromium.newPage(options);

  const snap = screenshots(ARTIFACTS);

  /** Activates a link or submit button and waits for the page it leads to. */
  async function go(page: Page, mode: Mode, locator: Locator, to: string): Promise<void> {
    await Promise.all([page.waitForURL((u) => u.pathname === to), activate(page, mode, locator)]);
  }

  async function signIn(page: Page, mode: Mode, username: string, password: string, { remember = false, to }: { remember?: boolean; to: string }): Promise<void> {
    await page.goto(`${base}/login`);
    await fill(page, mode, page.locator('#username'), username);
    await fill(page, mode, page.locator('#password'), password);
    if (remember) {
      const box = page.locator('input[name=remember]');
      if (mode === 'mouse') await box.check();
      else {
        await tabTo(page, box);
        await page.keyboard.press('Space');
      }
      expect(await box.isChecked(), 'remember me ticked').to.equal(true);
    }
    await go(page, mode, page.locator('form[action="/login"] [type=submit]'), to);
  }

  async function signOut(page: Page, mode: Mode): Promise<void> {
    await go(page, mode, page.locator('.topbar-signout [type=submit]'), '/login');
  }

  /** The second step: a code typed into the form, then the start page. */
  async function secondStep(page: Page, mode: Mode, code: string, to: string): Promise<void> {
    expect(new URL(page.url()).pathname).to.equal('/login/two-step');
    await fill(page, mode, page.locator('#code'), code);
    await go(page, mode, page.locator('form[action="/login/two-step"] [type=submit]'), to);
  }

  /** The set-up page: the key as text (what the authenticator app is given) and a QR code on screen. */
  async function readKey(page: Page): Promise<AuthenticatorApp> {
    const qr = page.locator('figure.qr-code > svg');
    expect(await qr.isVisible(), 'the QR code is an SVG on screen').to.equal(true);
    const box = (await qr.boundingBox())!;
    const viewport = page.viewportSize()!;
    expect(box.width, 'the QR code is large enough to scan').to.be.at.least(150);
    expect(box.x, 'the QR code starts on screen').to.be.at.least(0);
    expect(box.x + box.width, 'the QR code ends on screen').to.be.at.most(viewport.width);
    const key = (await page.locator('#totp-secret').textContent()) ?? '';
    expect(key.replace(/ /g, ''), 'the key as text').to.match(/^[A-Z2-7]{32}$/);
    return new AuthenticatorApp(key);
  }

  async function recoveryCodesOn(page: Page): Promise<string[]> {
    const codes = await page.locator('#recovery-codes li code').allTextContents();
    expect(codes).to.have.length(10);
    for (const code of codes) expect(code).to.match(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
    return codes;
  }

  /** Seconds the session cookie has left (-1: it ends with the browser). */
  async function sessionCookieLeft(context: BrowserContext): Promise<number> {
    const cookie = (await context.cookies(base)).find((c) => c.name === 'sid');
    expect(cookie, 'the session cookie').to.not.equal(undefined);
    return cookie!.expires === -1 ? -1 : cookie!.expires - Date.now() / 1000;
  }

  async function twoStepFactors(principalType: 'owner' | 'collaborator', principalId: number): Promise<number> {
    return h.db.models.SecondFactor.count({ where: { principalType, principalId } });
  }

  /** Journeys 1 and 3: the owner turns it on by mouse, signs in with a code; without JavaScript also turns it off. */
  async function ownerJourney(javaScript: boolean): Promise<void> {
    const tag = javaScript ? 'mouse' : 'nojs';
    const owner: Mailbox = await h.mailbox(`owner.${tag}@pec.example.it`);
    const { context, page } = await newPage({ javaScript });
    await signIn(page, 'mouse', owner.address, OWNER_PASSWORD, { to: '/settings/collaborations' });
    expect(await sessionCookieLeft(context), 'a session not remembered').to.be.below(DAY_S);

    await go(page, 'mouse', page.locator('nav.settings-nav a[href="/settings/two-step"]'), '/settings/two-step');
    expect(await page.locator('.status-line .badge-pending').isVisible(), 'off').to.equal(true);
    await snap(page, `${tag}-settings-off`);
    await go(page, 'mouse', page.locator('a[href="/settings/two-step/totp"]'), '/settings/two-step/totp');
    const app = await readKey(page);
    const key = await page.locator('#totp-secret').textContent();
    await snap(page, `${tag}-set-up`);

    await page.fill('#code', app.wrongCode(h));
    await page.click('form[action="/settings/two-step/totp"] [type=submit]');
    const error = page.locator('#code-error');
    await error.waitFor();
    expect(await error.textContent()).to.not.equal('');
    expect((await page.getAttribute('#code', 'aria-describedby'))?.split(' '), 'the error is tied to the field').to.include('code-error');
    expect(await page.getAttribute('#code', 'aria-invalid')).to.equal('true');
    expect(await page.locator('#totp-secret').textContent(), 'the same key after a wrong code').to.equal(key);
    expect(await twoStepFactors('owner', owner.id)).to.equal(0);
    await snap(page, `${tag}-set-up-wrong-code`);

    await page.fill('#code', app.code(h));
    await page.click('form[action="/settings/two-step/totp"] [type=submit]');
    await page.locator('#recovery-codes').waitFor();
    await recoveryCodesOn(page);
    expect(await twoStepFactors('owner', owner.id)).to.equal(1);
    await snap(page, `${tag}-recovery-codes`);

    await signOut(page, 'mouse');
    h.clock.advance(STEP_MS);
    await signIn(page, 'mouse', owner.address, OWNER_PASSWORD, { to: '/login/two-step' });
    await snap(page, `${tag}-second-step`);
    await secondStep(page, 'mouse', app.code(h), '/settings/collaborations');
    expect(await page.locator('main h1').first().textContent()).to.match(/Collaborazioni/);
    if (javaScript) return;

    await go(page, 'mouse', page.locator('nav.settings-nav a[href="/settings/two-step"]'), '/settings/two-step');
    expect(await page.locator('.status-line .badge-active').isVisible(), 'on').to.equal(true);
    h.clock.advance(STEP_MS);
    await page.fill('#off-password', OWNER_PASSWORD);
    await page.fill('#off-code', app.code(h));
    await go(page, 'mouse', page.locator('form[action^="/settings/two-step/deactivation"] [type=submit]'), '/settings/two-step');
    await page.locator('.notice').waitFor();
    expect(await page.locator('.status-line .badge-pending').isVisible(), 'off again').to.equal(true);
    expect(await twoStepFactors('owner', owner.id)).to.equal(0);
    await snap(page, `${tag}-turned-off`);
    await signOut(page, 'mouse');
    await signIn(page, 'mouse', owner.address, OWNER_PASSWORD, { to: '/settings/collaborations' });
  }

  describe('the owner', () => {
    it('should turn it on by mouse, be refused a wrong code, and sign in with password and code', async () => {
      await ownerJourney(true);
    });

    it('should do the same without JavaScript, and turn it off with the password and a code', async () => {
      await ownerJourney(false);
    });
  });

  describe('a collaborator under the owner’s policy, by keyboard only', () => {
    it('should be taken to set it up, then sign in with a recovery code, remembered for 30 days', async () => {
      const mailbox = await h.mailbox('policy.keyboard@pec.example.it');
      const c: Collaborator = await collaboratorIn(h, mailbox, 'active', {
        firstName: 'Carla', lastName: 'Tasti', username: 'carla.tasti', referenceEmail: 'carla.tasti@example.com', accessLevel: 'mail_clients', manageSettings: false,
      });

      const owner = await newPage();
      await signIn(owner.page, 'keyboard', mailbox.address, OWNER_PASSWORD, { to: '/settings/collaborations' });
      const policy = owner.page.locator('input[name=twoStepRequired]');
      await tabTo(owner.page, policy);
      await owner.page.keyboard.press('Space');
      expect(await policy.isChecked()).to.equal(true);
      await snap(owner.page, 'keyboard-policy');
      await activate(owner.page, 'keyboard', owner.page.locator('form[action$="/two-step-policy"] [type=submit]'));
      await owner.page.locator('.notice').waitFor();
      expect(await owner.page.locator('input[name=twoStepRequired]').isChecked(), 'kept after saving').to.equal(true);
      expect((await h.db.models.Mailbox.findByPk(mailbox.id))?.twoStepRequired).to.equal(true);

      const { context, page } = await newPage();
      await signIn(page, 'keyboard', c.username, GOOD_PASSWORD, { remember: true, to: '/settings/two-step' });
      expect(await page.locator('.alert-info').isVisible(), 'why the collaborator is here').to.equal(true);
      expect(await sessionCookieLeft(context), 'a remembered session').to.be.within(29 * DAY_S, 31 * DAY_S);
      await snap(page, 'keyboard-required');
      await go(page, 'keyboard', page.locator('a[href="/settings/two-step/totp"]'), '/settings/two-step/totp');
      const app = await readKey(page);
      await fill(page, 'keyboard', page.locator('#code'), app.code(h));
      await activate(page, 'keyboard', page.locator('form[action="/settings/two-step/totp"] [type=submit]'));
      await page.locator('#recovery-codes').waitFor();
      const codes = await recoveryCodesOn(page);
      await snap(page, 'keyboard-recovery-codes');
      await go(page, 'keyboard', page.locator('main a[href="/settings/two-step"]'), '/settings/two-step');
      expect(await page.locator('.status-line .badge-active').isVisible()).to.equal(true);
      await go(page, 'keyboard', page.locator('nav.settings-nav a[href="/account"]'), '/account');

      await signOut(page, 'keyboard');
      await signIn(page, 'keyboard', c.username, GOOD_PASSWORD, { remember: true, to: '/login/two-step' });
      await secondStep(page, 'keyboard', codes[4] as string, '/account');
      expect(await sessionCookieLeft(context), 'remembered through the second step').to.be.within(29 * DAY_S, 31 * DAY_S);
      const spent = await h.db.models.RecoveryCode.count({ where: { principalType: 'collaborator', principalId: c.id, usedAt: { [Op.ne]: null } } });
      expect(spent, 'the recovery code is spent').to.equal(1);
      await snap(page, 'keyboard-account');
    });
  });

  /**
   * Elements that stick out of the viewport, or that cut off content of their own (overflow other
   * than visible). A string: the project's TypeScript has no DOM types.
   */
  function clippedIn(page: Page): Promise<string[]> {
    return page.evaluate<string[]>(`(() => {
      const width = document.documentElement.clientWidth;
      const found = [];
      for (const el of document.querySelectorAll('body *')) {
        // Off screen until focused, or shown to screen readers only (a 1 px box): hidden on purpose.
        if (el.closest('.skip-link')) continue;
        const box = el.getBoundingClientRect();
        if (box.width <= 1 || box.height <= 1) continue;
        const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : '') + ' "' + el.textContent.trim().slice(0, 30) + '"';
        if (box.left < -0.5 || box.right > width + 0.5) found.push(name + ' sticks out (' + Math.round(box.left) + '–' + Math.round(box.right) + ' px)');
        else if (getComputedStyle(el).overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1) found.push(name + ' cuts off ' + (el.scrollWidth - el.clientWidth) + ' px');
      }
      return found;
    })()`);
  }

  async function expectFits(page: Page, name: string): Promise<void> {
    await snap(page, `360-${name}`);
    expect(await page.evaluate<number>('document.documentElement.scrollWidth'), `${name}: no sideways scroll`).to.be.at.most(360);
    expect(await clippedIn(page), `${name}: nothing clipped`).to.deep.equal([]);
  }

  describe('on a 360 px phone, with a 40-character name and a long mailbox', () => {
    it('should fit the settings, set-up, recovery codes and second-step pages without sideways scroll or clipping', async () => {
      const chosen = 'giovanni.battista.della.rovere-montefelt';
      expect(chosen).to.have.length(40);
      const mailbox = await h.mailbox('segreteria.amministrativa.studio.legale.associato@pec.ordine-avvocati-roma.example.it');
      const c = await collaboratorIn(h, mailbox, 'active', {
        firstName: 'Giovanni Battista', lastName: 'Della Rovere Montefeltro', username: chosen, referenceEmail: 'giovanni.della.rovere@example.com', accessLevel: 'mail_clients', manageSettings: false,
      });
      const { page } = await newPage({ width: 360 });
      await signIn(page, 'mouse', c.username, GOOD_PASSWORD, { to: '/account' });
      await page.goto(`${base}/settings/two-step`);
      await expectFits(page, 'settings-off');
      await page.goto(`${base}/settings/two-step/totp`);
      const app = await readKey(page);
      await expectFits(page, 'set-up');
      await page.fill('#code', app.wrongCode(h));
      await page.click('form[action="/settings/two-step/totp"] [type=submit]');
      await page.locator('#code-error').waitFor();
      await expectFits(page, 'set-up-error');
      await page.fill('#code', app.code(h));
      await page.click('form[action="/settings/two-step/totp"] [type=submit]');
      await page.locator('#recovery-codes').waitFor();
      await expectFits(page, 'recovery-codes');
      await page.goto(`${base}/settings/two-step`);
      await expectFits(page, 'settings-on');

      await signOut(page, 'mouse');
      h.clock.advance(STEP_MS);
      await signIn(page, 'mouse', c.username, GOOD_PASSWORD, { to: '/login/two-step' });
      await expectFits(page, 'second-step');
      await page.fill('#code', app.wrongCode(h));
      await page.click('form[action="/login/two-step"] [type=submit]');
      await page.locator('#code-error').waitFor();
      await expectFits(page, 'second-step-error');
      await secondStep(page, 'mouse', app.code(h), '/account');
    });
  });

  describe('accessibility (axe-core, WCAG 2.2 AA)', () => {
    async function audit(page: Page, name: string, language: Language): Promise<void> {
      await expectAccessible(page, `${name} (${language}, ${page.viewportSize()?.width} px)`, language);
      await snap(page, `axe-${language}-${name}`);
    }

    LANGUAGES.forEach((language, l) => {
      const width = l % 2 ? 1280 : 360;
      it(`should find no violation on the two-step pages in ${language} at ${width} px`, async () => {
        const owner = await h.mailbox(`axe.${language}@pec.example.it`);
        const { page } = await newPage({ width });
        await page.goto(`${base}/login`);
        await chooseLanguage(page, language);
        expect(await page.locator('input[name=remember]').isVisible()).to.equal(true);
        await audit(page, 'login', language);

        await signIn(page, 'mouse', owner.address, OWNER_PASSWORD, { to: '/settings/collaborations' });
        await chooseLanguage(page, language);
        expect(await page.locator('input[name=twoStepRequired]').isVisible()).to.equal(true);
        await audit(page, 'collaborations-policy', language);
        await page.goto(`${base}/settings/two-step`);
        await audit(page, 'settings-off', language);
        await page.goto(`${base}/settings/two-step/totp`);
        const app = await readKey(page);
        await page.fill('#code', app.wrongCode(h));
        await page.click('form[action="/settings/two-step/totp"] [type=submit]');
        await page.locator('#code-error').waitFor();
        await audit(page, 'set-up-error', language);
        await page.fill('#code', app.code(h));
        await page.click('form[action="/settings/two-step/totp"] [type=submit]');
        await page.locator('#recovery-codes').waitFor();
        await audit(page, 'recovery-codes', language);
        await page.goto(`${base}/settings/two-step`);
        expect(await page.locator('#off-code').isVisible()).to.equal(true);
        await audit(page, 'settings-on', language);

        await signOut(page, 'mouse');
        h.clock.advance(STEP_MS);
        await signIn(page, 'mouse', owner.address, OWNER_PASSWORD, { to: '/login/two-step' });
        await chooseLanguage(page, language);
        await audit(page, 'second-step', language);
        await page.fill('#code', app.wrongCode(h));
        await page.click('form[action="/login/two-step"] [type=submit]');
        await page.locator('#code-error').waitFor();
        await audit(page, 'second-step-error', language);
      });
    });
  });
});
