import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { DATABASES, type TestDatabase } from '../support/databases';
import { BASE_URL, Browser, GOOD_PASSWORD, OWNER_PASSWORD, WIDE_LIMITS, startHarness, type Harness } from '../support/harness';
import { activate, collaboratorIn, reload } from '../support/accounts';
import { AuthenticatorApp } from '../support/authenticator';
import { CLIENT_ID, CLIENT_SECRET, ForgingProvider, ProviderBrowser, TestProvider, type ProviderAccount } from '../support/oidc';
import { system } from '../../src/domain/actor';
import type { Collaborator, Mailbox } from '../../src/models';

const MAILBOX = 'studio.oidc@pec.example.it';
const GOOGLE_CALLBACK = `${BASE_URL}/login/oidc/google/callback`;
const MICROSOFT_CALLBACK = `${BASE_URL}/login/oidc/microsoft/callback`;
const MFA_ACR = 'urn:test:mfa';

/** A port nothing listens on (bound, then let go). */
async function closedPort(): Promise<number> {
  const server = http.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function providerEnv(google: string, microsoft: string): Record<string, string> {
  return {
    OIDC_GOOGLE_ISSUER: google,
    OIDC_GOOGLE_CLIENT_ID: CLIENT_ID,
    OIDC_GOOGLE_CLIENT_SECRET: CLIENT_SECRET,
    OIDC_MICROSOFT_ISSUER: microsoft,
    OIDC_MICROSOFT_CLIENT_ID: CLIENT_ID,
    OIDC_MICROSOFT_CLIENT_SECRET: CLIENT_SECRET,
    OIDC_MFA_ACR: MFA_ACR,
  };
}

/** The app's path of a URL under BASE_URL. */
const pathOf = (url: string) => url.slice(BASE_URL.length);

for (const { name, create } of DATABASES) {
  describe(`Sign-in with an OpenID Connect provider (${name})`, function () {
    this.timeout(60_000);
    let database: TestDatabase;
    let h: Harness;
    let google: TestProvider;
    let forger: ForgingProvider;
    let mailbox: Mailbox;
    let counter = 0;

    before(async function () {
      google = await TestProvider.start([GOOGLE_CALLBACK]);
      forger = await ForgingProvider.start();
      database = await create();
      h = await startHarness(database.url, { ...WIDE_LIMITS, ...providerEnv(google.issuer, forger.issuer) });
      mailbox = await h.mailbox(MAILBOX);
    });

    after(async function () {
      await h?.close();
      await database?.drop();
      await google?.close();
      await forger?.close();
    });

    afterEach(async function () {
      await h.reset();
      google.accounts.clear();
      forger.tamper = (claims) => claims;
      forger.tokenEndpointDown = false;
    });

    async function collaborator(status: 'active' | 'suspended' | 'deactivated' = 'active'): Promise<Collaborator> {
      counter += 1;
      return collaboratorIn(h, mailbox, status, { firstName: 'Anna', lastName: 'Bianchi', username: `anna.${counter}`, referenceEmail: `anna.${counter}@example.com`, accessLevel: 'send', manageSettings: false });
    }

    async function signedIn(username: string, password = GOOD_PASSWORD): Promise<Browser> {
      const browser = new Browser(h.app);
      const res = await browser.signIn(username, password);
      expect(res.status, res.text).to.equal(303);
      return browser;
    }

    /** A provider account `sub` at the test provider, whom its login page offers next. */
    function atGoogle(sub: string, account: ProviderAccount = {}): void {
      google.accounts.set(sub, { email: `${sub}@gmail.example`, ...account });
      google.nextLogin = sub;
    }

    /** Starts at the app (`start`: the link form or the sign-in button), goes through the provider, comes back: the callback's answer. */
    async function throughProvider(browser: Browser, start: () => Promise<{ status: number; headers: Record<string, string> }>, callback = GOOGLE_CALLBACK) {
      const started = await start();
      expect(started.status).to.equal(303);
      const at = started.headers.location as string;
      const back = await new ProviderBrowser().through(at, callback);
      return { back, res: await browser.get(pathOf(back)) };
    }

    async function link(browser: Browser, provider = 'google', callback = GOOGLE_CALLBACK) {
      await browser.get('/account/identities');
      return throughProvider(browser, () => browser.post('/account/identities', { provider }), callback);
    }

    async function signInWith(provider = 'google', callback = GOOGLE_CALLBACK) {
      const browser = new Browser(h.app);
      const page = await browser.get('/login');
      expect(page.text).to.contain(`action="/login/oidc/${provider}"`);
      const result = await throughProvider(browser, () => browser.post(`/login/oidc/${provider}`), callback);
      return { browser, ...result };
    }

    /** Whether `browser` is signed in: its account page answers, instead of sending it to /login. */
    async function isSignedIn(browser: Browser): Promise<boolean> {
      const res = await browser.get('/account/identities');
      return res.status === 200;
    }

    describe('GET /login', function () {
      it('should offer "Accedi con Google" and "Accedi con Microsoft", the configured providers', async function () {
        const page = await new Browser(h.app).get('/login');
        expect(page.text).to.contain('Accedi con Google').and.to.contain('Accedi con Microsoft');
      });
    });

    describe('linking, then signing in', function () {
      it('should link a Google identity to a collaborator, email them, record it, and sign them in with it', async function () {
        const c = await collaborator();
        const browser = await signedIn(c.username);
        atGoogle('google-anna', { email: 'anna.personal@gmail.example' });
        const { res } = await link(browser);
        expect(res.status, res.text).to.equal(303);
        expect(res.headers.location).to.equal('/account/identities');
        const page = await browser.get('/account/identities');
        expect(page.text.replace(/<wbr>/g, '')).to.contain('anna.personal@gmail.example').and.to.contain('Google');
        const row = await h.db.models.LinkedIdentity.findOne({ where: { principalType: 'collaborator', principalId: c.id } });
        expect(row?.issuer).to.equal(google.issuer);
        expect(row?.subject).to.equal('google-anna');
        const audit = await h.db.models.AuditEvent.findOne({ where: { action: 'identity.linked', collaboratorId: c.id } });
        expect(audit, 'recorded in the activity log').to.not.equal(null);
        const email = await h.db.models.OutboxMessage.findOne({ where: { template: 'identity_linked', collaboratorId: c.id } });
        expect(email?.recipient).to.equal(c.referenceEmail);

        const { browser: other, res: signIn } = await signInWith();
        expect(signIn.status, signIn.text).to.equal(303);
        expect(signIn.headers.location).to.equal('/account');
        expect((await other.get('/account')).status).to.equal(200);
        const access = await h.db.models.AccessEvent.findOne({ where: { collaboratorId: c.id, outcome: 'success' }, order: [['id', 'DESC']] });
        expect(access, 'in the access history').to.not.equal(null);
      });

      it('should link an identity to the owner and sign the owner in with it', async function () {
        const owner = await signedIn(MAILBOX, OWNER_PASSWORD);
        atGoogle('google-owner');
        expect((await link(owner)).res.status).to.equal(303);
        const { res } = await signInWith();
        expect(res.status, res.text).to.equal(303);
        expect(res.headers.location).to.equal('/settings/collaborations');
      });
    });

    describe('identities found by issuer and subject only', function () {
      it('should sign nobody in with a never-linked provider account whose email is the owner’s mailbox or a collaborator’s reference email', async function () {
        const c = await collaborator();
        for (const email of [MAILBOX, c.referenceEmail]) {
          atGoogle(`stranger-${email}`, { email });
          const { browser, res } = await signInWith();
          expect(res.status).to.equal(403);
          expect(res.text).to.contain('non è collegato a nessun account');
          expect(await isSignedIn(browser)).to.equal(false);
        }
        expect(await h.db.models.LinkedIdentity.count()).to.equal(0);
        expect(await h.db.models.Session.count({ where: { principal: `collaborator:${c.id}` } })).to.equal(0);
        expect(await h.db.models.Session.count({ where: { principal: `owner:${mailbox.id}` } })).to.equal(0);
      });

      it('should refuse to link to a second account an identity linked to one, with a clear message', async function () {
        const owner = await signedIn(MAILBOX, OWNER_PASSWORD);
        atGoogle('google-shared');
        expect((await link(owner)).res.status).to.equal(303);
        const c = await collaborator();
        const browser = await signedIn(c.username);
        const { res } = await link(browser);
        expect(res.status).to.equal(409);
        expect(res.text).to.contain('già collegato a un altro account');
        const rows = await h.db.models.LinkedIdentity.findAll();
        expect(rows.map((r) => r.principalType)).to.deep.equal(['owner']);
      });

      it('should tell an account that links the same identity twice that it is already linked', async function () {
        const owner = await signedIn(MAILBOX, OWNER_PASSWORD);
        atGoogle('google-twice');
        expect((await link(owner)).res.status).to.equal(303);
        const again = await link(owner);
        expect(again.res.status).to.equal(409);
        expect(again.res.text).to.contain('è già collegato al tuo account');
        expect(await h.db.models.LinkedIdentity.count()).to.equal(1);
      });
    });

    describe('accounts whose row goes', function () {
      it('should free the identity of a removed or recreated collaborator, to be linked again (the recreated account first)', async function () {
        const c = await collaborator();
        atGoogle('google-recreated');
        expect((await link(await signedIn(c.username))).res.status).to.equal(303);
        const recreated = await h.domain.collaborations.recreate(c, { referenceEmail: 'anna.corrected@example.com' }, { actor: system });
        expect(await h.db.models.LinkedIdentity.count(), 'gone with the old row').to.equal(0);
        await activate(h, recreated);
        atGoogle('google-recreated');
        expect((await link(await signedIn(recreated.username))).res.status, 'linked again').to.equal(303);
        await h.domain.collaborations.deactivate(recreated, { actor: system });
        await h.domain.collaborations.remove(await reload(h, recreated), { actor: system });
        expect(await h.db.models.LinkedIdentity.count(), 'gone with the removed row').to.equal(0);
        atGoogle('google-recreated');
        expect((await link(await signedIn(MAILBOX, OWNER_PASSWORD))).res.status, 'free for anyone').to.equal(303);
      });
    });

    describe('accounts that cannot sign in', function () {
      for (const status of ['suspended', 'deactivated'] as const) {
        it(`should not sign in a ${status} collaborator through its linked identity, and keep the link`, async function () {
          const c = await collaborator();
          const browser = await signedIn(c.username);
          atGoogle(`google-${status}`);
          expect((await link(browser)).res.status).to.equal(303);
          if (status === 'suspended') await h.domain.collaborations.resetPassword(c, { actor: system });
          else await h.domain.collaborations.deactivate(c, { actor: system });
          const { browser: other, res } = await signInWith();
          expect(res.status).to.equal(403);
          expect(res.text).to.contain('ora non può accedere');
          expect(await isSignedIn(other)).to.equal(false);
          expect(await h.db.models.LinkedIdentity.count({ where: { principalId: c.id } })).to.equal(1);
          const refused = await h.db.models.AccessEvent.findOne({ where: { collaboratorId: c.id, outcome: 'failure' } });
          expect(refused, 'the refusal is in the access history').to.not.equal(null);
        });
      }

      it('should not sign in a collaborator whose access end date has passed', async function () {
        const c = await collaborator();
        const browser = await signedIn(c.username);
        atGoogle('google-ending');
        expect((await link(browser)).res.status).to.equal(303);
        await c.update({ accessEndsAt: new Date(h.clock.now().getTime() + 60_000) });
        h.clock.advance(120_000);
        const { res } = await signInWith();
        expect(res.status).to.equal(403);
      });

      it('should end a session opened through a provider when "sign out everywhere else" is used', async function () {
        const c = await collaborator();
        const browser = await signedIn(c.username);
        atGoogle('google-everywhere');
        expect((await link(browser)).res.status).to.equal(303);
        const { browser: viaProvider, res } = await signInWith();
        expect(res.status).to.equal(303);
        expect(await isSignedIn(viaProvider)).to.equal(true);
        await browser.get('/account');
        expect((await browser.post('/account/sessions/revocation')).status).to.equal(303);
        expect(await isSignedIn(viaProvider)).to.equal(false);
        expect(await isSignedIn(browser)).to.equal(true);
      });
    });

    describe('the second step', function () {
      async function withTotp(c: Collaborator): Promise<void> {
        const offer = await h.domain.twoStep.offerTotp(c.username);
        await h.domain.twoStep.enableTotp({ type: 'collaborator', collaborator: c, mailbox }, offer.sealed, new AuthenticatorApp(offer.secret).code(h));
      }

      it('should ask for our second step after a provider sign-in without a second factor', async function () {
        const c = await collaborator();
        const browser = await signedIn(c.username);
        atGoogle('google-one-factor', { amr: ['pwd'] });
        expect((await link(browser)).res.status).to.equal(303);
        await withTotp(c);
        const { browser: other, res } = await signInWith();
        expect(res.headers.location).to.equal('/login/two-step');
        expect(await isSignedIn(other)).to.equal(false);
      });

      const twoFactors: Array<[string, ProviderAccount]> = [['an amr naming a second factor', { amr: ['pwd', 'mfa'] }], ['an acr the operator lists as multi-factor', { acr: MFA_ACR }]];
      for (const [what, account] of twoFactors) {
        it(`should count the provider's sign-in as two steps with ${what}`, async function () {
          const c = await collaborator();
          const browser = await signedIn(c.username);
          atGoogle('google-two-factors', account);
          expect((await link(browser)).res.status).to.equal(303);
          await withTotp(c);
          const { browser: other, res } = await signInWith();
          expect(res.headers.location).to.equal('/account');
          expect(await isSignedIn(other)).to.equal(true);
        });
      }
    });

    describe('POST /account/identities/:id/removal', function () {
      it('should unlink only with the current password, record it, and then sign nobody in with that identity', async function () {
        const c = await collaborator();
        const browser = await signedIn(c.username);
        atGoogle('google-unlink');
        expect((await link(browser)).res.status).to.equal(303);
        const row = await h.db.models.LinkedIdentity.findOne();
        await browser.get('/account/identities');
        const wrong = await browser.post(`/account/identities/${row?.id}/removal`, { currentPassword: 'not the password at all' });
        expect(wrong.status).to.equal(422);
        expect(wrong.text).to.contain('La password attuale non è corretta');
        expect(await h.db.models.LinkedIdentity.count()).to.equal(1);
        const done = await browser.post(`/account/identities/${row?.id}/removal`, { currentPassword: GOOD_PASSWORD });
        expect(done.status).to.equal(303);
        expect(await h.db.models.LinkedIdentity.count()).to.equal(0);
        expect(await h.db.models.AuditEvent.count({ where: { action: 'identity.unlinked', collaboratorId: c.id } })).to.equal(1);
        const { res } = await signInWith();
        expect(res.status).to.equal(403);
      });

      it('should not unlink another account’s identity (404)', async function () {
        const owner = await signedIn(MAILBOX, OWNER_PASSWORD);
        atGoogle('google-not-yours');
        expect((await link(owner)).res.status).to.equal(303);
        const row = await h.db.models.LinkedIdentity.findOne();
        const c = await collaborator();
        const browser = await signedIn(c.username);
        await browser.get('/account/identities');
        const res = await browser.post(`/account/identities/${row?.id}/removal`, { currentPassword: GOOD_PASSWORD });
        expect(res.status).to.equal(404);
        expect(await h.db.models.LinkedIdentity.count()).to.equal(1);
      });
    });

    describe('answers that must not sign anyone in', function () {
      it('should refuse a replayed callback (the same browser again, or another one) with a clear page', async function () {
        const owner = await signedIn(MAILBOX, OWNER_PASSWORD);
        atGoogle('google-replay');
        expect((await link(owner)).res.status).to.equal(303);
        const { back, res } = await signInWith();
        expect(res.status).to.equal(303);
        const attacker = new Browser(h.app);
        const replayed = await attacker.get(pathOf(back));
        expect(replayed.status).to.equal(400);
        expect(replayed.text).to.contain('già stato usato');
        expect(await isSignedIn(attacker)).to.equal(false);
      });

      it('should refuse a forged state, and leave no session', async function () {
        const owner = await signedIn(MAILBOX, OWNER_PASSWORD);
        atGoogle('google-forged-state');
        expect((await link(owner)).res.status).to.equal(303);
        const browser = new Browser(h.app);
        await browser.get('/login');
        const started = await browser.post('/login/oidc/google');
        const back = new URL(await new ProviderBrowser().through(started.headers.location as string, GOOGLE_CALLBACK));
        const genuine = back.href;
        back.searchParams.set('state', 'a-state-this-browser-never-sent');
        const res = await browser.get(pathOf(back.href));
        expect(res.status).to.equal(400);
        expect(res.text).to.contain('non ha superato le verifiche');
        expect(await isSignedIn(browser)).to.equal(false);
        // The flow was spent by that answer: not even the genuine one is taken now.
        const after = await browser.get(pathOf(genuine));
        expect(after.status).to.equal(400);
        expect(await isSignedIn(browser)).to.equal(false);
      });

      describe('ID tokens signed by the provider’s key with a wrong claim', function () {
        async function linkForger(): Promise<void> {
          const owner = await signedIn(MAILBOX, OWNER_PASSWORD);
          expect((await link(owner, 'microsoft', MICROSOFT_CALLBACK)).res.status).to.equal(303);
        }

        it('should sign in with the hand-made provider’s untampered token (the control)', async function () {
          await linkForger();
          const { browser, res } = await signInWith('microsoft', MICROSOFT_CALLBACK);
          expect(res.status, res.text).to.equal(303);
          expect(await isSignedIn(browser)).to.equal(true);
        });

        const now = () => Math.floor(Date.now() / 1000);
        const attacks: Array<[string, (claims: Record<string, unknown>) => Record<string, unknown>]> = [
          ['a wrong nonce', (claims) => ({ ...claims, nonce: 'another-nonce' })],
          ['another issuer', (claims) => ({ ...claims, iss: 'https://accounts.evil.example' })],
          ['another client (aud)', (claims) => ({ ...claims, aud: 'another-client' })],
          ['an expired token', (claims) => ({ ...claims, iat: now() - 3600, exp: now() - 1800 })],
        ];
        for (const [what, tamper] of attacks) {
          it(`should refuse ${what} with a clear page and no session`, async function () {
            await linkForger();
            forger.tamper = tamper;
            const { browser, res } = await signInWith('microsoft', MICROSOFT_CALLBACK);
            expect(res.status).to.equal(400);
            expect(res.text).to.contain('La risposta di Microsoft non ha superato le verifiche');
            expect(await isSignedIn(browser)).to.equal(false);
          });
        }

        it('should show a clear page, and no session, when the token endpoint is down', async function () {
          await linkForger();
          forger.tokenEndpointDown = true;
          const { browser, res } = await signInWith('microsoft', MICROSOFT_CALLBACK);
          expect(res.status).to.equal(502);
          expect(res.text).to.contain('Microsoft non è raggiungibile');
          expect(await isSignedIn(browser)).to.equal(false);
        });
      });
    });

    describe('a provider whose discovery cannot be reached, and one not configured', function () {
      let other: Harness;
      let otherDatabase: TestDatabase;

      before(async function () {
        otherDatabase = await create();
        const down = `http://127.0.0.1:${await closedPort()}`;
        other = await startHarness(otherDatabase.url, { OIDC_MICROSOFT_ISSUER: down, OIDC_MICROSOFT_CLIENT_ID: CLIENT_ID, OIDC_MICROSOFT_CLIENT_SECRET: CLIENT_SECRET });
      });

      after(async function () {
        await other?.close();
        await otherDatabase?.drop();
      });

      it('should show only the configured provider, and a clear page when it is down', async function () {
        const browser = new Browser(other.app);
        const page = await browser.get('/login');
        expect(page.text).to.contain('Accedi con Microsoft').and.not.to.contain('Accedi con Google');
        expect((await browser.post('/login/oidc/google')).status).to.equal(404);
        const res = await browser.post('/login/oidc/microsoft');
        expect(res.status).to.equal(502);
        expect(res.text).to.contain('Microsoft non è raggiungibile');
        expect(await other.db.models.Session.count()).to.equal(0);
      });
    });
  });
}
