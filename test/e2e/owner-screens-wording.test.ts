import path from 'node:path';
import { expect } from 'chai';
import { chromiumPerSuite, screenshots } from '../support/chromium';
import { buildEmail } from '../../src/mail/messages';
import { EMAIL_TEMPLATES, type EmailTemplate } from '../../src/mail/message-types';
import { LOCALES } from '../../src/i18n';
import { OWNER_NOTICE_EVENTS } from '../../src/models';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts', 'owner-screens-wording');
/** A 60-character mailbox address and a 40-character chosen part: the longest the issue asks for. */
const MAILBOX = 'studio.legale.associato.rossi.bianchi@pec.avvocati-milano.it';
const USERNAME = `${'amministrazione.contabilita.fornitori.x'.padEnd(40, 'x')}/${MAILBOX}`;

function email(template: EmailTemplate, locale: (typeof LOCALES)[number]) {
  return buildEmail({
    template,
    locale,
    // No display name: the address stands in for the owner, the longest the subject and first line get.
    payload: {
      firstName: 'Mario',
      lastName: 'Rossi',
      username: USERNAME,
      mailbox: MAILBOX,
      accessLevel: 'mail_clients',
      expiresAt: '2025-03-08T13:30:00.000Z',
      appPassword: { name: 'Outlook in ufficio', createdAt: '2025-03-08T13:30:00.000Z' },
      collaborator: 'Maria Francesca Bianchi-Colombo',
      identityProvider: 'Microsoft',
      accessEndsAt: '2025-03-08T13:30:00.000Z',
      // Every kind of notice, each naming the long username, one with a long server reply.
      notices: OWNER_NOTICE_EVENTS.map((event) => ({
        event,
        name: 'Maria Francesca Bianchi-Colombo',
        username: USERNAME,
        at: '2025-03-08T13:30:00.000Z',
        ...(event === 'email_failed' ? { detail: `550 5.1.1 <${'francesca.bianchi-colombo'.padEnd(50, 'x')}@example.org>: Recipient address rejected: User unknown in virtual mailbox table` } : {}),
        url: 'https://webmail.example.it/settings/collaborations/123456',
      })),
    },
    link: 'https://webmail.example.it/password/Zm9vYmFyLXRva2VuLXZhbHVlLTEyMzQ1Njc4OTA',
    mailServer: {
      imap: { host: 'imap.pec.avvocati-milano.it', port: 993, security: 'ssl' },
      pop3: { host: 'imap.pec.avvocati-milano.it', port: 995, security: 'ssl' },
      submission: { host: 'smtp.pec.avvocati-milano.it', port: 465, security: 'ssl' },
    },
    signInUrl: 'https://webmail.example.it/login',
  });
}

describe('The emails in a real browser (Chromium)', function () {
  this.timeout(60_000);
  const chromium = chromiumPerSuite();
  const snap = screenshots(ARTIFACTS, 'email-');

  it('should fit every email on a 360 px phone with a 40-character username and a 60-character mailbox, in it, en and es', async function () {
    expect(MAILBOX).to.have.length(60);
    const { page } = await chromium.newPage({ width: 360, javaScript: false });
    const overflowing: string[] = [];
    for (const locale of LOCALES) {
      for (const template of EMAIL_TEMPLATES) {
        await page.setContent(email(template, locale).html);
        const width = await page.evaluate<number>('document.documentElement.scrollWidth');
        if (width > 360) overflowing.push(`${template} (${locale}): ${width} px`);
        if (template === 'invitation') await snap(page, `invitation-${locale}`);
      }
    }
    expect(overflowing, 'emails wider than the screen').to.deep.equal([]);
  });
});
