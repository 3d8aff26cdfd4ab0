import crypto from 'node:crypto';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { chooseLanguage, expectAccessible } from '../support/axe';
import { isFocused } from '../support/keyboard';
import { chromiumPerSuite, screenshots } from '../support/chromium';
import { DATABASES, type TestDatabase } from '../support/databases';
import { GOOD_PASSWORD, OWNER_PASSWORD, startHarness, type Harness } from '../support/harness';
import { collaboratorIn } from '../support/accounts';
import type { Mailbox } from '../../src/models';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts', 'passkeys');
const LANGUAGES = ['it', 'en', 'es'] as const;

type Language = (typeof LANGUAGES)[number];

for (const { name, create } of DATABASES) {
  describe(`Passkeys in Chromium with its virtual authenticator (${name})`, function () {
    this.timeout(120_000);
    const chromium = chromiumPerSuite();
    let database: TestDatabase;
    let h: Harness;
    let server: http.Server;
    let base = '';
    let mailbox: Mailbox;

    // WebAuthn needs a secure context whose host is the RP ID: the app is served, and configured,
    // as http://localhost:<port>. The port is taken first, so BASE_URL can name it.
    before(async () => {
      server = http.createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://localhost:${(server.address() as AddressInfo).port}`;
      database = await create();
      h = await startHarness(database.url, { BASE_URL: base });
      server.on('request', h.app);
      mailbox = await h.mailbox('studio.passkey@pec.example.it');
    });

    after(async () => {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      await h?.close();
      await database?.drop();
    });

    const newPage = ({ language = 'it', ...options }: { javaScript?: boolean; width?: number; language?: Language } = {}) =>
      chromium.newPage({ ...options, locale: { it: 'it-IT', en: 'en-GB', es: 'es-ES' }[language] });

    /** A virtual platform authenticator (CDP WebAuthn domain) for the page, which unlocks its passkeys until told otherwise. */
    async function addAuthenticator(context: BrowserContext, page: Page): Promise<{ remove(): Promise<void>; refuseUserVerification(): Promise<void> }> {
      const cdp = await context.newCDPSession(page);
      await cdp.send('WebAuthn.enable', { enableUI: false });
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
      });
      return {
        async remove() {
          await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId });
        },
        async refuseUserVerification() {
          await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
        },
      };
    }

    const snap = screenshots(ARTIFACTS, `${name}-`);

    async function signInWithPassword(page: Page, username: string, password: string): Promise<void> {
      await page.goto(`${base}/login`);
      await page.fill('#username', username);
      await page.fill('#password', password);
      await Promise.all([page.waitForURL((u) => u.pathname !== '/login'), page.click('form[action="/login"] [type=submit]')]);
    }

    async function signOut(page: Page): Promise<void> {
      await Promise.all([page.waitForURL(`${base}/login`), page.click('.topbar-signout [type=submit]')]);
    }


    /** Keyboard only: Tab until the element has focus, then Enter. */
    async function pressWithKeyboard(page: Page, locator: Locator): Promise<void> {
      for (let i = 0; i < 60 && !(await isFocused(locator)); i++) await page.keyboard.press('Tab');
      expect(await isFocused(locator), `${locator.toString()} reached with Tab`).to.equal(true);
      await page.keyboard.press('Enter');
    }

    /**
     * Adds a passkey on the settings page: the first one leads to the recovery codes (returned),
     * a later one back to the settings with a notice.
     */
    async function addPasskey(page: Page, passkeyName: string, first: boolean): Promise<string[]> {
      await page.goto(`${base}/settings/two-step`);
      await page.fill('#passkey-name', passkeyName);
      await page.click('#passkey-add [type=submit]');
      await page.locator(first ? '#recovery-codes' : '.notice').waitFor();
      return page.locator('#recovery-codes code').allTextContents();
    }


    for (const who of ['owner', 'collaborator'] as const) {
      it(`should let ${who === 'owner' ? 'the owner' : 'a collaborator'} add a passkey, sign in with it${who === 'collaborator' ? ' by keyboard' : ''}, and remove it once another factor exists`, async () => {
        const username =
          who === 'owner'
            ? mailbox.address
            : (await collaboratorIn(h, mailbox, 'active', { firstName: 'Anna', lastName: 'Neri', username: 'anna.passkey', referenceEmail: 'anna@example.com', accessLevel: 'read', manageSettings: false })).username;
        const password = who === 'owner' ? OWNER_PASSWORD : GOOD_PASSWORD;
        const home = who === 'owner' ? '/settings/collaborations' : '/account';
        const { context, page } = await newPage();
        const authenticator = await addAuthenticator(context, page);

        await signInWithPassword(page, username, password);
        const codes = await addPasskey(page, 'Portatile di prova', true);
        await snap(page, `${who}-recovery-codes`);
        expect(new URL(page.url()).pathname).to.equal('/settings/two-step/passkeys');
        expect(codes).to.have.length(10);

        await Promise.all([page.waitForURL(`${base}/settings/two-step`), page.click('a.button.primary[href="/settings/two-step"]')]);
        expect(await page.locator('.passkey-name').allTextContents()).to.deep.equal(['Portatile di prova']);
        await snap(page, `${who}-settings-with-passkey`);
        await signOut(page);

        await signInWithPassword(page, username, password);
        expect(new URL(page.url()).pathname).to.equal('/login/two-step');
        await snap(page, `${who}-second-step`);
        const use = page.locator('#passkey-sign-in [type=submit]');
        if (who === 'collaborator') await Promise.all([page.waitForURL(`${base}${home}`), pressWithKeyboard(page, use)]);
        else await Promise.all([page.waitForURL(`${base}${home}`), use.click()]);
        await snap(page, `${who}-home`);

        // The only second factor cannot go.
        await page.goto(`${base}/settings/two-step`);
        await page.click('.passkey form [type=submit]');
        await page.locator('#passkeys-error').waitFor();
        expect(await page.locator('.passkey-name').count()).to.equal(1);
        await snap(page, `${who}-removal-refused`);

        // A second passkey on another device; then the first one goes.
        await authenticator.remove();
        await addAuthenticator(context, page);
        expect(await addPasskey(page, 'Telefono', false)).to.deep.equal([]);
        await page.locator('.passkey-name', { hasText: 'Telefono' }).waitFor();
        await Promise.all([page.waitForURL(`${base}/settings/two-step`), page.locator('.passkey', { hasText: 'Portatile di prova' }).locator('[type=submit]').click()]);
        expect(await page.locator('.passkey-name').allTextContents()).to.deep.equal(['Telefono']);
        await snap(page, `${who}-removed`);
      });
    }

    /**
     * A collaborator with a passkey on another device (no virtual authenticator here holds it) and
     * its recovery codes: for the pages a browser sees before and after the second step.
     */
    async function collaboratorWithPasskeyElsewhere(chosen: string): Promise<{ username: string; codes: string[] }> {
      const c = await collaboratorIn(h, mailbox, 'active', { firstName: 'Carla', lastName: 'Conti', username: chosen, referenceEmail: `${chosen}@example.com`, accessLevel: 'read', manageSettings: false });
      const credentialId = crypto.randomBytes(16).toString('base64url');
      const codes = await h.domain.twoStep.addFactor(
        { type: 'collaborator', collaborator: c, mailbox },
        { kind: 'passkey', name: 'Chiave USB', credentialId, credentialKey: crypto.createHash('sha256').update(credentialId).digest('hex'), publicKey: 'AQ', signCount: 0, transports: 'usb' },
      );
      return { username: c.username, codes: codes ?? [] };
    }

    it('should say so, and stay on the page, when the passkey is not unlocked', async () => {
      const c = await collaboratorIn(h, mailbox, 'active', { firstName: 'Dario', lastName: 'Fo', username: 'dario.rifiuta', referenceEmail: 'dario@example.com', accessLevel: 'read', manageSettings: false });
      const { context, page } = await newPage({ width: 360 });
      const authenticator = await addAuthenticator(context, page);
      await signInWithPassword(page, c.username, GOOD_PASSWORD);
      await addPasskey(page, 'Telefono', true);
      await page.goto(`${base}/account`);
      await signOut(page);
      await signInWithPassword(page, c.username, GOOD_PASSWORD);
      // The fingerprint or PIN is refused from now on: the browser answers NotAllowedError.
      await authenticator.refuseUserVerification();
      await page.click('#passkey-sign-in [type=submit]');
      const message = page.locator('#passkey-sign-in [data-passkey-message]:not([hidden])');
      await message.waitFor();
      expect(await message.textContent()).to.contain('La passkey non è stata usata');
      expect(new URL(page.url()).pathname).to.equal('/login/two-step');
      expect(await page.locator('#passkey-sign-in [type=submit]').isEnabled()).to.equal(true);
      await snap(page, 'passkey-not-unlocked');
    });

    it('should hide the passkey button without JavaScript, explain why, and take a code', async () => {
      const { username, codes } = await collaboratorWithPasskeyElsewhere('carla.senzajs');
      const { page } = await newPage({ javaScript: false });
      await signInWithPassword(page, username, GOOD_PASSWORD);
      expect(await page.locator('#passkey-sign-in').isVisible()).to.equal(false);
      expect(await page.locator('main').textContent()).to.contain('Le passkey richiedono JavaScript');
      await snap(page, 'second-step-without-javascript');
      await page.fill('#code', codes[0] as string);
      await Promise.all([page.waitForURL(`${base}/account`), page.click('form[action="/login/two-step"] [type=submit]')]);
      await page.goto(`${base}/settings/two-step`);
      expect(await page.locator('#passkey-add').isVisible()).to.equal(false);
      expect(await page.locator('main').textContent()).to.contain('Per aggiungere una passkey serve JavaScript');
    });

    describe('accessibility (axe-core, WCAG 2.2 AA) at 360 px', () => {
      async function audit(page: Page, label: string, language: Language): Promise<void> {
        await expectAccessible(page, `${label} (${language})`, language);
        const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth');
        expect(overflow, `${label} (${language}) wider than the screen`).to.be.at.most(0);
        await snap(page, `axe-${language}-${label}`);
      }

      for (const language of LANGUAGES) {
        it(`should find no violation on the second step and the settings with passkeys in ${language}`, async () => {
          const { username, codes } = await collaboratorWithPasskeyElsewhere(`carla.axe.${language}`);
          const { page } = await newPage({ width: 360, language });
          await signInWithPassword(page, username, GOOD_PASSWORD);
          await page.locator('#passkey-sign-in:not([hidden])').waitFor();
          await audit(page, 'second-step', language);
          await page.fill('#code', codes[0] as string);
          await Promise.all([page.waitForURL(`${base}/account`), page.click('form[action="/login/two-step"] [type=submit]')]);
          await page.goto(`${base}/settings/two-step`);
          await chooseLanguage(page, language);
          await page.locator('#passkey-add:not([hidden])').waitFor();
          await audit(page, 'settings', language);
          await page.click('.passkey form [type=submit]');
          await page.locator('#passkeys-error').waitFor();
          await audit(page, 'settings-removal-refused', language);
        });
      }
    });
  });
}
