/**
 * A password is hashed exactly as typed, because mail servers compare the bytes a mail program
 * sends; what a mail program cannot send, or a keyboard would type differently, is refused with the
 * reason, on every form that sets a password and in `mailbox:create`. The real Dovecot side is in
 * test/e2e/mail-programs.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcrypt';
import { expect } from 'chai';
import { DATABASES } from '../support/databases';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, SESSION_SECRET, harnessWithOwner, type Harness } from '../support/harness';
import { activate, addCollaborator, latestLinkToken, reload, setPasswordByLink } from '../support/accounts';
import { runToEnd } from '../support/processes';
import type { TestDatabase } from '../support/databases';

const MAILBOX = 'studio.rossi@pec.example.it';
// U+00BA (º) becomes "o" in NFKC: a hash of the NFKC form let it in on the web and nowhere else.
const TYPED = 'Mi 1º caffè del mattino è amaro';
const WITH_NUL = 'caffè\u0000del mattino amaro';
const DECOMPOSED = 'caffe\u0300 del mattino amaro';

/** The reasons as each language words them (distinctive parts). */
const UNSENDABLE_REASON = { it: 'i programmi di posta non possono inviare', en: 'mail programs cannot send', es: 'los programas de correo no pueden enviar' };
const NOT_COMPOSED_REASON = { it: 'Scrivi la password con la tastiera invece di incollarla', en: 'Type the password on the keyboard instead of pasting it', es: 'Escribe la contraseña con el teclado en lugar de pegarla' };

for (const { name, create } of DATABASES) {
  describe(`Password characters (${name})`, function () {
    let h: Harness;
    let database: TestDatabase;
    let owner: Browser;

    harnessWithOwner(
      create,
      { mailboxes: [MAILBOX] },
      (harness, db) => {
        h = harness;
        database = db;
      },
      (signedIn) => (owner = signedIn),
    );

    describe('POST /password/new (the emailed link)', function () {
      for (const [language, header] of [['it', 'it-IT'], ['en', 'en-GB'], ['es', 'es-ES']] as const) {
        it(`should refuse a NUL byte with the reason in ${language}, and change nothing`, async function () {
          const c = await addCollaborator(h, owner, MAILBOX);
          const token = await latestLinkToken(h, c);
          const browser = new Browser(h.app);
          await browser.get(`/password/${token}`, { 'Accept-Language': header });
          await browser.get('/password/new', { 'Accept-Language': header });
          const res = await browser.post('/password/new', { password: WITH_NUL, passwordConfirmation: WITH_NUL }, { 'Accept-Language': header });
          expect(res.status).to.equal(422);
          expect(res.text).to.include(UNSENDABLE_REASON[language]);
          const after = await reload(h, c);
          expect([after.status, after.passwordHash]).to.deep.equal(['pending', null]);
          // The link is still good for an acceptable password.
          const retry = await browser.post('/password/new', { password: GOOD_PASSWORD, passwordConfirmation: GOOD_PASSWORD });
          expect(retry.status).to.equal(200);
        });
      }

      it('should refuse a decomposed accent (not NFC) with the reason', async function () {
        const c = await addCollaborator(h, owner, MAILBOX);
        const { res } = await setPasswordByLink(h, await latestLinkToken(h, c), DECOMPOSED);
        expect(res.status).to.equal(422);
        expect(res.text).to.include(NOT_COMPOSED_REASON.it);
        expect((await reload(h, c)).passwordHash).to.equal(null);
      });

      it('should hash the password as typed: º signs in as typed, and its NFKC form does not', async function () {
        const c = await addCollaborator(h, owner, MAILBOX);
        await activate(h, c, TYPED);
        const stored = (await reload(h, c)).passwordHash as string;
        // Dovecot checks the bytes a mail program sends against this very hash.
        expect(await bcrypt.compare(TYPED, stored)).to.equal(true);
        expect((await new Browser(h.app).signIn(c.username, TYPED)).status).to.equal(303);
        expect((await new Browser(h.app).signIn(c.username, TYPED.normalize('NFKC'))).status).not.to.equal(303);
      });
    });

    describe('POST /settings/password', function () {
      it("should refuse a collaborator's new password with a tab, in English, and keep the old one", async function () {
        const c = await addCollaborator(h, owner, MAILBOX);
        await activate(h, c);
        const before = (await reload(h, c)).passwordHash;
        const browser = new Browser(h.app);
        await browser.signIn(c.username, GOOD_PASSWORD);
        await browser.get('/settings/password');
        await browser.post('/settings/language', { locale: 'en' });
        await browser.get('/settings/password');
        const withTab = 'a long and quiet\triver of words';
        const res = await browser.post('/settings/password', { currentPassword: GOOD_PASSWORD, password: withTab, passwordConfirmation: withTab });
        expect(res.status).to.equal(422);
        expect(res.text).to.include(UNSENDABLE_REASON.en);
        expect((await reload(h, c)).passwordHash).to.equal(before);
      });

      it("should refuse the owner's new password with U+FFFF or a decomposed accent, and keep the old one", async function () {
        const mailbox = await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } });
        await owner.get('/settings/password');
        for (const [bad, reason] of [[`owner password\uFFFF long enough`, UNSENDABLE_REASON.it], [`${DECOMPOSED} long`, NOT_COMPOSED_REASON.it]] as const) {
          const res = await owner.post('/settings/password', { currentPassword: OWNER_PASSWORD, password: bad, passwordConfirmation: bad });
          expect(res.status).to.equal(422);
          expect(res.text).to.include(reason);
        }
        expect((await h.db.models.Mailbox.findByPk(mailbox?.id))?.passwordHash).to.equal(mailbox?.passwordHash);
      });
    });

    describe('npm run mailbox:create', function () {
      let dataDir: string;
      before(() => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pec-cli-'));
      });
      after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

      const createMailbox = (address: string, password: string, lang: string) =>
        runToEnd(['src/cli.ts', 'mailbox:create', address], {
          NODE_ENV: 'test',
          DATABASE_URL: database.url,
          SESSION_SECRET,
          DATA_DIR: dataDir,
          BCRYPT_COST: '4',
          LANG: lang,
        }, password);

      it("should refuse a NUL byte with the reason in the operator's language, and create nothing", async function () {
        this.timeout(30_000);
        const run = await createMailbox('studio.nul@pec.example.it', WITH_NUL, 'es_ES.UTF-8');
        expect(run.code).to.equal(1);
        expect(run.output).to.have.length(1);
        expect(run.output[0]).to.include(UNSENDABLE_REASON.es);
        expect(await h.db.models.Mailbox.count({ where: { address: 'studio.nul@pec.example.it' } })).to.equal(0);
      });

      it('should create a mailbox whose password, º included, is hashed as typed', async function () {
        this.timeout(30_000);
        const run = await createMailbox('studio.caffe@pec.example.it', TYPED, 'it_IT.UTF-8');
        expect(run.code, run.output.join('\n')).to.equal(0);
        const created = await h.db.models.Mailbox.findOne({ where: { address: 'studio.caffe@pec.example.it' } });
        expect(await bcrypt.compare(TYPED, created?.passwordHash as string)).to.equal(true);
        expect((await new Browser(h.app).signIn('studio.caffe@pec.example.it', TYPED)).status).to.equal(303);
        await h.db.models.Mailbox.destroy({ where: { address: 'studio.caffe@pec.example.it' } });
      });
    });
  });
}
