import { expect } from 'chai';
import { DATABASES } from '../support/databases';
import { Browser, OWNER_PASSWORD, harnessPerSuite, type Harness } from '../support/harness';
import type { Mailbox } from '../../src/models';
import { collaboratorIn } from '../support/accounts';

const MAILBOX = 'studio.verdi@pec.example.it';
const COLLABORATOR_PASSWORD = 'a calm lake under the winter moon';

function htmlLang(text: string): string | undefined {
  return /<html lang="([a-z]+)"/.exec(text)?.[1];
}

for (const { name, create } of DATABASES) {
  describe(`POST /settings/language (${name})`, function () {
    let h: Harness;
    let mailbox: Mailbox;

    harnessPerSuite(create, {}, (harness) => {
      h = harness;
    });

    before(async function () {
      mailbox = await h.mailbox(MAILBOX);
    });

    it('should follow Accept-Language for a visitor who chose nothing, else Italian', async () => {
      const browser = new Browser(h.app);
      expect(htmlLang((await browser.get('/login', { 'Accept-Language': 'es-ES,es;q=0.9' })).text)).to.equal('es');
      expect(htmlLang((await browser.get('/login', { 'Accept-Language': 'de-DE' })).text)).to.equal('it');
    });

    it("should keep a visitor's choice in the session, over Accept-Language", async () => {
      const browser = new Browser(h.app);
      await browser.get('/login');
      const res = await browser.post('/settings/language', { locale: 'en', back: '/login' });
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal('/login');
      const page = await browser.get('/login', { 'Accept-Language': 'es' });
      expect(htmlLang(page.text)).to.equal('en');
      expect(page.text).to.contain('Sign in');
      expect(await new Browser(h.app).get('/login').then((r) => htmlLang(r.text))).to.equal('it');
    });

    it("should store the owner's choice on the mailbox, for pages and later sessions", async () => {
      const owner = new Browser(h.app);
      await owner.signIn(MAILBOX, OWNER_PASSWORD);
      const list = await owner.get('/settings/collaborations?q=rossi');
      expect(list.text, 'the form comes back to this very page').to.contain('name="back" value="/settings/collaborations?q=rossi"');
      const res = await owner.post('/settings/language', { locale: 'es', back: '/settings/collaborations' });
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal('/settings/collaborations');
      await mailbox.reload();
      expect(mailbox.locale).to.equal('es');
      const again = new Browser(h.app);
      await again.signIn(MAILBOX, OWNER_PASSWORD);
      const page = await again.get('/settings/collaborations', { 'Accept-Language': 'en' });
      expect(htmlLang(page.text)).to.equal('es');
      expect(page.text).to.contain('Colaboraciones');
      await owner.post('/settings/language', { locale: 'it' });
    });

    it("should store a collaborator's choice on the collaborator", async () => {
      const input = { firstName: 'Elena', lastName: 'Ferri', username: 'elena.ferri', referenceEmail: 'elena@example.com', accessLevel: 'read', manageSettings: false } as const;
      const c = await collaboratorIn(h, mailbox, 'active', input, COLLABORATOR_PASSWORD);
      const browser = new Browser(h.app);
      await browser.signIn(c.username, COLLABORATOR_PASSWORD);
      await browser.get('/account');
      expect((await browser.post('/settings/language', { locale: 'en', back: '/account' })).status).to.equal(303);
      await c.reload();
      expect(c.locale).to.equal('en');
      await mailbox.reload();
      expect(mailbox.locale).to.equal('it');
      expect(htmlLang((await browser.get('/account')).text)).to.equal('en');
    });

    it('should keep the language picked on the sign-in page once signed in, and store it on the account', async () => {
      await mailbox.update({ locale: 'it' });
      const owner = new Browser(h.app);
      await owner.get('/login');
      await owner.post('/settings/language', { locale: 'es', back: '/login' });
      const signIn = await owner.post('/login', { username: MAILBOX, password: OWNER_PASSWORD });
      expect(signIn.status).to.equal(303);
      const page = await owner.get(signIn.headers.location as string, { 'Accept-Language': 'en' });
      expect(htmlLang(page.text)).to.equal('es');
      await mailbox.reload();
      expect(mailbox.locale, 'kept for later sessions and emails').to.equal('es');
      await mailbox.update({ locale: 'it' });
    });

    it("should leave the account's language alone when nothing was picked before signing in", async () => {
      await mailbox.update({ locale: 'en' });
      const owner = new Browser(h.app);
      await owner.get('/login', { 'Accept-Language': 'es' });
      await owner.post('/login', { username: MAILBOX, password: OWNER_PASSWORD });
      await mailbox.reload();
      expect(mailbox.locale).to.equal('en');
      await mailbox.update({ locale: 'it' });
    });

    it("should keep a collaborator's pick at sign-in on the collaborator", async () => {
      const input = { firstName: 'Luca', lastName: 'Neri', username: 'luca.neri', referenceEmail: 'luca@example.com', accessLevel: 'read', manageSettings: false } as const;
      const c = await collaboratorIn(h, mailbox, 'active', input, COLLABORATOR_PASSWORD);
      const browser = new Browser(h.app);
      await browser.get('/login');
      await browser.post('/settings/language', { locale: 'en', back: '/login' });
      await browser.post('/login', { username: c.username, password: COLLABORATOR_PASSWORD });
      await c.reload();
      expect(c.locale).to.equal('en');
      expect(htmlLang((await browser.get('/account')).text)).to.equal('en');
    });

    it('should refuse an unknown language with 400 and change nothing', async () => {
      const browser = new Browser(h.app);
      await browser.get('/login');
      expect((await browser.post('/settings/language', { locale: 'fr' })).status).to.equal(400);
      expect(htmlLang((await browser.get('/login')).text)).to.equal('it');
    });

    it('should refuse a request without the CSRF token with 403', async () => {
      const browser = new Browser(h.app);
      await browser.get('/login');
      const res = await browser.agent.post('/settings/language').type('form').send({ locale: 'en' });
      expect(res.status).to.equal(403);
    });

    it('should only send people back to a page of this site', async () => {
      const browser = new Browser(h.app);
      await browser.get('/login');
      for (const back of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
        const res = await browser.post('/settings/language', { locale: 'en', back });
        expect(res.headers.location, back).to.equal('/');
      }
    });
  });
}
