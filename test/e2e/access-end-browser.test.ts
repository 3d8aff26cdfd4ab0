import path from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { expectAccessible } from '../support/axe';
import { chromiumPerSuite, screenshots, signInThroughForm } from '../support/chromium';
import { OWNER_PASSWORD, servedPerSuite, type Harness } from '../support/harness';
import { collaboratorIn, person } from '../support/accounts';
import { Sealer } from '../../src/lib/secrets';
import type { Collaborator, Mailbox } from '../../src/models';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts', 'access-end-browser');
const MAILBOX = 'studio.rossi@pec.example.it';
// The longest chosen name: 40 characters.
const LONG_NAME = 'maria.francesca.della.valle.bianchi.sbtt';
const DAY = 24 * 3600 * 1000;

describe('Access until a date in a real browser (Chromium)', function () {
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
    h.clock.set(new Date('2026-03-02T09:00:00.000Z'));
  });

  async function signedInOwner(width: number): Promise<Page> {
    const { page } = await chromium.newPage({ width });
    await signInThroughForm(page, base, MAILBOX, OWNER_PASSWORD);
    return page;
  }

  const fitsWidth = async (page: Page) => {
    const [scroll, inner] = await page.evaluate<number[]>('[document.documentElement.scrollWidth, window.innerWidth]');
    expect(scroll, 'no sideways scrolling').to.be.at.most(inner as number);
  };

  for (const width of [360, 1280]) {
    it(`should set an end on the details page and show it in the list, at ${width} px`, async function () {
      const c: Collaborator = await collaboratorIn(h, mailbox, 'active', person('Maria Francesca', 'Della Valle', LONG_NAME));
      const page = await signedInOwner(width);
      await page.goto(`${base}/settings/collaborations/${c.id}`);
      await page.fill('#accessEndDate', '2026-12-12');
      await page.fill('#accessEndTime', '18:00');
      // The form posts from the page it comes back to: wait for that page to be asked for again.
      const back = page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === `/settings/collaborations/${c.id}`);
      await Promise.all([back, page.click('#access-end-form [type=submit]')]);
      await page.waitForLoadState();
      expect(await page.textContent('#access-end-now')).to.contain('12 dic 2026, 18:00 GMT+1');
      await expectAccessible(page, `details at ${width} px`, 'it');
      await fitsWidth(page);
      await snap(page, `details-${width}`);

      await page.goto(`${base}/settings/collaborations`);
      const until = page.locator(`#collaborator-${c.id} .access-until`);
      expect(await until.isVisible()).to.equal(true);
      expect(await until.textContent()).to.equal('accesso fino al 12 dic 2026, 18:00');
      // On one line, inside the row.
      const box = await until.boundingBox();
      const row = await page.locator(`#collaborator-${c.id}`).boundingBox();
      expect(box && row && box.x + box.width <= row.x + row.width + 0.5).to.equal(true);
      expect(box?.height).to.be.below(30);
      await expectAccessible(page, `list at ${width} px`, 'it');
      await fitsWidth(page);
      await snap(page, `list-${width}`);
    });

    it(`should open the reminder's extension link and confirm a week more, at ${width} px`, async function () {
      const c = await collaboratorIn(h, mailbox, 'active', person('Maria Francesca', 'Della Valle', LONG_NAME));
      await h.domain.collaborations.setAccessEnd(c, { accessEndDate: '2026-12-12', accessEndTime: '18:00' }, { actor: { type: 'owner', id: mailbox.id, name: MAILBOX } });
      h.clock.set(new Date(new Date('2026-12-12T17:00:00.000Z').getTime() - 3 * DAY));
      expect(await h.domain.accessEnds.runIfDue()).to.deep.equal({ ended: 0, reminded: 1 });
      const reminder = await h.db.models.OutboxMessage.findOne({ where: { template: 'access_end_reminder' } });
      const link = new URL(new Sealer(h.config.sessionSecret).open(reminder?.secret as string));

      const page = await signedInOwner(width);
      await page.goto(`${base}${link.pathname}`);
      expect(await page.inputValue('#accessEndDate')).to.equal('2026-12-19');
      expect(await page.inputValue('#accessEndTime')).to.equal('18:00');
      await expectAccessible(page, `extension at ${width} px`, 'it');
      await fitsWidth(page);
      await snap(page, `extension-${width}`);
      await Promise.all([page.waitForURL(`${base}/settings/collaborations/${c.id}`), page.click('#extension-form [type=submit]')]);
      expect(await page.textContent('#access-end-now')).to.contain('19 dic 2026, 18:00 GMT+1');
      const stored = await h.db.models.Collaborator.findByPk(c.id);
      expect(stored?.accessEndsAt?.toISOString()).to.equal('2026-12-19T17:00:00.000Z');
    });
  }
});
