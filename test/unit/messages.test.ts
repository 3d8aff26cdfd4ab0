import { expect } from 'chai';
import { buildEmail } from '../../src/mail/messages';
import { EMAIL_TEMPLATES, type EmailInput, type EmailPayload, type EmailTemplate } from '../../src/mail/message-types';
import { enTexts } from '../../src/mail/texts/en';
import { esTexts } from '../../src/mail/texts/es';
import { itTexts } from '../../src/mail/texts/it';
import { LOCALES } from '../../src/i18n';

const LINK = 'https://webmail.example.it/password/Zm9vYmFyLXRva2VuLXZhbHVlLTEyMzQ1Njc4OTA';
const LINK_TEMPLATES: readonly EmailTemplate[] = ['invitation', 'owner_reset', 'self_reset', 'notice_address'];
/** The owner's reminder links to the extension page (not a single-use link): test/integration/access-end.test.ts. */
const NOTICES = EMAIL_TEMPLATES.filter((template) => !LINK_TEMPLATES.includes(template) && template !== 'access_end_reminder');

function input(template: EmailTemplate, overrides: Partial<EmailInput> = {}, payload: Partial<EmailPayload> = {}): EmailInput {
  return {
    template,
    locale: 'it',
    payload: {
      firstName: 'Mario',
      lastName: 'Rossi',
      username: 'mario.rossi/studio.rossi@pec.example.it',
      mailbox: 'studio.rossi@pec.example.it',
      accessLevel: 'send',
      expiresAt: '2025-03-08T13:30:00.000Z',
      identityProvider: 'Google',
      appPassword: { name: 'Outlook in ufficio', createdAt: '2025-03-08T13:30:00.000Z' },
      accessEndsAt: '2025-03-08T17:00:00.000Z',
      collaborator: 'Mario Rossi',
      notices: [{ event: 'invitation_accepted', name: 'Mario Rossi', username: 'mario.rossi/studio.rossi@pec.example.it', at: '2025-03-08T13:30:00.000Z', url: 'https://webmail.example.it/settings/collaborations/7' }],
      ...payload,
    },
    link: LINK,
    mailServer: {
      imap: { host: 'imap.pec.example.it', port: 993, security: 'ssl' },
      pop3: { host: 'imap.pec.example.it', port: 995, security: 'ssl' },
      submission: { host: 'smtp.pec.example.it', port: 465, security: 'ssl' },
    },
    signInUrl: 'https://webmail.example.it/login',
    ...overrides,
  };
}

/** The HTML without the line-break opportunities (`<wbr>`) that long values carry, to search it for text. */
function unbroken(html: string): string {
  return html.replace(/<wbr>/g, '');
}

