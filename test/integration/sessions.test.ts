import { expect } from 'chai';
import request from 'supertest';
import { Op } from 'sequelize';
import { DATABASES } from '../support/databases';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, harnessPerSuite, signedInOwner, type Harness } from '../support/harness';
import { activate, addCollaborator, latestLinkToken } from '../support/accounts';
import { principalKey } from '../../src/domain/sessions';
import type { SessionIdentity, SignedIn } from '../../src/domain/accounts';
import type { Collaborator } from '../../src/models';

const MAILBOX = 'studio.sessioni@pec.example.it';
const NEW_PASSWORD = 'another long and quiet river';

/** The `sid` cookie a response set, as a `Cookie` header value. */
function sidCookie(res: request.Response): string | undefined {
  const cookies = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
  return cookies.find((c) => c.startsWith('sid='))?.split(';')[0];
}

for (const { name, create } of DATABASES) {
  describe(`Sessions and links under attack (${name})`, function () {
    let h: Harness;
    let counter = 0;

    harnessPerSuite(create, { mailboxes: [MAILBOX] }, (harness) => {
      h = harness;
    });

    afterEach(async function () {
      await h.reset();
    });

    const sessionRows = () => h.db.models.Session.count();

    /** An active collaborator, signed in; returns its browser and its session cookie. */
    async function signedInCollaborator(): Promise<{ c: Collaborator; browser: Browser; cookie: string }> {
      counter += 1;
      const owner = await signedInOwner(h.app, MAILBOX);
      const c = await addCollaborator(h, owner, MAILBOX, { username: `anna.${counter}` });
      await activate(h, c);
      const browser = new Browser(h.app);
      await browser.get('/login');
      const res = await browser.post('/login', { username: c.username, password: GOOD_PASSWORD });
      expect(res.status).to.equal(303);
      return { c, browser, cookie: sidCookie(res) as string };
    }

    /**
     * Holds the next request that reaches `identify` (its session already read from the database)
     * until `release` is called: the request "in flight" of the attack.
     */
    function holdNextRequest(): { reached: Promise<void>; release(): void } {
      const accounts = h.domain.accounts;
      const resolve = accounts.resolve.bind(accounts);
      let release = () => undefined as void;
      let reached = () => undefined as void;
      const released = new Promise<void>((r) => (release = r));
      const arrived = new Promise<void>((r) => (reached = r));
      accounts.resolve = async (identity: SessionIdentity): Promise<SignedIn | null> => {
        accounts.resolve = resolve;
        const signedIn = await resolve(identity);
        reached();
        await released;
        return signedIn;
      };
      return { reached: arrived, release };
    }

    describe('a browser-session cookie', function () {
      it('should be set at sign-in and not again at each page', async function () {
        const browser = new Browser(h.app);
        await browser.get('/login');
        expect(sidCookie(await browser.post('/login', { username: MAILBOX, password: OWNER_PASSWORD }))).to.match(/^sid=/);
        for (const page of ['/settings/collaborations', '/settings/collaborations', '/settings/activity']) {
          const res = await browser.get(page);
          expect(res.status).to.equal(200);
          expect(sidCookie(res), page).to.equal(undefined);
        }
      });
    });

    describe('a revoked session', function () {
      it('should stay revoked when a request with the stolen cookie was in flight at sign-out', async function () {
        const { c, browser, cookie } = await signedInCollaborator();
        await browser.get('/account');
        const hold = holdNextRequest();
        const stolen = request(h.app).get('/').set('Cookie', cookie).then((res) => res);
        await hold.reached;
        expect((await browser.post('/logout')).status).to.equal(303);
        hold.release();
        expect((await stolen).status).to.equal(303);
        const after = await request(h.app).get('/account').set('Cookie', cookie);
        expect(after.headers.location).to.equal('/login');
        expect(await h.db.models.Session.count({ where: { principal: principalKey({ type: 'collaborator', id: c.id }) } })).to.equal(0);
      });

      it('should stay revoked when a request with the stolen cookie was in flight at "sign out everywhere else"', async function () {
        const { c, browser: thief, cookie } = await signedInCollaborator();
        const victim = new Browser(h.app);
        await victim.signIn(c.username, GOOD_PASSWORD);
        await victim.get('/account');
        const hold = holdNextRequest();
        const inFlight = thief.get('/');
        await hold.reached;
        expect((await victim.post('/account/sessions/revocation')).status).to.equal(303);
        hold.release();
        await inFlight;
        const after = await request(h.app).get('/account').set('Cookie', cookie);
        expect(after.headers.location).to.equal('/login');
        expect((await victim.get('/account')).status).to.equal(200);
      });
    });

    describe('an expired session', function () {
      it('should be refused and not extended', async function () {
        const { cookie } = await signedInCollaborator();
        const past = new Date(Date.now() - 20 * 60 * 1000);
        await h.db.models.Session.update({ expires: past }, { where: { principal: { [Op.ne]: null } } });
        const res = await request(h.app).get('/account').set('Cookie', cookie);
        expect(res.status).to.equal(303);
        expect(res.headers.location).to.equal('/login');
        expect(await h.db.models.Session.count({ where: { principal: { [Op.ne]: null }, expires: { [Op.gt]: new Date() } } })).to.equal(0);
      });
    });

    describe('answers that depend on who is signed in', function () {
      it('should all be no-store, for the owner and for a collaborator', async function () {
        const { c, browser } = await signedInCollaborator();
        const owner = await signedInOwner(h.app, MAILBOX);
        const ownerPages = [
          '/settings/collaborations',
          `/settings/collaborations/${c.id}`,
          '/settings/collaborations/new',
          `/settings/collaborations/${c.id}/password-reset`,
          '/settings/activity',
          '/settings/activity.csv',
          '/settings/access-history',
          '/settings/password',
        ];
        for (const page of ownerPages) {
          const res = await owner.get(page);
          expect(res.status, page).to.equal(200);
          expect(res.headers['cache-control'], page).to.equal('no-store');
        }
        for (const page of ['/account', '/settings/password', '/account/mail-profile.mobileconfig', '/login', '/password/forgot']) {
          const res = await browser.get(page);
          expect(res.headers['cache-control'], page).to.equal('no-store');
        }
      });

      it('should tell the browser to drop its cache at sign-out', async function () {
        const owner = await signedInOwner(h.app, MAILBOX);
        const res = await owner.post('/logout');
        expect(res.headers['clear-site-data']).to.equal('"cache"');
      });

      it('should tell the browser to drop the session cookie at sign-out', async function () {
        const owner = await signedInOwner(h.app, MAILBOX);
        const res = await owner.post('/logout');
        const cleared = ([] as string[]).concat(res.headers['set-cookie'] ?? []).find((c) => c.startsWith('sid='));
        expect(cleared, 'a Set-Cookie for sid').to.match(/^sid=;.*Expires=Thu, 01 Jan 1970/);
        expect(cleared).to.match(/Path=\/;.*HttpOnly;.*SameSite=Lax/);
      });
    });

    describe('a visitor', function () {
      it('should leave no row behind, whatever the address, however long', async function () {
        const junk = 'x'.repeat(15_000);
        for (let i = 0; i < 5; i += 1) {
          for (const path of ['/', '/login', '/password/forgot', '/password/new', `/password/${junk}`, `/password/${'A'.repeat(43)}`]) {
            const res = await request(h.app).get(path);
            expect(res.status, path).to.be.below(500);
          }
        }
        const visitor = new Browser(h.app);
        await visitor.get('/login');
        expect((await visitor.post('/login', { username: MAILBOX, password: 'not the owner password at all' })).status).to.equal(422);
        expect(await sessionRows()).to.equal(0);
      });

      it('should keep an opened link sealed in its own browser only: nothing in the database, nothing for a planted cookie', async function () {
        const owner = await signedInOwner(h.app, MAILBOX);
        const c = await addCollaborator(h, owner, MAILBOX, { username: 'bruno.link' });
        const token = await latestLinkToken(h, c);
        // The attacker's own session (a language chosen), planted in the victim's browser.
        const attacker = new Browser(h.app);
        await attacker.get('/login');
        const planted = sidCookie(await attacker.post('/settings/language', { locale: 'en', back: '/login' })) as string;
        const rowsBefore = await sessionRows();
        const opened = await request(h.app).get(`/password/${token}`).set('Cookie', planted);
        expect(opened.status).to.equal(303);
        const sealed = ((opened.headers['set-cookie'] as unknown as string[]) ?? []).find((cookie) => cookie.startsWith('pec_link='));
        expect(sealed, 'the link, sealed in a cookie of the link pages').to.match(/; Path=\/password;/).and.match(/; HttpOnly/);
        expect(sealed).to.not.include(token);
        expect(await sessionRows(), 'no session row gained or written for the link').to.equal(rowsBefore);
        for (const row of await h.db.models.Session.findAll()) expect(row.data).to.not.include(token);
        const victim = String(sealed).split(';')[0] as string;
        expect((await request(h.app).get('/password/new').set('Cookie', victim)).status).to.equal(200);
        expect((await request(h.app).get('/password/new').set('Cookie', planted)).status).to.equal(410);
      });
    });

    describe('a password change', function () {
      it('should give the session that made it a new id, and end the old one', async function () {
        const { browser, cookie } = await signedInCollaborator();
        await browser.get('/settings/password');
        const changed = await browser.post('/settings/password', { currentPassword: GOOD_PASSWORD, password: NEW_PASSWORD, passwordConfirmation: NEW_PASSWORD });
        expect(changed.status).to.equal(303);
        expect(sidCookie(changed), 'a new session id').to.be.a('string').and.not.equal(cookie);
        expect((await browser.get('/account')).status, 'the new id is signed in').to.equal(200);
        expect((await request(h.app).get('/account').set('Cookie', cookie)).headers.location).to.equal('/login');
      });
    });

    describe('a self-service link', function () {
      it('should die when the password is changed while signed in', async function () {
        const { c, browser } = await signedInCollaborator();
        const visitor = new Browser(h.app);
        await visitor.get('/password/forgot');
        await visitor.post('/password/forgot', { username: c.username });
        await h.domain.background.settled();
        const token = await latestLinkToken(h, c);
        await browser.get('/settings/password');
        const changed = await browser.post('/settings/password', { currentPassword: GOOD_PASSWORD, password: NEW_PASSWORD, passwordConfirmation: NEW_PASSWORD });
        expect(changed.status).to.equal(303);
        const holder = new Browser(h.app);
        await holder.get(`/password/${token}`);
        expect((await holder.get('/password/new')).status).to.equal(410);
        expect((await new Browser(h.app).signIn(c.username, NEW_PASSWORD)).status).to.equal(303);
      });
    });
  });
}
