import { expect } from 'chai';
import { expectAccessible } from '../support/axe';
import { chromiumPerSuite, signInThroughForm } from '../support/chromium';
import { OWNER_PASSWORD, WIDE_LIMITS, servedPerSuite, type Harness } from '../support/harness';
import type { Mailbox } from '../../src/models';
import { addressLinks } from '../support/accounts';

const MAILBOX = 'studio.rossi@pec.example.it';

// A real browser is slow to start: SQLite only, as the other browser suites.
describe('Notification settings in a real browser (Chromium)', function () {
  this.timeout(120_000);
  const chromium = chromiumPerSuite();
  let h: Harness;
  let base = '';
  let mailbox: Mailbox;

  servedPerSuite(() => WIDE_LIMITS, (harness, url) => {
    h = harness;
    base = url;
  });
  before(async function () {
    mailbox = await h.mailbox(MAILBOX);
  });
  beforeEach(async function () {
    await h.db.models.NoticeSetting.destroy({ where: {} });
  });

  for (const width of [360, 1280]) {
    it(`should let the owner choose a daily digest at 18:00 to another address, confirmed by its link, and keep it (${width} px)`, async function () {
      const { page } = await chromium.newPage({ width });
      await signInThroughForm(page, base, MAILBOX, OWNER_PASSWORD);
      await Promise.all([page.waitForURL((u) => u.pathname === '/settings/collaborations/notifications'), page.click('a[href="/settings/collaborations/notifications"]')]);
      await expectAccessible(page, `notifications at ${width} px`, 'it');
      expect(await page.isChecked('input[name=delivery][value=immediate]')).to.equal(true);
      await page.fill('#address', 'segreteria@example.com');
      await page.check('input[name=delivery][value=digest]');
      await page.selectOption('#digestHour', '18');
      await page.uncheck('input[name=events][value=new_mail_device]');
      await Promise.all([page.waitForURL((u) => u.pathname === '/settings/collaborations/notifications'), page.click('#notifications-form [type=submit]')]);
      await page.waitForSelector('#notifications-form');
      await expectAccessible(page, `notifications saved at ${width} px`, 'it');
      expect(await page.inputValue('#address')).to.equal('segreteria@example.com');
      expect(await page.textContent('#address-pending')).to.contain('In attesa di conferma');
      expect(await page.isChecked('input[name=delivery][value=digest]')).to.equal(true);
      expect(await page.inputValue('#digestHour')).to.equal('18');
      expect(await page.isChecked('input[name=events][value=new_mail_device]')).to.equal(false);
      expect(await h.domain.ownerNotices.choices(mailbox)).to.include({ address: MAILBOX, digestHour: 18 });
      // The link the email carries, opened by the owner signed in: a page that asks, then the change.
      const link = (await addressLinks(h, mailbox)).at(-1) as string;
      await page.goto(`${base}${new URL(link).pathname}`);
      await expectAccessible(page, `address confirmation at ${width} px`, 'it');
      await Promise.all([page.waitForURL((u) => u.pathname === '/settings/collaborations/notifications'), page.click('#address-confirm-form [type=submit]')]);
      await page.waitForSelector('#address-current');
      expect(await page.textContent('#address-current')).to.contain('segreteria@example.com');
      expect(await h.domain.ownerNotices.choices(mailbox)).to.include({ address: 'segreteria@example.com', digestHour: 18, pending: null });
      // Nothing wider than a phone's screen.
      expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).to.equal(true);
    });
  }
});