/** Every key path of a nested object, e.g. `common.greeting`. */
function keyPaths(value: object, prefix = ''): string[] {
  return Object.entries(value).flatMap(([key, child]) =>
    typeof child === 'object' && child !== null ? keyPaths(child, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

describe('buildEmail', () => {
  for (const template of EMAIL_TEMPLATES) {
    for (const locale of LOCALES) {
      it(`should build a non-empty ${template} email in ${locale}`, () => {
        const email = buildEmail(input(template, { locale }));
        expect(email.subject.trim()).to.not.equal('');
        expect(email.text.trim()).to.not.equal('');
        expect(email.html).to.contain(`<html lang="${locale}">`);
        expect(email.html).to.match(/<title>[^<]+<\/title>/);
        expect(email.text).to.not.match(/\{\w+\}/);
      });
    }
  }

  for (const template of LINK_TEMPLATES) {
    it(`should put the link in the text and HTML bodies of ${template}, not in the subject`, () => {
      const email = buildEmail(input(template));
      expect(email.text).to.contain(LINK);
      expect(email.html).to.contain(`href="${LINK}"`);
      expect(email.html).to.contain(`>${LINK}</a>`);
      expect(email.subject).to.not.contain(LINK);
    });

    it(`should state when the ${template} link expires, in Italian time with its UTC offset`, () => {
      const email = buildEmail(input(template));
      expect(email.text).to.contain('8 marzo 2025 alle ore 14:30 GMT+1 (ora italiana)');
    });

    it(`should tell apart the two 02:10 of the night the clocks go back, in ${template}, in every language`, () => {
      // 26 October 2025: 00:10 UTC is 02:10 summer time, 01:10 UTC is 02:10 winter time.
      const expected = { it: ['02:10 GMT+2', '02:10 GMT+1'], en: ['02:10 GMT+2', '02:10 GMT+1'], es: ['2:10 GMT+2', '2:10 GMT+1'] };
      for (const locale of LOCALES) {
        const summer = buildEmail(input(template, { locale }, { expiresAt: '2025-10-26T00:10:00.000Z' }));
        const winter = buildEmail(input(template, { locale }, { expiresAt: '2025-10-26T01:10:00.000Z' }));
        expect(summer.text, locale).to.contain(expected[locale][0]);
        expect(winter.text, locale).to.contain(expected[locale][1]);
        expect(summer.html, locale).to.contain(expected[locale][0]);
      }
    });

    it(`should refuse to build ${template} without a link`, () => {
      expect(() => buildEmail(input(template, { link: undefined }))).to.throw(/link/);
    });
  }

  for (const template of NOTICES) {
    it(`should leave the link out of ${template}`, () => {
      const email = buildEmail(input(template));
      expect(email.text).to.not.contain(LINK);
      expect(email.html).to.not.contain(LINK);
    });
  }

  it('should list the mail server settings, the mailbox as address and the username as login in password_set for mail_clients', () => {
    const email = buildEmail(input('password_set', { locale: 'en' }, { accessLevel: 'mail_clients' }));
    for (const body of [email.text, unbroken(email.html)]) {
      expect(body).to.contain('Email address: studio.rossi@pec.example.it');
      expect(body).to.contain('Username, for incoming and outgoing mail: mario.rossi/studio.rossi@pec.example.it');
      expect(body).to.contain('Incoming mail (IMAP): server imap.pec.example.it, port 993, SSL/TLS');
      expect(body).to.contain('incoming mail (POP3): server imap.pec.example.it, port 995, SSL/TLS');
      expect(body).to.contain('Outgoing mail (SMTP): server smtp.pec.example.it, port 465, SSL/TLS');
    }
  });

  it('should say STARTTLS for submission on port 587', () => {
    const mailServer: EmailInput['mailServer'] = {
      imap: { host: 'imap.pec.example.it', port: 993, security: 'ssl' },
      pop3: { host: 'imap.pec.example.it', port: 995, security: 'ssl' },
      submission: { host: 'smtp.pec.example.it', port: 587, security: 'starttls' },
    };
    const email = buildEmail(input('password_changed', { locale: 'en', mailServer }, { accessLevel: 'mail_clients' }));
    expect(email.text).to.contain('server smtp.pec.example.it, port 587, STARTTLS');
  });

  it('should leave mail server settings out of password_set without mail_clients', () => {
    const email = buildEmail(input('password_set', { locale: 'en' }, { accessLevel: 'send' }));
    for (const body of [email.text, unbroken(email.html)]) {
      expect(body).to.not.contain('imap.pec.example.it');
      expect(body).to.not.contain('smtp.pec.example.it');
      expect(body).to.not.contain('IMAP');
    }
  });

  it('should say which app password was made and when, and what to do if it was not the collaborator, in app_password_created', () => {
    const email = buildEmail(input('app_password_created', { locale: 'en' }));
    for (const body of [email.text, unbroken(email.html)]) {
      expect(body).to.contain('An app password named “Outlook in ufficio” was created for your collaborator account mario.rossi/studio.rossi@pec.example.it on 8 March 2025');
      expect(body).to.contain('14:30 GMT+1 (Italian time)');
      expect(body).to.contain('If it was not you, revoke it at once');
      expect(body).to.contain('tell the mailbox owner');
    }
    expect(() => buildEmail(input('app_password_created', {}, { appPassword: undefined }))).to.throw(/app password/);
  });

  it("should escape the app password's name and keep CR/LF out of it", () => {
    const email = buildEmail(input('app_password_created', {}, { appPassword: { name: '<b>Outlook</b>\r\nBcc: x@example.com', createdAt: '2025-03-08T13:30:00.000Z' } }));
    expect(unbroken(email.html)).to.contain('&lt;b&gt;Outlook&lt;/b&gt; Bcc: x@example.com');
    expect(email.text).to.contain('“<b>Outlook</b> Bcc: x@example.com”');
  });

  it('should escape names in the HTML', () => {
    const name = '<img src=x onerror=alert(1)>';
    for (const template of EMAIL_TEMPLATES) {
      const email = buildEmail(input(template, {}, { firstName: name, lastName: '"Rossi" & <b>', mailbox: '<i>box</i>@pec.example.it' }));
      expect(email.html).to.not.contain('<img');
      expect(email.html).to.not.contain('<b>');
      expect(email.html).to.not.contain('<i>');
      expect(email.html).to.contain('&lt;img src=x onerror=alert(1)&gt;');
      expect(email.html).to.contain('&quot;Rossi&quot; &amp; &lt;b&gt;');
    }
  });

  it('should keep CR/LF out of the subject and the interpolated values', () => {
    for (const template of EMAIL_TEMPLATES) {
      const email = buildEmail(
        input(template, {}, { firstName: 'Mario\r\nBcc: x@example.com', lastName: 'Rossi\n', mailbox: 'studio\r\nX-Evil: 1@pec.example.it' }),
      );
      expect(email.subject).to.not.match(/[\r\n]/);
      expect(email.subject).to.contain('studio X-Evil: 1@pec.example.it');
      expect(email.text).to.contain('Gentile Mario Bcc: x@example.com Rossi,');
    }
  });

  it('should write Italian for the it locale', () => {
    const email = buildEmail(input('invitation', { locale: 'it' }));
    expect(email.text).to.contain('Gentile Mario Rossi,');
    expect(email.text).to.contain('account collaboratore');
    expect(email.subject).to.match(/^Invito di /);
  });

  it('should name the access level in the recipient language', () => {
    expect(buildEmail(input('invitation', { locale: 'it' }, { accessLevel: 'read' })).text).to.contain('«lettura»');
    expect(buildEmail(input('invitation', { locale: 'es' }, { accessLevel: 'mail_clients' })).text).to.contain('«programas de correo»');
  });

  it('should have exactly the same keys in every language', () => {
    const english = keyPaths(enTexts).sort();
    expect(english).to.include('invitation.subject');
    expect(keyPaths(itTexts).sort()).to.deep.equal(english);
    expect(keyPaths(esTexts).sort()).to.deep.equal(english);
  });

  describe('subjects and sender', () => {
    const OWNER = 'Studio Rossi';
    const FIRST_LINE = {
      it: 'Studio Rossi, titolare della casella PEC studio.rossi@pec.example.it,',
      en: 'Studio Rossi, owner of the PEC mailbox studio.rossi@pec.example.it,',
      es: 'Studio Rossi, titular del buzón PEC studio.rossi@pec.example.it,',
    };
    const FROM = { it: 'Studio Rossi (via PEC Collaborazioni)', en: 'Studio Rossi (via PEC Collaborations)', es: 'Studio Rossi (vía Colaboraciones PEC)' };

    for (const locale of LOCALES) {
      const subjects = EMAIL_TEMPLATES.map((template) => buildEmail(input(template, { locale }, { ownerName: OWNER })).subject);

      it(`should keep every subject short and name the owner in it, in ${locale}`, () => {
        for (const subject of subjects) {
          expect(subject, subject).to.contain(OWNER);
          // About 60 characters with a name this long: a phone's inbox shows it whole.
          expect(subject.length, subject).to.be.at.most(61);
        }
      });

      it(`should tell every email apart from the first words of its subject, in ${locale}`, () => {
        const openings = subjects.map((subject) => subject.slice(0, 30));
        expect(new Set(openings).size, openings.join('\n')).to.equal(EMAIL_TEMPLATES.length);
      });

      it(`should name the mailbox in the subject when the owner has no name, in ${locale}`, () => {
        for (const template of EMAIL_TEMPLATES) {
          expect(buildEmail(input(template, { locale })).subject).to.contain('studio.rossi@pec.example.it');
        }
      });

      it(`should name the owner and the mailbox in the first line of the invitation, the reset and the deactivation, in ${locale}`, () => {
        for (const template of ['invitation', 'owner_reset', 'deactivated'] as const) {
          const firstLine = buildEmail(input(template, { locale }, { ownerName: OWNER })).text.split('\n\n')[1];
          expect(firstLine, template).to.contain(FIRST_LINE[locale]);
        }
      });

      it(`should send in the owner's name, in ${locale}`, () => {
        for (const template of EMAIL_TEMPLATES) {
          expect(buildEmail(input(template, { locale }, { ownerName: OWNER })).fromName).to.equal(FROM[locale]);
          expect(buildEmail(input(template, { locale })).fromName).to.equal(FROM[locale].replace(OWNER, 'studio.rossi@pec.example.it'));
        }
      });
    }

    it('should let a long username wrap in the HTML only after "/", "@" or "."', () => {
      const username = `${'a'.repeat(40)}/studio.rossi@pec.example.it`;
      const email = buildEmail(input('invitation', {}, { username }));
      expect(email.html).to.contain(`${'a'.repeat(40)}/<wbr>studio.<wbr>rossi@<wbr>pec.<wbr>example.<wbr>it`);
      expect(email.text).to.contain(username);
    });
  });
});
