import path from 'node:path';
import { expect } from 'chai';
import type { Locator, Page } from 'playwright-core';
import { chooseLanguage, expectAccessible } from '../support/axe';
import { activate, fill, getsFocus, isFocused, tabTo, type Mode } from '../support/keyboard';
import { chromiumPerSuite, screenshots } from '../support/chromium';
import { GOOD_PASSWORD, OWNER_PASSWORD, servedPerSuite, type Harness } from '../support/harness';
import { SmtpSink, linkIn } from '../support/smtp-sink';
import { DEMO, seedDemo } from '../../src/seed';
import { collaboratorIn, latestLinkToken } from '../support/accounts';
import type { Mailbox } from '../../src/models';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts', 'browser');
const WIDTHS = [360, 1280] as const;
const LANGUAGES = ['it', 'en', 'es'] as const;
// The WCAG 2.2 A and AA rules; only violations are collected (passes would cost time and go unread).

describe('In a real browser (Chromium)', function () {
  this.timeout(120_000);
  const chromium = chromiumPerSuite();
  let h: Harness;
  let sink: SmtpSink;
  let base = '';

  before(async () => {
    sink = await new SmtpSink().start();
  });
  servedPerSuite(() => ({ SMTP_URL: sink.url }), (harness, url) => {
    h = harness;
    base = url;
  });
  before(async () => {
    await seedDemo(h.domain);
    await h.drain();
  });

  after(async () => {
    await sink?.stop();
  });

  const newPage = (options: { javaScript?: boolean; width?: number } = {}) => chromium.newPage(options);

  /** Every step leaves a picture in test-artifacts/. */
  const snap = screenshots(ARTIFACTS);

  /** The latest email that reached the sink for this address, once the outbox ran. */
  async function lastMailTo(address: string) {
    await h.drain();
    const mails = sink.received.filter((m) => m.to.includes(address));
    expect(mails, `emails to ${address}`).to.not.be.empty;
    return mails[mails.length - 1] as (typeof mails)[number];
  }

  /** The link of an email, pointed at this test server (emails use the configured BASE_URL). */
  function localLink(url: string): string {
    return base + new URL(url).pathname;
  }

  async function signIn(page: Page, mode: Mode, username: string, password: string): Promise<void> {
    await page.goto(`${base}/login`);
    await snap(page, `${mode}-login`);
    await fill(page, mode, page.locator('#username'), username);
    await fill(page, mode, page.locator('#password'), password);
    await Promise.all([page.waitForURL((u) => u.pathname !== '/login'), activate(page, mode, page.locator('form[action="/login"] [type=submit]'))]);
  }

  function row(page: Page, username: string): Locator {
    return page.locator('tbody tr', { hasText: username });
  }

  async function expectStatus(page: Page, username: string, status: string): Promise<void> {
    await row(page, username).locator(`.badge-${status}`).waitFor();
  }

  /** Opens the row's three-dot menu and picks an item: by mouse, or by Enter and the arrow keys. */
  async function choose(page: Page, mode: Mode, username: string, action: string): Promise<void> {
    const r = row(page, username);
    const button = r.locator('.menu-button');
    const item = r.locator(`.menu-list a[href$="/${action}"]`);
    if (mode === 'mouse') {
      await button.click();
      await item.click();
    } else {
      await tabTo(page, button);
      await page.keyboard.press('Enter');
      for (let i = 0; i < 8 && !(await isFocused(item)); i++) await page.keyboard.press('ArrowDown');
      expect(await isFocused(item), `menu item ${action}`).to.equal(true);
      await page.keyboard.press('Enter');
    }
  }

  /** Answers the open confirmation dialog; with JavaScript focus must come back to the row's menu. */
  async function confirm(page: Page, mode: Mode, name: string): Promise<void> {
    const dialog = page.locator('dialog[open]');
    await dialog.waitFor();
    // A modal dialog takes the focus; without JavaScript the confirmation is a page, which opens at its top (the question in view).
    const modal = await dialog.evaluate((d) => d.matches(':modal'));
    if (modal) expect(await dialog.evaluate((d) => d.contains(d.ownerDocument.activeElement)), 'focus moves into the dialog').to.equal(true);
    else expect(await page.evaluate('window.scrollY'), 'the page at its top').to.equal(0);
    await snap(page, `${mode}-${name}-dialog`);
    await activate(page, mode, dialog.locator('[type=submit]'));
    await dialog.waitFor({ state: 'detached' });
  }

  async function addCollaborator(page: Page, mode: Mode, person: { firstName: string; lastName: string; username: string; email: string }): Promise<void> {
    await activate(page, mode, page.locator('a.button.primary[href$="/new"]'));
    await page.locator('#collaborator-form').waitFor();
    await fill(page, mode, page.locator('#firstName'), person.firstName);
    await fill(page, mode, page.locator('#lastName'), person.lastName);
    await fill(page, mode, page.locator('#username'), person.username);
    await fill(page, mode, page.locator('#referenceEmail'), person.email);
    if (mode === 'mouse') await page.locator('input[name=accessLevel][value=mail_clients]').check();
    else {
      await tabTo(page, page.locator('input[name=accessLevel]:checked'));
      for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
    }
    await snap(page, `${mode}-add-form`);
    await activate(page, mode, page.locator('#collaborator-form [type=submit]'));
    await page.locator('tbody tr', { hasText: `${person.username}/` }).waitFor();
  }

  /** The collaborator's side: the emailed link, a new password, then signing in. */
  async function collaboratorSetsPassword(email: string, username: string, javaScript: boolean): Promise<void> {
    const mail = await lastMailTo(email);
    const { context, page } = await newPage({ javaScript });
    try {
      await page.goto(localLink(linkIn(mail)));
      expect(new URL(page.url()).pathname).to.equal('/password/new');
      await snap(page, `collaborator-${username.split('/')[0]}-set-password`);
      await page.fill('#password', GOOD_PASSWORD);
      await page.fill('#passwordConfirmation', GOOD_PASSWORD);
      await page.click('form[action="/password/new"] [type=submit]');
      await page.locator('a.button.primary[href="/login"]').waitFor();
      await snap(page, `collaborator-${username.split('/')[0]}-done`);
      await page.click('a.button.primary[href="/login"]');
      await page.fill('#username', username);
      await page.fill('#password', GOOD_PASSWORD);
      await Promise.all([page.waitForURL(`${base}/account`), page.click('form[action="/login"] [type=submit]')]);
      expect(await page.locator('main').textContent()).to.contain(username);
      await snap(page, `collaborator-${username.split('/')[0]}-account`);
    } finally {
      await context.close();
    }
  }

  async function ownerJourney(mode: Mode, javaScript: boolean): Promise<void> {
    const tag = `${mode}${javaScript ? '' : '-nojs'}`;
    const owner: Mailbox = await h.mailbox(`owner.${tag}@pec.example.it`);
    const anna = { firstName: 'Anna', lastName: 'Neri', username: `anna.${tag}`, email: `anna.${tag}@example.com` };
    const annaFull = `${anna.username}/${owner.address}`;
    const { context, page } = await newPage({ javaScript });
    try {
      await signIn(page, mode, owner.address, OWNER_PASSWORD);
      expect(new URL(page.url()).pathname).to.equal('/settings/collaborations');
      await snap(page, `${tag}-list-empty`);

      await addCollaborator(page, mode, anna);
      await expectStatus(page, annaFull, 'pending');
      await snap(page, `${tag}-added`);
      await collaboratorSetsPassword(anna.email, annaFull, javaScript);
      await page.reload();
      await expectStatus(page, annaFull, 'active');

      const sentBefore = sink.received.length;
      await choose(page, mode, annaFull, 'password-reset');
      await confirm(page, mode, 'reset');
      await expectStatus(page, annaFull, 'suspended');
      if (javaScript) expect(await getsFocus(row(page, annaFull).locator('.menu-button')), 'focus back on the menu button').to.equal(true);
      await snap(page, `${tag}-reset`);
      expect((await lastMailTo(anna.email)).subject).to.not.equal('');
      expect(sink.received.length).to.be.greaterThan(sentBefore);

      const beforeResend = sink.received.filter((m) => m.to.includes(anna.email)).length;
      await choose(page, mode, annaFull, 'password-link');
      await confirm(page, mode, 'resend');
      await row(page, annaFull).locator('.delivery').waitFor();
      await lastMailTo(anna.email);
      expect(sink.received.filter((m) => m.to.includes(anna.email)).length).to.equal(beforeResend + 1);
      await snap(page, `${tag}-resent`);

      await choose(page, mode, annaFull, 'deactivation');
      await confirm(page, mode, 'deactivate');
      await expectStatus(page, annaFull, 'deactivated');
      if (javaScript) expect(await getsFocus(row(page, annaFull).locator('.menu-button'))).to.equal(true);
      await snap(page, `${tag}-deactivated`);

    } finally {
      await context.close();
    }
  }

  // A test mocha gave up on (timed out) must not go on clicking during the next ones. The pair runs
  // in order: the first leaves a wait pending, as a timed-out test would; the second looks at it.
  describe('a test that ends with its browser work still pending', () => {
    let leftBehind: { page: Page; outcome: Promise<string> } | undefined;

    it('should leave its page waiting for an element that never comes', async () => {
      const { page } = await newPage();
      await page.goto(`${base}/login`);
      const outcome = page.locator('#never-there').waitFor({ timeout: 0 }).then(() => 'found', (e: Error) => e.message);
      leftBehind = { page, outcome };
      expect(page.isClosed()).to.equal(false);
    });

    it('should find that page closed and that wait ended when the next test starts', async () => {
      expect(leftBehind?.page.isClosed(), 'the earlier test’s page is closed').to.equal(true);
      expect(await leftBehind?.outcome).to.match(/the test that opened this context has ended/);
    });
  });

  describe('the owner', () => {
    it('should add, reset, resend and deactivate by mouse', async () => {
      await ownerJourney('mouse', true);
    });

    it('should do the same with the keyboard only', async () => {
      await ownerJourney('keyboard', true);
    });

    it('should do the same without JavaScript', async () => {
      await ownerJourney('mouse', false);
    });
  });

  describe('the three-dot menu', () => {
    it('should follow the WAI-ARIA menu button pattern', async () => {
      const { context, page } = await newPage();
      try {
        await signIn(page, 'keyboard', DEMO.mailbox, DEMO.password);
        const r = page.locator('tbody tr').first();
        const button = r.locator('button.menu-button');
        const items = r.locator('[role=menu] [role=menuitem]');
        expect(await button.getAttribute('aria-haspopup')).to.equal('menu');
        expect(await button.getAttribute('aria-expanded')).to.equal('false');
        const count = await items.count();
        expect(count).to.be.greaterThan(2);

        await tabTo(page, button);
        await page.keyboard.press('Enter');
        expect(await button.getAttribute('aria-expanded')).to.equal('true');
        expect(await isFocused(items.first()), 'Enter focuses the first item').to.equal(true);
        await snap(page, 'menu-open');
        await page.keyboard.press('ArrowDown');
        expect(await isFocused(items.nth(1))).to.equal(true);
        await page.keyboard.press('End');
        expect(await isFocused(items.last())).to.equal(true);
        await page.keyboard.press('ArrowDown');
        expect(await isFocused(items.first()), 'ArrowDown wraps').to.equal(true);
        await page.keyboard.press('ArrowUp');
        expect(await isFocused(items.last()), 'ArrowUp wraps').to.equal(true);
        await page.keyboard.press('Home');
        expect(await isFocused(items.first())).to.equal(true);
        await page.keyboard.press('Escape');
        expect(await button.getAttribute('aria-expanded')).to.equal('false');
        expect(await r.locator('[role=menu]').isVisible()).to.equal(false);
        expect(await isFocused(button), 'Escape returns focus').to.equal(true);

        await page.keyboard.press('Space');
        expect(await button.getAttribute('aria-expanded'), 'Space opens').to.equal('true');
        expect(await isFocused(items.first())).to.equal(true);
        await page.keyboard.press('Escape');
        await page.keyboard.press('ArrowUp');
        expect(await isFocused(items.last()), 'ArrowUp opens on the last item').to.equal(true);

        // An item opens its dialog; Escape closes it and focus returns to the menu button.
        await page.keyboard.press('Home');
        await page.keyboard.press('ArrowDown');
        await page.keyboard.press('Enter');
        await page.locator('dialog[open]').waitFor();
        await page.keyboard.press('Escape');
        await page.locator('dialog').waitFor({ state: 'detached' });
        expect(await isFocused(button), 'focus returns after the dialog').to.equal(true);
      } finally {
        await context.close();
      }
    });
  });

  describe('signing out', () => {
    for (const javaScript of [true, false]) {
      it(`should leave nothing of the list to go Back to${javaScript ? '' : ' without JavaScript'}`, async () => {
        const { page } = await newPage({ javaScript });
        await signIn(page, 'mouse', DEMO.mailbox, DEMO.password);
        await page.locator('tbody tr', { hasText: 'Bianchi' }).waitFor();
        await Promise.all([page.waitForURL((u) => u.pathname === '/login'), page.locator('.topbar-signout [type=submit]').click()]);
        await page.goBack();
        await snap(page, `signed-out-back${javaScript ? '' : '-nojs'}`);
        // With JavaScript, htmx restores history by asking the server again: the sign-in form comes
        // back under the list's address. Either way, nothing of the list.
        await page.locator('form[action="/login"]').waitFor();
        expect(await page.content()).to.not.include('Bianchi');
      });
    }
  });

  describe('the collaborator', () => {
    for (const javaScript of [true, false]) {
      it(`should go from the emailed link to signing in${javaScript ? '' : ' without JavaScript'}`, async () => {
        const mailbox = await h.mailbox(`links.${javaScript ? 'js' : 'nojs'}@pec.example.it`);
        const email = `carla.${javaScript ? 'js' : 'nojs'}@example.com`;
        const actor = { type: 'owner' as const, id: mailbox.id, name: mailbox.address };
        const c = await h.domain.collaborations.create(
          mailbox,
          { firstName: 'Carla', lastName: 'Riva', username: 'carla.riva', referenceEmail: email, accessLevel: 'mail_clients', manageSettings: false },
          { actor },
        );
        await collaboratorSetsPassword(email, c.username, javaScript);
      });
    }
  });

  describe('accessibility (axe-core, WCAG 2.2 AA)', () => {
    type Language = (typeof LANGUAGES)[number];

    /** Checks the page as it is, once, at the width of its context. */
    async function audit(page: Page, name: string, language: Language): Promise<void> {
      await expectAccessible(page, `${name} (${language}, ${page.viewportSize()?.width} px)`, language);
      await snap(page, `axe-${language}-${name}`);
    }

    async function signedIn(username: string, password: string, language: Language, width: number): Promise<Page> {
      const { page } = await newPage({ width });
      await signIn(page, 'mouse', username, password);
      await chooseLanguage(page, language);
      return page;
    }

    async function demoId(username: string): Promise<number> {
      const found = await h.db.models.Collaborator.findOne({ where: { username: `${username}/${DEMO.mailbox}` } });
      if (!found) throw new Error(`the demo has no ${username}`);
      return found.id;
    }

    /** Every page, in groups that each start from a fresh browser context. */
    const groups: Array<{ pages: string; check: (language: Language, width: number) => Promise<void> }> = [
      {
        pages: 'the sign-in and link pages of a visitor',
        async check(language, width) {
          const { page } = await newPage({ width });
          await page.goto(`${base}/login`);
          await chooseLanguage(page, language);
          await audit(page, 'login', language);
          await page.fill('#username', DEMO.mailbox);
          await page.fill('#password', 'not the password');
          await page.click('form[action="/login"] [type=submit]');
          await page.locator('#login-error').waitFor();
          await audit(page, 'login-failed', language);
          await page.goto(`${base}/password/forgot`);
          await audit(page, 'forgot-password', language);
          await page.goto(`${base}/password/${'x'.repeat(43)}`);
          await audit(page, 'invalid-link', language);
        },
      },
      {
        pages: "the owner's settings pages",
        async check(language, width) {
          const page = await signedIn(DEMO.mailbox, DEMO.password, language, width);
          await audit(page, 'list', language);
          await page.goto(`${base}/settings/collaborations/new`);
          await page.click('#collaborator-form [type=submit]');
          await page.locator('.field-error').first().waitFor();
          await audit(page, 'add-form-errors', language);
          for (const other of ['activity', 'access-history', 'password']) {
            await page.goto(`${base}/settings/${other}`);
            await audit(page, other, language);
          }
          await page.goto(`${base}/settings/collaborations/${await demoId('giulia.bianchi')}`);
          await audit(page, 'details', language);
        },
      },
      {
        pages: 'the confirmations, as pages and as a dialog over the list',
        async check(language, width) {
          const page = await signedIn(DEMO.mailbox, DEMO.password, language, width);
          const confirmations: Array<[string, string]> = [
            ['giulia.bianchi', 'password-reset'],
            ['luca.esposito', 'password-link'],
            ['giulia.bianchi', 'deactivation'],
            ['giulia.bianchi', 'recreation'],
            ['paolo.colombo', 'removal'],
          ];
          for (const [who, name] of confirmations) {
            await page.goto(`${base}/settings/collaborations/${await demoId(who)}/${name}`);
            await audit(page, name, language);
          }
          await page.goto(`${base}/settings/collaborations`);
          const giulia = row(page, `giulia.bianchi/${DEMO.mailbox}`);
          await giulia.locator('.menu-button').click();
          await snap(page, `axe-${language}-menu`);
          await giulia.locator('a[href$="/deactivation"]').click();
          await page.locator('dialog[open]').waitFor();
          await audit(page, 'dialog', language);
        },
      },
      {
        pages: "the link holder's pages",
        async check(language, width) {
          const mailbox = await h.db.models.Mailbox.findOne({ where: { address: DEMO.mailbox } });
          if (!mailbox) throw new Error('the demo mailbox is missing');
          const email = `holder.${language}@example.com`;
          await h.domain.collaborations.create(
            mailbox,
            { firstName: 'Dario', lastName: 'Fo', username: `holder.${language}`, referenceEmail: email, accessLevel: 'mail_clients', manageSettings: false },
            { actor: { type: 'owner', id: mailbox.id, name: mailbox.address } },
          );
          const { page } = await newPage({ width });
          await page.goto(localLink(linkIn(await lastMailTo(email))));
          await chooseLanguage(page, language);
          await audit(page, 'set-password', language);
          await page.fill('#password', 'short');
          await page.click('form[action="/password/new"] [type=submit]');
          await page.locator('.field-error').first().waitFor();
          await audit(page, 'set-password-errors', language);
          await page.fill('#password', GOOD_PASSWORD);
          await page.fill('#passwordConfirmation', GOOD_PASSWORD);
          await page.click('form[action="/password/new"] [type=submit]');
          await page.locator('a.button.primary[href="/login"]').waitFor();
          await audit(page, 'done', language);
        },
      },
      {
        pages: "the collaborator's account page",
        async check(language, width) {
          const page = await signedIn(`giulia.bianchi/${DEMO.mailbox}`, DEMO.collaboratorPassword, language, width);
          await audit(page, 'account', language);
        },
      },
    ];

    // Each page is audited once per language, at one width. The widths alternate, so that every page
    // is seen at phone and at desktop width across the languages, and every language at both.
    LANGUAGES.forEach((language, l) => {
      groups.forEach((group, g) => {
        const width = WIDTHS[(l + g) % WIDTHS.length] as number;
        it(`should find no violation on ${group.pages} in ${language} at ${width} px`, () => group.check(language, width));
      });
    });
  });
  describe("the mail-program settings on the collaborator's account page", function () {
    // The longest chosen name there is (40 characters), on a 360 px phone.
    const chosen = 'giovanni.battista.della.rovere-montefelt';

    before(async function () {
      expect(chosen).to.have.length(40);
      const mailbox = (await h.db.models.Mailbox.findOne({ where: { address: DEMO.mailbox } })) as Mailbox;
      const giovanni = await collaboratorIn(h, mailbox, 'active', { firstName: 'Giovanni', lastName: 'Della Rovere', username: chosen, referenceEmail: 'giovanni@example.com', accessLevel: 'mail_clients', manageSettings: false });
      // The labels below are Italian; the account takes the mailbox's language, which the axe tests change.
      await giovanni.update({ locale: 'it' });
    });

    it('should fit the set-password page and its done page in 360 px with a 40-character name without a hyphen to break at', async function () {
      const mailbox = (await h.db.models.Mailbox.findOne({ where: { address: DEMO.mailbox } })) as Mailbox;
      const pending = await collaboratorIn(h, mailbox, 'pending', { firstName: 'Giovanni', lastName: 'Della Rovere', username: chosen.replace('-', '.'), referenceEmail: 'giovanni.x@example.com', accessLevel: 'mail_clients', manageSettings: false });
      const { page } = await newPage({ width: 360, javaScript: true });
      await page.goto(`${base}/password/${await latestLinkToken(h, pending)}`);
      expect(await page.evaluate('document.documentElement.scrollWidth'), 'the set-password page').to.be.at.most(360);
      for (const field of await page.locator('input[data-password]').all()) await field.fill(GOOD_PASSWORD);
      await page.locator('form.form button[type="submit"]').click();
      await page.locator('#mail-setup').waitFor();
      await snap(page, 'password-done-360');
      expect(await page.evaluate('document.documentElement.scrollWidth'), 'the done page').to.be.at.most(360);
    });

    for (const [mode, javaScript] of [['mouse', true], ['keyboard', false]] as const) {
      it(`should create an app password in 360 px, show it once and revoke it, by ${mode}${javaScript ? ', copying it with its button' : ' without JavaScript'}`, async function () {
        const { context, page } = await newPage({ width: 360, javaScript });
        if (javaScript) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
        await signIn(page, mode, `${chosen}/${DEMO.mailbox}`, GOOD_PASSWORD);
        await page.goto(`${base}/account`);
        const device = `Telefono di ${mode}`;
        await fill(page, mode, page.locator('#app-password-name'), device);
        if (mode === 'mouse') await page.getByLabel('Solo leggere (IMAP, POP3)').check();
        await activate(page, mode, page.getByRole('button', { name: 'Crea la password per le app' }));
        const shown = page.locator('#created-app-password');
        await shown.waitFor();
        await snap(page, `app-password-created-360-${mode}`);
        expect(await page.evaluate('document.documentElement.scrollWidth'), 'no sideways scrolling').to.be.at.most(360);
        const password = (await shown.getAttribute('data-value')) as string;
        expect(password).to.match(/^[a-km-np-z2-9]{5}(-[a-km-np-z2-9]{5}){4}$/);
        expect(await shown.textContent()).to.equal(password);
        const copy = page.getByRole('button', { name: 'Copia la password per le app' });
        if (javaScript) {
          await copy.click();
          expect(await page.evaluate('navigator.clipboard.readText()')).to.equal(password);
        } else {
          expect(await copy.isVisible()).to.equal(false);
        }
        const row = page.locator('#app-passwords tbody tr', { hasText: device });
        expect(await row.textContent()).to.include(mode === 'mouse' ? 'Solo leggere' : 'Leggere e inviare').and.include('mai usata');
        await Promise.all([page.waitForURL(`${base}/account#app-passwords`), activate(page, mode, page.getByRole('button', { name: `Revoca la password per le app “${device}”` }))]);
        expect(await page.locator('#created-app-password').count(), 'shown once').to.equal(0);
        expect(await page.content()).to.not.include(password);
        expect(await page.locator('#app-passwords tbody tr', { hasText: device }).count()).to.equal(0);
        expect(await page.locator('p.notice').textContent()).to.include(`“${device}” è stata revocata`);
      });
    }

    for (const javaScript of [true, false]) {
      it(`should fit 360 px, breaking long values only after "/", "@" or ".", ${javaScript ? 'with copy buttons that copy' : 'as selectable text without JavaScript'}`, async function () {
        const { context, page } = await newPage({ width: 360, javaScript });
        if (javaScript) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
        await signIn(page, 'mouse', `${chosen}/${DEMO.mailbox}`, GOOD_PASSWORD);
        await page.goto(`${base}/account`);
        await snap(page, `mail-setup-360-${javaScript ? 'js' : 'no-js'}`);
        expect(await page.evaluate('document.documentElement.scrollWidth'), 'no sideways scrolling').to.be.at.most(360);
        const login = page.locator('code[data-field="login"]');
        expect(await login.getAttribute('data-value')).to.equal(`${chosen}/${DEMO.mailbox}`);
        // Each piece between two break points is one span: none may itself be split across lines.
        const split = await page.evaluate<string[]>(`(() => {
          const code = document.querySelector('code[data-field="login"]');
          return [...code.querySelectorAll('span')].filter((node) => {
            const range = document.createRange();
            range.selectNodeContents(node);
            return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1;
          }).map((node) => node.textContent);
        })()`);
        expect(split, 'pieces broken inside').to.deep.equal([]);
        expect((await login.boundingBox())!.height, 'the login wraps onto several lines').to.be.greaterThan(30);
        // Words to follow (the password, the authentication) are not shown as values to type.
        expect(await page.locator('code.setup-value').allTextContents()).to.not.include.members(['la tua password', 'your password']);
        const names = await page.locator('button[data-copy]').evaluateAll((buttons) => buttons.map((b) => b.getAttribute('aria-label')));
        expect(new Set(names).size, `each copy button says what it copies: ${names.join(' | ')}`).to.equal(names.length);
        const copy = page.locator('button[data-copy]').nth(1);
        if (javaScript) {
          await copy.click();
          expect(await page.evaluate('navigator.clipboard.readText()')).to.equal(`${chosen}/${DEMO.mailbox}`);
          expect(await copy.textContent()).to.not.equal('');
        } else {
          expect(await copy.isVisible()).to.equal(false);
          expect(await login.isVisible()).to.equal(true);
        }
      });
    }
  });
});
