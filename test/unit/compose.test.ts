import { expect } from 'chai';
import type MimeNode from 'nodemailer/lib/mime-node';
import { composeMessage, messageBytes, mimeTree, type MessageFields } from '../../src/mail/compose';
import { buildEmail } from '../../src/mail/messages';
import { EMAIL_TEMPLATES, type EmailTemplate } from '../../src/mail/message-types';
import { LOCALES, type Locale } from '../../src/i18n';

const MAIL_SERVER = {
  imap: { host: 'imap.pec.example.it', port: 993, security: 'ssl' as const },
  pop3: { host: 'imap.pec.example.it', port: 995, security: 'ssl' as const },
  submission: { host: 'smtp.pec.example.it', port: 465, security: 'ssl' as const },
};

/** One email of `template` to `name`, with `notices` notices (digests), as the worker would send it. */
function fields(template: EmailTemplate, locale: Locale, name: { first: string; last: string }, notices = 1): MessageFields {
  const at = '2025-03-08T13:30:00.000Z';
  const built = buildEmail({
    template,
    locale,
    payload: {
      firstName: name.first,
      lastName: name.last,
      username: `${name.first.toLowerCase()}/studio.rossi@pec.example.it`,
      mailbox: 'studio.rossi@pec.example.it',
      ownerName: 'Studio Rossi & Associati',
      accessLevel: 'mail_clients',
      expiresAt: at,
      identityProvider: 'Google',
      appPassword: { name: 'Outlook in ufficio', createdAt: at },
      accessEndsAt: at,
      collaborator: `${name.first} ${name.last}`,
      notices: Array.from({ length: notices }, (_, i) => ({ event: 'invitation_accepted' as const, name: `${name.first} ${i}`, username: `u${i}/studio.rossi@pec.example.it`, at, url: `https://webmail.example.it/settings/collaborations/${i}` })),
    },
    link: 'https://webmail.example.it/password/Zm9vYmFyLXRva2VuLXZhbHVlLTEyMzQ1Njc4OTA',
    mailServer: MAIL_SERVER,
    signInUrl: 'https://webmail.example.it/login',
  });
  return { ...built, fromAddress: 'no-reply@pec.example.it', to: 'mario.rossi@example.org', messageId: '<outbox-7.1741440600000@webmail.example.it>' };
}

/** What nodemailer's own streaming build makes of the same tree. */
function built(tree: MimeNode): Promise<Buffer> {
  return new Promise((resolve, reject) => tree.build((error, message) => (error ? reject(error) : resolve(message))));
}

describe('composeMessage', () => {
  const encodings = new Set<string>();
  const names = [
    { first: 'Mario', last: 'Rossi' },
    // Beyond Latin-1: nodemailer encodes such bodies in base64 rather than quoted-printable.
    { first: '王', last: '小明'.repeat(400) },
    { first: 'Zoë', last: "D'Àngelo   trailing " },
  ];
  for (const template of EMAIL_TEMPLATES) {
    for (const locale of LOCALES) {
      it(`should give the bytes nodemailer builds for ${template} in ${locale}`, async () => {
        for (const name of names) {
          const tree = mimeTree(fields(template, locale, name));
          // The same tree both ways: its boundaries and Date header are made once.
          const bytes = messageBytes(tree).toString('utf8');
          expect(bytes).to.equal((await built(tree)).toString('utf8'));
          for (const [, encoding] of bytes.matchAll(/^Content-Transfer-Encoding: (\S+)/gm)) encodings.add(encoding as string);
        }
      });
    }
  }

  it('should give the bytes nodemailer builds for a quoted-printable body that ends in spaces or tabs', async () => {
    // Its last line is wrapped again with the held-back whitespace (qp.Encoder): ending at every column.
    for (let words = 8; words < 40; words++) {
      for (const end of [' ', '  ', '\t', ' \t ']) {
        const body = `${'Ciao Mario, '.repeat(words)}è${end}`;
        const tree = mimeTree({ ...fields('password_set', 'it', names[0] as { first: string; last: string }), text: body, html: `<p>${body}</p>${end}` });
        const bytes = messageBytes(tree).toString('utf8');
        expect(bytes, JSON.stringify(body)).to.equal((await built(tree)).toString('utf8'));
      }
    }
  });

  it('should have met both encodings of a text body above', () => {
    expect([...encodings].sort()).to.deep.equal(['base64', 'quoted-printable']);
  });

  for (const notices of [190, 400]) {
    it(`should give a well-formed message for a digest of ${notices} notices, nodemailer's own build beyond 64 KiB of body`, async () => {
      const digest = fields('owner_digest', 'it', names[2] as { first: string; last: string }, notices);
      const message = (await composeMessage(digest)).toString('utf8');
      expect(message).to.match(/^From: /m).and.match(/\r\n$/);
      expect(Buffer.byteLength(message)).to.be.above(notices * 500);
      const boundary = /boundary="([^"]+)"/.exec(message)?.[1];
      expect(message.split(`--${boundary}--`)).to.have.length(2);
    });
  }
});
