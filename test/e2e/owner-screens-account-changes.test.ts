import path from 'node:path';
import { expect } from 'chai';
import type { Locator, Page } from 'playwright-core';
import { chooseLanguage, expectAccessible } from '../support/axe';
import { chromiumPerSuite, screenshots, signInThroughForm } from '../support/chromium';
import { OWNER_PASSWORD, servedPerSuite, type Harness } from '../support/harness';
import { SmtpSink } from '../support/smtp-sink';
import { collaboratorIn } from '../support/accounts';
import { translator } from '../../src/i18n';
import type { Collaborator, Mailbox, Status } from '../../src/models';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts', 'account-changes');
const LANGUAGES = ['it', 'en', 'es'] as const;
const WIDTHS = [360, 1280] as const;
const t = translator('it');

/** The list, at a row (`#collaborator-<id>`): where an action made from the list comes back to. */
const atTheList = (url: URL) => url.pathname === '/settings/collaborations' && /^#collaborator-\d+$/.test(url.hash);

describe('The owner corrects an account: wrong email, reactivation, names, details (Chromium)', function () {
  this.timeout(120_000);
  const chromium = chromiumPerSuite();
  const snap = screenshots(ARTIFACTS);
  let h: Harness;
  let sink: SmtpSink;
  let base = '';
  let mailboxes = 0;

  before(async () => {
    sink = await new SmtpSink().start();
  });
  servedPerSuite(() => ({ SMTP_URL: sink.url }), (harness, url) => {
    h = harness;
    base = url;
  });
  before(async () => {
  });

  after(async () => {
    await sink?.stop();
  });

  /** A mailbox of its own for each test, with Bruno Gallo in `status`, added with a mistyped reference email. */
  async function ownerWith(status: Status, username = 'bruno.gallo'): Promise<{ mailbox: Mailbox; bruno: Collaborator; wrong: string }> {
    const mailbox = await h.mailbox(`owner${++mailboxes}@pec.example.it`);
    const wrong = `${username}.${mailboxes}@exampel.com`;
    const bruno = await collaboratorIn(h, mailbox, status, { firstName: 'Bruno', lastName: 'Gallo', username, referenceEmail: wrong, accessLevel: 'mail_clients', manageSettings: false });
    await h.drain();
    return { mailbox, bruno, wrong };
  }

  async function signedIn(mailbox: Mailbox, { javaScript = true, width = 1280 } = {}): Promise<Page> {
    const { page } = await chromium.newPage({ javaScript, width });
    await signInThroughForm(page, base, mailbox.address, OWNER_PASSWORD);
    return page;
  }

  const row = (page: Page, username: string): Locator => page.locator('tbody tr', { hasText: username });

  /** Picks an item of the row's three-dot menu: with JavaScript a dialog opens, without it a page. */
  async function choose(page: Page, username: string, action: string, javaScript: boolean): Promise<Locator> {
    const r = row(page, username);
    await r.locator('.menu-button').click();
    const item = r.locator(`.menu-list a[href$="/${action}"]`);
    await item.click();
    if (!javaScript) await page.waitForURL((u) => u.pathname.endsWith(`/${action}`));
    const dialog = page.locator(javaScript ? 'dialog[open]' : 'dialog');
    await dialog.waitFor();
    return dialog;
  }

  const mailsTo = (address: string) => sink.received.filter((m) => m.envelopeTo.includes(address) || m.to.includes(address));

  for (const javaScript of [true, false]) {
    const how = javaScript ? 'with JavaScript' : 'without JavaScript';
    // axe runs in the page: without JavaScript the same pages are audited by the last tests, as pages.
    const audit = (page: Page, where: string) => (javaScript ? expectAccessible(page, where, 'it') : Promise.resolve());

    it(`should correct a wrong reference email in one form, and send nothing more to the wrong address (${how})`, async () => {
      const { mailbox, bruno, wrong } = await ownerWith('active');
      const right = `bruno.${mailboxes}@example.com`;
      const before = mailsTo(wrong).length;
      expect(before, 'the invitation and the password notice reached the wrong address').to.equal(2);
      const page = await signedIn(mailbox, { javaScript });

      const dialog = await choose(page, bruno.username, 'recreation', javaScript);
      expect(await dialog.locator('h2').textContent()).to.equal(t('recreate.account.title', { name: 'Bruno Gallo' }));
      await audit(page, `recreate form ${how}`);
      await snap(page, `recreate-form-${javaScript ? 'js' : 'nojs'}`);

      // The same address again: the form comes back with its error, and the account is untouched.
      await page.fill('#referenceEmail', wrong.toUpperCase());
      await page.click('#recreate-form [type=submit]');
      await page.locator('#referenceEmail-error').waitFor();
      expect(await page.locator('#referenceEmail-error').textContent()).to.equal(t('errors.email_unchanged'));
      expect(await page.getAttribute('#referenceEmail', 'aria-invalid')).to.equal('true');
      await audit(page, `recreate form with its error ${how}`);
      expect(await h.db.models.Collaborator.findByPk(bruno.id)).not.to.equal(null);

      await page.fill('#referenceEmail', right);
      await Promise.all([page.waitForURL(atTheList), page.click('#recreate-form [type=submit]')]);
      const r = row(page, bruno.username);
      await r.locator('.badge-pending').waitFor();
      expect(await r.getAttribute('id')).not.to.equal(`collaborator-${bruno.id}`);
      expect(await r.locator('.email').textContent()).to.equal(right);
      expect(await page.locator('.notice').textContent()).to.contain('Bruno Gallo');
      expect(await page.locator('tbody tr').count(), 'no dead row left').to.equal(1);
      await snap(page, `recreated-${javaScript ? 'js' : 'nojs'}`);

      await h.drain();
      expect(mailsTo(wrong).length, 'nothing more to the wrong address').to.equal(before);
      expect(mailsTo(right).map((m) => m.text).join('\n')).to.contain(bruno.username);
    });

    it(`should word a pending invitation's correction as "correct and resend" (${how})`, async () => {
      const { mailbox, bruno } = await ownerWith('pending');
      const page = await signedIn(mailbox, { javaScript });
      expect(await row(page, bruno.username).locator('.menu-list a[href$="/recreation"]').textContent()).to.equal(t('menu.correctInvitation'));
      const dialog = await choose(page, bruno.username, 'recreation', javaScript);
      expect(await dialog.locator('[type=submit]').textContent()).to.equal(t('recreate.pending.submit'));
      await page.fill('#referenceEmail', `bruno.${mailboxes}@example.com`);
      await Promise.all([page.waitForURL(atTheList), page.click('#recreate-form [type=submit]')]);
      expect(await page.locator('.notice').textContent()).to.equal(t('notice.invitationCorrected', { name: 'Bruno Gallo' }));
    });

    it(`should reactivate a deactivated account with a new invitation (${how})`, async () => {
      const { mailbox, bruno, wrong } = await ownerWith('deactivated');
      const before = mailsTo(wrong).length;
      const page = await signedIn(mailbox, { javaScript });
      const dialog = await choose(page, bruno.username, 'reactivation', javaScript);
      await audit(page, `reactivation ${how}`);
      await dialog.locator('[type=submit]').click();
      await row(page, bruno.username).locator('.badge-pending').waitFor();
      await snap(page, `reactivated-${javaScript ? 'js' : 'nojs'}`);
      await h.drain();
      expect(mailsTo(wrong).length).to.equal(before + 1);
      expect(mailsTo(wrong).at(-1)?.text).to.contain('/password/');
    });

    it(`should edit a name from the list's menu (${how})`, async () => {
      const { mailbox, bruno } = await ownerWith('active');
      const page = await signedIn(mailbox, { javaScript });
      await choose(page, bruno.username, 'name', javaScript);
      expect(await page.inputValue('#lastName')).to.equal('Gallo');
      await audit(page, `name form ${how}`);
      await page.fill('#lastName', ' ');
      await page.click('#name-form [type=submit]');
      await page.locator('#lastName-error').waitFor();
      await audit(page, `name form with its error ${how}`);
      await page.fill('#lastName', 'Galli');
      await Promise.all([page.waitForURL(atTheList), page.click('#name-form [type=submit]')]);
      expect(await row(page, bruno.username).locator('td').first().textContent()).to.contain('Bruno Galli');
    });

    it(`should offer the account's actions on its details page, and show the permissions once (${how})`, async () => {
      const { mailbox, bruno } = await ownerWith('active');
      const page = await signedIn(mailbox, { javaScript });
      const details = `${base}/settings/collaborations/${bruno.id}`;
      await page.goto(details);
      const actions = page.locator('.detail-actions a');
      expect(await actions.allTextContents()).to.deep.equal([t('menu.rename'), t('menu.reset'), t('menu.wrongEmail'), t('menu.deactivate')]);
      expect(await page.locator('input[name=accessLevel]:checked').count(), 'the access level, once').to.equal(1);
      expect(await page.locator('dl.facts').count(), 'no second list of the permissions').to.equal(1);
      await audit(page, `details ${how}`);
      await snap(page, `details-${javaScript ? 'js' : 'nojs'}`);

      await page.click(`.detail-actions a[href*="/name"]`);
      await page.fill('#firstName', 'Brunella');
      await Promise.all([page.waitForURL(details), page.click('#name-form [type=submit]')]);
      expect(await page.locator('h1').textContent()).to.contain('Brunella Gallo');

      await page.click(`.detail-actions a[href*="/deactivation"]`);
      await Promise.all([page.waitForURL(details), page.click('dialog [type=submit]')]);
      await page.locator('h1 .badge-deactivated').waitFor();
      expect(await actions.allTextContents()).to.deep.equal([t('menu.reactivate'), t('menu.remove')]);
      expect(await page.locator('dl.facts').count(), 'the permissions as facts once they cannot change').to.equal(2);

      await page.click(`.detail-actions a[href*="/reactivation"]`);
      await Promise.all([page.waitForURL(details), page.click('dialog [type=submit]')]);
      await page.locator('h1 .badge-pending').waitFor();
    });
  }

  LANGUAGES.forEach((language, l) => {
    const width = WIDTHS[l % WIDTHS.length] as number;
    it(`should find no violation on the new forms and the details page in ${language} at ${width} px`, async () => {
      const { mailbox, bruno } = await ownerWith('active');
      const paolo = await collaboratorIn(h, mailbox, 'deactivated', { firstName: 'Paolo', lastName: 'Colombo', username: 'paolo', referenceEmail: 'paolo@example.com', accessLevel: 'read', manageSettings: false });
      const page = await signedIn(mailbox, { width });
      await chooseLanguage(page, language);
      const where = (name: string) => `${name} (${language}, ${width} px)`;
      for (const url of [`${bruno.id}/recreation`, `${bruno.id}/name`, `${paolo.id}/reactivation`, `${bruno.id}`, `${paolo.id}`]) {
        expect((await page.goto(`${base}/settings/collaborations/${url}`))?.status(), where(url)).to.equal(200);
        expect(await page.locator('#recreate-form, #name-form, #confirm-dialog form, .detail-actions').count(), where(url)).to.equal(1);
        await expectAccessible(page, where(url), language);
        await snap(page, `axe-${language}-${url.replace('/', '-')}`);
      }
      await page.goto(`${base}/settings/collaborations`);
      await (await choose(page, bruno.username, 'recreation', true)).locator('#recreate-form').waitFor();
      await expectAccessible(page, where('recreate dialog'), language);
    });
  });
});
