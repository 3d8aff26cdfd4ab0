import { expect } from 'chai';
import { DATABASES } from '../support/databases';
import { Browser, harnessWithOwner, newCollaborator, type Harness } from '../support/harness';
import { addCollaborator, latestLinkToken, openLink } from '../support/accounts';
import { LOCALES, type Locale } from '../../src/i18n';

const MAILBOX = 'studio.rossi@pec.example.it';

/** The visible text of a page: tags gone, entities as they read, spaces collapsed. */
function textOf(html: string): string {
  return html
    .replace(/<(script|style)[\s\S]*?<\/\1>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');
}

/** A visitor's browser whose language was picked with the language form. */
async function visitorIn(h: Harness, locale: Locale): Promise<Browser> {
  const browser = new Browser(h.app);
  await browser.get('/login');
  await browser.post('/settings/language', { locale, back: '/login' });
  return browser;
}

/** What each dialog's points must not say: the present tense of what the action will do. */
const PRESENT_TENSE: Record<Locale, RegExp> = {
  it: /\b(smette|smettono|viene|vengono|resta|torna)\b/,
  en: /\b(stops|(?<!will )stop working|goes to|is deleted|is kept|is suspended|stays|can no longer)\b/,
  es: /\b(deja|dejan|se envía|queda|sigue|se elimina|se conserva)\b/,
};

const RESEND = {
  it: { menu: 'Rimanda email per impostare la password', title: 'Rimandare l’email per impostare la password a Mario Rossi?', submit: 'Rimanda email', notice: 'L’email per impostare la password è stata rimandata a Mario Rossi' },
  en: { menu: 'Resend the email to set the password', title: 'Resend the email to set the password to Mario Rossi?', submit: 'Resend email', notice: 'The email to set the password was resent to Mario Rossi' },
  es: { menu: 'Reenviar correo para establecer la contraseña', title: '¿Reenviar a Mario Rossi el correo para establecer la contraseña?', submit: 'Reenviar correo', notice: 'Se ha reenviado a Mario Rossi el correo para establecer la contraseña' },
};

for (const { name, create } of DATABASES) {
  describe(`What the owner and collaborators read (${name})`, function () {
    let h: Harness;
    let owner: Browser;

    harnessWithOwner(
      create,
      { mailboxes: [MAILBOX] },
      (harness) => {
        h = harness;
      },
      (signedIn) => {
        owner = signedIn;
      },
    );

    afterEach(async function () {
      await h.db.models.Mailbox.update({ locale: 'it' }, { where: { address: MAILBOX } });
    });

    describe('POST /settings/collaborations', () => {
      it('should show every error of the form at once: missing name, the mailbox as reference email, a username taken', async () => {
        await addCollaborator(h, owner, MAILBOX);
        await owner.get('/settings/collaborations/new');
        const res = await owner.post('/settings/collaborations', newCollaborator({ lastName: '', referenceEmail: MAILBOX.toUpperCase() }));
        expect(res.status).to.equal(422);
        const text = textOf(res.text);
        expect(text).to.contain('Questo campo è obbligatorio.');
        expect(text).to.contain('L’email di riferimento deve essere un indirizzo personale, non questa casella.');
        expect(text).to.contain('Questo nome utente è già in uso in questa casella');
        expect(await h.db.models.Collaborator.count()).to.equal(1);
      });

      it('should show a format error and a taken username together', async () => {
        await addCollaborator(h, owner, MAILBOX);
        await owner.get('/settings/collaborations/new');
        const res = await owner.post('/settings/collaborations', newCollaborator({ referenceEmail: 'not-an-address' }));
        expect(res.status).to.equal(422);
        expect(textOf(res.text)).to.contain('L’indirizzo email non è valido.').and.to.contain('Questo nome utente è già in uso');
      });
    });

    for (const locale of LOCALES) {
      describe(`The resend action and the dialogs (${locale})`, () => {
        it('should use the anchor’s words for the resend action: menu, dialog title and button, notice', async () => {
          await h.db.models.Mailbox.update({ locale }, { where: { address: MAILBOX } });
          const c = await addCollaborator(h, owner, MAILBOX);
          const list = await owner.get('/settings/collaborations');
          expect(textOf(list.text)).to.contain(RESEND[locale].menu);
          const dialog = textOf((await owner.get(`/settings/collaborations/${c.id}/password-link`)).text);
          expect(dialog).to.contain(RESEND[locale].title);
          expect(dialog).to.contain(RESEND[locale].submit);
          expect((await owner.post(`/settings/collaborations/${c.id}/password-link`)).status).to.equal(303);
          expect(textOf((await owner.get('/settings/collaborations')).text)).to.contain(RESEND[locale].notice);
        });

        it('should say in every dialog what will happen, in the future tense', async () => {
          await h.db.models.Mailbox.update({ locale }, { where: { address: MAILBOX } });
          const active = await addCollaborator(h, owner, MAILBOX);
          const pending = await addCollaborator(h, owner, MAILBOX, { username: 'giulia', referenceEmail: 'giulia@example.com' });
          await h.domain.selfService.setPasswordWithLink((await h.db.models.Link.findOne({ where: { collaboratorId: active.id } }))!, 'a calm lake under the winter moon', 'a calm lake under the winter moon');
          const dialogs = [`${active.id}/password-reset`, `${pending.id}/password-link`, `${active.id}/deactivation`];
          await owner.post(`/settings/collaborations/${pending.id}/deactivation`);
          dialogs.push(`${pending.id}/removal`);
          for (const path of dialogs) {
            const page = await owner.get(`/settings/collaborations/${path}`);
            expect(page.status, path).to.equal(200);
            const points = [...page.text.matchAll(/<li>([^<]*)<\/li>/g)].map((m) => m[1] as string);
            expect(points, path).not.to.be.empty;
            for (const point of points) expect(point, path).not.to.match(PRESENT_TENSE[locale]);
          }
        });
      });
    }

    describe('GET /password/new with no valid link', () => {
      for (const locale of LOCALES) {
        it(`should offer a way on: sign in, or ask for a new password (${locale})`, async () => {
          const visitor = await visitorIn(h, locale);
          const res = await visitor.get('/password/new');
          expect(res.status).to.equal(410);
          expect(res.text).to.match(/<a class="button primary" href="\/login">/);
          expect(res.text).to.match(/<a class="button" href="\/password\/forgot">/);
        });
      }
    });

    describe('GET /password/forgot', () => {
      const OWNER_NOTE = {
        it: 'la password della casella PEC si recupera presso il tuo gestore PEC',
        en: 'the password of a PEC mailbox is recovered with your PEC provider',
        es: 'la contraseña de un buzón PEC se recupera con tu proveedor PEC',
      };
      for (const locale of LOCALES) {
        it(`should tell the owner that the mailbox password is recovered with the PEC provider, before and after asking (${locale})`, async () => {
          const visitor = await visitorIn(h, locale);
          expect(textOf((await visitor.get('/password/forgot')).text)).to.contain(OWNER_NOTE[locale]);
          const asOwner = await visitor.post('/password/forgot', { username: MAILBOX });
          expect(asOwner.status).to.equal(200);
          expect(textOf(asOwner.text)).to.contain(OWNER_NOTE[locale]);
        });
      }

      it('should answer the owner, a collaborator and a stranger alike', async () => {
        const c = await addCollaborator(h, owner, MAILBOX);
        const answers: string[] = [];
        for (const username of [MAILBOX, c.username, `nobody/${MAILBOX}`]) {
          const visitor = await visitorIn(h, 'it');
          await visitor.get('/password/forgot');
          const res = await visitor.post('/password/forgot', { username });
          answers.push(textOf(res.text.replace(/name="_csrf" value="[^"]*"/g, '')));
        }
        expect(new Set(answers).size).to.equal(1);
      });
    });

    describe('GET /password/new (the set-password page)', () => {
      const CALQUE = { it: 'Alcune parole di seguito', es: 'Unas cuantas palabras seguidas' };
      for (const locale of ['it', 'es'] as const) {
        it(`should read as written in its language, with no greeting, its tip included (${locale})`, async () => {
          const c = await addCollaborator(h, owner, MAILBOX);
          const visitor = await visitorIn(h, locale);
          const { form } = await openLink(h, await latestLinkToken(h, c), visitor);
          expect(textOf(form.text)).not.to.match(/\b(Ciao|Hola|Hello)\b/);
          const tooShort = await visitor.post('/password/new', { password: 'short', passwordConfirmation: 'short' });
          expect(tooShort.status).to.equal(422);
          const text = textOf(tooShort.text);
          expect(text).not.to.contain(CALQUE[locale]);
          expect(text).not.to.contain('A few words in a row');
          expect(text).to.contain(locale === 'it' ? 'una breve frase, per esempio, è una buona password' : 'una frase corta, por ejemplo, es una buena contraseña');
        });
      }
    });
  });
}
