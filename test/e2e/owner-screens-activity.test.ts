import path from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { chooseLanguage, expectAccessible } from '../support/axe';
import { chromiumPerSuite, screenshots, signInThroughForm } from '../support/chromium';
import { GOOD_PASSWORD, OWNER_PASSWORD, servedPerSuite, type Harness } from '../support/harness';
import type { Actor } from '../../src/domain/actor';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts', 'owner-screens-activity');
const WIDTHS = [360, 1280] as const;
const LANGUAGES = ['it', 'en', 'es'] as const;
// The longest values there are: a 60-character mailbox address and a 40-character chosen name.
const MAILBOX = 'studio.legale.associato.bianchi.rossi.verdi.b@pec.example.it';
const CHOSEN = 'giovanni.battista.della.rovere-montefelt';
const CHROME_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

/**
 * The pieces of each long value (`.username`) between two break points (<wbr>) that the page split
 * across lines: a value may wrap after '/', '@' or '.', never inside a piece.
 */
const SPLIT_PIECES = `(() => [...document.querySelectorAll('.username')].flatMap((value) =>
  [...value.childNodes].filter((node) => node.nodeType === Node.TEXT_NODE).filter((node) => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size > 1;
  }).map((node) => node.textContent)))()`;

describe('Settings → Activity and Access history on a phone and a wide screen (Chromium)', function () {
  this.timeout(120_000);
  const chromium = chromiumPerSuite();
  const snap = screenshots(ARTIFACTS);
  let h: Harness;
  let base = '';

  servedPerSuite(() => ({}), (harness, url) => {
    h = harness;
    base = url;
  });
  before(async () => {
    expect(MAILBOX).to.have.length(60);
    expect(CHOSEN).to.have.length(40);
    const mailbox = await h.mailbox(MAILBOX);
    const owner: Actor = { type: 'owner', id: mailbox.id, name: mailbox.address, ip: '192.168.1.20', userAgent: CHROME_ON_WINDOWS };
    const input = { firstName: 'Giovanni Battista', lastName: 'Della Rovere Montefeltro', username: CHOSEN, referenceEmail: 'giovanni.battista.della.rovere@example.com', accessLevel: 'mail_clients' as const, manageSettings: false };
    const giovanni = await h.domain.collaborations.create(mailbox, input, { actor: owner });
    const link = await h.db.models.Link.findOne({ where: { collaboratorId: giovanni.id } });
    const active = await h.domain.selfService.setPasswordWithLink(link!, GOOD_PASSWORD, GOOD_PASSWORD, { ip: '2001:db8:85a3:8d3:1319:8a2e:370:7348', userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1' });
    await h.domain.selfService.requestSelfReset(active.username, { ip: '203.0.113.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0' });
    await h.domain.collaborations.changeAccess(active, { accessLevel: 'send', manageSettings: 'on' }, { actor: owner });
    await h.domain.accessHistory.recordMailSignIn(active.username, true, { channel: 'imap', ip: '203.0.113.7', clientName: 'Thunderbird 128.3.1' });
    await h.domain.accessHistory.recordMailSignIn(`${CHOSEN.replace('felt', 'fel')}/${MAILBOX}`, false, { channel: 'submission', ip: '2001:db8:85a3:8d3:1319:8a2e:370:7348', clientName: null });
  });

  after(async () => {
  });

  async function signedInOwner(width: number): Promise<Page> {
    const { page } = await chromium.newPage({ width });
    await signInThroughForm(page, base, MAILBOX, OWNER_PASSWORD);
    return page;
  }

  /** The page fits `width` (no sideways scrolling), wraps long values only at their break points, and passes axe. */
  async function expectFitting(page: Page, where: string, width: number, language: string): Promise<void> {
    await snap(page, `${where.replace(/\W+/g, '-')}-${language}-${width}`);
    expect(await page.evaluate('document.documentElement.scrollWidth'), `${where}: no sideways scrolling`).to.be.at.most(width);
    expect(await page.locator('.username').count(), `${where}: long values shown`).to.be.greaterThan(0);
    expect(await page.evaluate<string[]>(SPLIT_PIECES), `${where}: pieces broken inside`).to.deep.equal([]);
    await expectAccessible(page, where, language);
  }

  for (const width of WIDTHS) {
    for (const language of LANGUAGES) {
      it(`should fit the activity and access-history pages in ${width} px, in ${language}, with a 40-character name and a 60-character address`, async function () {
        const page = await signedInOwner(width);
        await chooseLanguage(page, language);
        await page.goto(`${base}/settings/activity`);
        await expectFitting(page, 'activity', width, language);
        // The sentences read as lines of words, not a column a few letters wide.
        const sentences = page.locator('.log-sentence');
        expect(await sentences.count()).to.equal(4);
        for (const sentence of await sentences.all()) expect((await sentence.boundingBox())!.width, 'a sentence’s width').to.be.greaterThan(150);
        await page.goto(`${base}/settings/access-history`);
        await expectFitting(page, 'access history', width, language);
        expect(await page.locator('table.log').textContent()).to.include('Thunderbird');
      });
    }
  }
});
