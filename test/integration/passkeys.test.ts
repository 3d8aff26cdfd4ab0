import { expect } from 'chai';
import { DATABASES } from '../support/databases';
import { Browser, BASE_URL, GOOD_PASSWORD, OWNER_PASSWORD, harnessPerSuite, signedInOwner, type Harness } from '../support/harness';
import { collaboratorIn } from '../support/accounts';
import { SoftAuthenticator } from '../support/passkey-authenticator';
import { CHALLENGE_TTL_MS } from '../../src/domain/passkeys';
import type { Mailbox } from '../../src/models';

const MAILBOX = 'studio.chiavi@pec.example.it';
const OTHER = 'studio.altro@pec.example.it';
const LIMIT = 3;

interface CreationOptions {
  challenge: string;
  rp: { id: string; name: string };
  user: { id: string; name: string };
  excludeCredentials: Array<{ id: string }>;
  authenticatorSelection: { residentKey: string; userVerification: string };
}
interface RequestOptions {
  challenge: string;
  rpId: string;
  allowCredentials: Array<{ id: string }>;
  userVerification: string;
}

for (const { name, create } of DATABASES) {
  describe(`Passkeys (${name})`, function () {
    let h: Harness;
    let mailbox: Mailbox;

    harnessPerSuite(create, { mailboxes: [MAILBOX, OTHER], env: { SIGN_IN_LIMIT_PER_ACCOUNT: String(LIMIT) } }, (harness) => {
      h = harness;
    });

    beforeEach(async function () {
      mailbox = (await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } })) as Mailbox;
    });

    afterEach(async function () {
      await h.reset();
      await h.db.models.SecondFactor.destroy({ where: {} });
      await h.db.models.RecoveryCode.destroy({ where: {} });
    });

    /** JSON options, the CSRF token in the header as passkeys.js sends it. */
    async function options<T>(browser: Browser, url: string, token = browser.csrf): Promise<{ status: number; body: T }> {
      const res = await browser.agent.post(url).set({ 'X-CSRF-Token': token, Accept: 'application/json' });
      return { status: res.status, body: res.body as T };
    }

    /** Adds a passkey from the settings page as the script does: options, then the form. */
    async function addPasskey(browser: Browser, authenticator: SoftAuthenticator, passkeyName = '') {
      await browser.get('/settings/two-step');
      const { body } = await options<CreationOptions>(browser, '/settings/two-step/passkeys/options');
      return browser.post('/settings/two-step/passkeys', { name: passkeyName, response: authenticator.register(body) });
    }

    /** The owner with a passkey (two-step on), signed out again. */
    async function ownerWithPasskey(): Promise<SoftAuthenticator> {
      const owner = await signedInOwner(h.app, MAILBOX);
      const authenticator = new SoftAuthenticator(BASE_URL);
      const res = await addPasskey(owner, authenticator, 'Portatile');
      expect(res.status, res.text).to.equal(200);
      return authenticator;
    }

    /** Past the password of an account with two-step on, on the second-step page. */
    async function pending(username = MAILBOX, password = OWNER_PASSWORD): Promise<Browser> {
      const browser = new Browser(h.app);
      const res = await browser.signIn(username, password);
      expect(res.headers.location).to.equal('/login/two-step');
      await browser.get('/login/two-step');
      return browser;
    }

    async function passkeySignIn(browser: Browser, authenticator: SoftAuthenticator) {
      const { status, body } = await options<RequestOptions>(browser, '/login/two-step/passkey/options');
      expect(status).to.equal(200);
      return browser.post('/login/two-step/passkey', { response: authenticator.assert(body) });
    }

    const failures = () => h.db.models.AccessEvent.count({ where: { username: MAILBOX, outcome: 'failure' } });

    describe('POST /settings/two-step/passkeys/options', () => {
      it('should offer creation options for BASE_URL, with an opaque user id and the holder’s passkeys excluded', async () => {
        const authenticator = await ownerWithPasskey();
        const owner = await signedInOwnerPastSecondStep(authenticator);
        await owner.get('/settings/two-step');
        const { status, body } = await options<CreationOptions>(owner, '/settings/two-step/passkeys/options');
        expect(status).to.equal(200);
        expect(body.rp.id).to.equal('webmail.pec.test');
        expect(body.user.name).to.equal(MAILBOX);
        expect(Buffer.from(body.user.id, 'base64url').toString('latin1')).not.to.include(MAILBOX);
        expect(body.excludeCredentials.map((c) => c.id)).to.deep.equal([authenticator.credentialId]);
        expect(body.authenticatorSelection).to.include({ residentKey: 'preferred', userVerification: 'preferred' });
      });

      it('should send a visitor to sign in', async () => {
        const visitor = new Browser(h.app);
        await visitor.get('/login');
        const { status } = await options(visitor, '/settings/two-step/passkeys/options');
        expect(status).to.equal(303);
      });

      it('should refuse a request without the CSRF token (403)', async () => {
        const owner = await signedInOwner(h.app, MAILBOX);
        const { status } = await options(owner, '/settings/two-step/passkeys/options', 'not-the-token');
        expect(status).to.equal(403);
      });
    });

    describe('POST /settings/two-step/passkeys', () => {
      it('should store the first passkey, turn two-step on and show the recovery codes once', async () => {
        const owner = await signedInOwner(h.app, MAILBOX);
        const res = await addPasskey(owner, new SoftAuthenticator(BASE_URL), '  Portatile  ');
        expect(res.status).to.equal(200);
        expect(res.text.match(/<li><code>[a-z2-9-]{14}<\/code><\/li>/g)).to.have.length(10);
        const stored = await h.db.models.SecondFactor.findAll({ where: { principalType: 'owner', principalId: mailbox.id } });
        expect(stored.map((f) => [f.kind, f.name])).to.deep.equal([['passkey', 'Portatile']]);
        expect(await h.domain.twoStep.isOn({ type: 'owner', id: mailbox.id })).to.equal(true);
        const page = await owner.get('/settings/two-step');
        expect(page.text).to.include('Portatile').and.not.to.match(/<code>[a-z2-9]{4}-/);
      });

      it('should add a second passkey without new recovery codes, named after the browser when no name is typed', async () => {
        const owner = await signedInOwner(h.app, MAILBOX);
        await addPasskey(owner, new SoftAuthenticator(BASE_URL), 'Uno');
        await owner.get('/settings/two-step');
        const { body } = await options<CreationOptions>(owner, '/settings/two-step/passkeys/options');
        const res = await owner.post('/settings/two-step/passkeys', { name: '', response: new SoftAuthenticator(BASE_URL).register(body) }, { 'User-Agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0 Safari/537.36' });
        expect(res.status).to.equal(303);
        const names = (await h.db.models.SecondFactor.findAll({ order: [['id', 'ASC']] })).map((f) => f.name);
        expect(names).to.deep.equal(['Uno', 'Chrome, Linux']);
        expect(await h.db.models.RecoveryCode.count()).to.equal(10);
        expect(await h.db.models.OutboxMessage.count({ where: { template: 'two_step_changed', recipient: MAILBOX } }), 'the holder told').to.equal(1);
      });

      it('should refuse a garbage or forged credential with 422 and store nothing', async () => {
        const owner = await signedInOwner(h.app, MAILBOX);
        for (const response of ['', 'not json', '{"id":"x","rawId":"x","type":"public-key","response":{}}']) {
          await owner.get('/settings/two-step');
          await options(owner, '/settings/two-step/passkeys/options');
          const res = await owner.post('/settings/two-step/passkeys', { name: 'x', response });
          expect(res.status, response).to.equal(422);
          expect(res.text).to.include('Non è stato possibile verificare la passkey');
        }
        // Signed for another site: the RP ID hash does not match.
        await owner.get('/settings/two-step');
        const { body } = await options<CreationOptions>(owner, '/settings/two-step/passkeys/options');
        const res = await owner.post('/settings/two-step/passkeys', { name: 'x', response: new SoftAuthenticator(BASE_URL).register({ ...body, rp: { id: 'evil.example' } }) });
        expect(res.status).to.equal(422);
        expect(await h.db.models.SecondFactor.count()).to.equal(0);
      });

      it('should accept each challenge once, and not after 5 minutes', async () => {
        const owner = await signedInOwner(h.app, MAILBOX);
        const authenticator = new SoftAuthenticator(BASE_URL);
        await owner.get('/settings/two-step');
        const { body } = await options<CreationOptions>(owner, '/settings/two-step/passkeys/options');
        await owner.post('/settings/two-step/passkeys', { name: 'x', response: 'garbage' });
        const again = await owner.post('/settings/two-step/passkeys', { name: 'x', response: authenticator.register(body) });
        expect(again.status).to.equal(422);
        expect(again.text).to.include('La richiesta è scaduta');
        await owner.get('/settings/two-step');
        const late = await options<CreationOptions>(owner, '/settings/two-step/passkeys/options');
        h.clock.advance(CHALLENGE_TTL_MS + 1000);
        const res = await owner.post('/settings/two-step/passkeys', { name: 'x', response: authenticator.register(late.body) });
        expect(res.status).to.equal(422);
        expect(res.text).to.include('La richiesta è scaduta');
        expect(await h.db.models.SecondFactor.count()).to.equal(0);
      });

      it('should refuse a name over 80 characters, and keep what was typed', async () => {
        const owner = await signedInOwner(h.app, MAILBOX);
        const res = await addPasskey(owner, new SoftAuthenticator(BASE_URL), 'è'.repeat(81));
        expect(res.status).to.equal(422);
        expect(res.text).to.include('al massimo 80 caratteri').and.include('è'.repeat(81));
        expect(await h.db.models.SecondFactor.count()).to.equal(0);
      });

      it('should refuse a passkey already registered to another account', async () => {
        const authenticator = new SoftAuthenticator(BASE_URL);
        await addPasskey(await signedInOwner(h.app, OTHER), authenticator);
        const res = await addPasskey(await signedInOwner(h.app, MAILBOX), authenticator);
        expect(res.status).to.equal(422);
        expect(res.text).to.include('già registrata');
        expect(await h.db.models.SecondFactor.count()).to.equal(1);
      });

      it('should refuse a form without the CSRF token (403)', async () => {
        const owner = await signedInOwner(h.app, MAILBOX);
        await owner.get('/settings/two-step');
        const { body } = await options<CreationOptions>(owner, '/settings/two-step/passkeys/options');
        const res = await owner.post('/settings/two-step/passkeys', { _csrf: '', name: 'x', response: new SoftAuthenticator(BASE_URL).register(body) });
        expect(res.status).to.equal(403);
        expect(await h.db.models.SecondFactor.count()).to.equal(0);
      });
    });

    /** The owner, past password and passkey, on the two-step settings page. */
    async function signedInOwnerPastSecondStep(authenticator: SoftAuthenticator): Promise<Browser> {
      const browser = await pending();
      const res = await passkeySignIn(browser, authenticator);
      expect(res.status, res.text).to.equal(303);
      await browser.get('/settings/two-step');
      return browser;
    }

    describe('POST /settings/two-step/passkeys/:id/removal', () => {
      it('should refuse to remove the last second factor (409)', async () => {
        const owner = await signedInOwnerPastSecondStep(await ownerWithPasskey());
        const passkey = await h.db.models.SecondFactor.findOne();
        const res = await owner.post(`/settings/two-step/passkeys/${passkey?.id}/removal`);
        expect(res.status).to.equal(409);
        expect(res.text).to.include('È il tuo unico secondo passaggio');
        expect(await h.db.models.SecondFactor.count()).to.equal(1);
      });

      it('should remove a passkey when another factor remains', async () => {
        const owner = await signedInOwnerPastSecondStep(await ownerWithPasskey());
        await addPasskey(owner, new SoftAuthenticator(BASE_URL), 'Telefono');
        const first = await h.db.models.SecondFactor.findOne({ where: { name: 'Portatile' } });
        await owner.get('/settings/two-step');
        const res = await owner.post(`/settings/two-step/passkeys/${first?.id}/removal`);
        expect(res.status).to.equal(303);
        expect((await h.db.models.SecondFactor.findAll()).map((f) => f.name)).to.deep.equal(['Telefono']);
        expect(await h.db.models.OutboxMessage.count({ where: { template: 'two_step_changed' } }), 'added, then removed: the holder told each time').to.equal(2);
      });

      it("should answer 404 for another account's passkey and leave it", async () => {
        await addPasskey(await signedInOwner(h.app, OTHER), new SoftAuthenticator(BASE_URL));
        const theirs = await h.db.models.SecondFactor.findOne();
        const owner = await signedInOwnerPastSecondStep(await ownerWithPasskey());
        await addPasskey(owner, new SoftAuthenticator(BASE_URL), 'Telefono');
        await owner.get('/settings/two-step');
        for (const id of [String(theirs?.id), '999999', 'abc']) {
          const res = await owner.post(`/settings/two-step/passkeys/${id}/removal`);
          expect(res.status, id).to.equal(404);
        }
        expect(await h.db.models.SecondFactor.count()).to.equal(3);
      });

      it('should refuse a removal without the CSRF token (403)', async () => {
        const owner = await signedInOwnerPastSecondStep(await ownerWithPasskey());
        await addPasskey(owner, new SoftAuthenticator(BASE_URL), 'Telefono');
        const passkey = await h.db.models.SecondFactor.findOne();
        const res = await owner.post(`/settings/two-step/passkeys/${passkey?.id}/removal`, { _csrf: 'forged' });
        expect(res.status).to.equal(403);
        expect(await h.db.models.SecondFactor.count()).to.equal(2);
      });
    });

    describe('POST /login/two-step/passkey/options', () => {
      it('should refuse a browser without a pending sign-in (401)', async () => {
        await ownerWithPasskey();
        const visitor = new Browser(h.app);
        await visitor.get('/login');
        const res = await options(visitor, '/login/two-step/passkey/options');
        expect(res.status).to.equal(401);
        expect(res.body).not.to.have.property('challenge');
      });

      it("should offer only that account's passkeys, for BASE_URL", async () => {
        await addPasskey(await signedInOwner(h.app, OTHER), new SoftAuthenticator(BASE_URL));
        const authenticator = await ownerWithPasskey();
        const { status, body } = await options<RequestOptions>(await pending(), '/login/two-step/passkey/options');
        expect(status).to.equal(200);
        expect(body.rpId).to.equal('webmail.pec.test');
        expect(body.userVerification).to.equal('preferred');
        expect(body.allowCredentials.map((c) => c.id)).to.deep.equal([authenticator.credentialId]);
      });

      it('should refuse a request without the CSRF token (403)', async () => {
        await ownerWithPasskey();
        const res = await options(await pending(), '/login/two-step/passkey/options', '');
        expect(res.status).to.equal(403);
      });
    });

    describe('POST /login/two-step/passkey', () => {
      it('should finish the sign-in, record it and update the counter and the time of use', async () => {
        const authenticator = await ownerWithPasskey();
        const successes = () => h.db.models.AccessEvent.count({ where: { username: MAILBOX, outcome: 'success' } });
        const before = await successes();
        const browser = await pending();
        const res = await passkeySignIn(browser, authenticator);
        expect(res.status).to.equal(303);
        expect(res.headers.location).to.equal('/settings/collaborations');
        expect((await browser.get('/settings/collaborations')).status).to.equal(200);
        const passkey = await h.db.models.SecondFactor.findOne();
        expect(passkey?.signCount).to.equal(1);
        expect(passkey?.lastUsedAt?.toISOString()).to.equal(h.clock.now().toISOString());
        expect(await successes()).to.equal(before + 1);
      });

      it('should work for a collaborator too', async () => {
        const c = await collaboratorIn(h, mailbox, 'active', { firstName: 'Anna', lastName: 'Neri', username: 'anna.neri', referenceEmail: 'anna@example.com', accessLevel: 'read', manageSettings: false });
        const browser = new Browser(h.app);
        await browser.signIn(c.username, GOOD_PASSWORD);
        const authenticator = new SoftAuthenticator(BASE_URL);
        expect((await addPasskey(browser, authenticator)).status).to.equal(200);
        const res = await passkeySignIn(await pending(c.username, GOOD_PASSWORD), authenticator);
        expect(res.headers.location).to.equal('/account');
      });

      it('should refuse garbage with 422, record it, and count it against the sign-in limits', async () => {
        await ownerWithPasskey();
        const browser = await pending();
        for (let i = 0; i < LIMIT; i++) {
          await options(browser, '/login/two-step/passkey/options');
          const res = await browser.post('/login/two-step/passkey', { response: i === 0 ? '' : '{"id":"x","rawId":"x","type":"public-key","response":{}}' });
          expect(res.status).to.equal(422);
          expect(res.text).to.include('La passkey non è stata accettata');
        }
        expect(await failures()).to.equal(LIMIT);
        await options(browser, '/login/two-step/passkey/options');
        const res = await browser.post('/login/two-step/passkey', { response: 'garbage' });
        expect(res.status).to.equal(429);
      });

      it("should refuse an assertion of another account's passkey", async () => {
        const theirs = new SoftAuthenticator(BASE_URL);
        await addPasskey(await signedInOwner(h.app, OTHER), theirs);
        await ownerWithPasskey();
        const res = await passkeySignIn(await pending(), theirs);
        expect(res.status).to.equal(422);
        expect(await failures()).to.equal(1);
      });

      it('should refuse an assertion whose counter did not grow (a cloned or replayed passkey)', async () => {
        const authenticator = await ownerWithPasskey();
        expect((await passkeySignIn(await pending(), authenticator)).status).to.equal(303);
        authenticator.counter -= 1;
        const res = await passkeySignIn(await pending(), authenticator);
        expect(res.status).to.equal(422);
        expect((await h.db.models.SecondFactor.findOne())?.signCount).to.equal(1);
      });

      it('should accept one assertion once when it arrives twice at the same time (one conditional UPDATE)', async () => {
        const authenticator = await ownerWithPasskey();
        const principal = { type: 'owner' as const, id: mailbox.id };
        const { options: requested, challenge } = await h.domain.passkeys.signInOptions(principal);
        const response = authenticator.assert(requested as unknown as RequestOptions);
        const results = await Promise.all([0, 1].map(() => h.domain.passkeys.verifySignIn(principal, challenge, response)));
        expect(results.sort()).to.deep.equal([false, true]);
      });

      it('should let one pending sign-in become one session, when a synced passkey\'s answer (counter 0) arrives twice at once', async () => {
        const owner = await signedInOwner(h.app, MAILBOX);
        const authenticator = new SoftAuthenticator(BASE_URL, true);
        expect((await addPasskey(owner, authenticator, 'Sincronizzata')).status).to.equal(200);
        const browser = await pending();
        const { body } = await options<RequestOptions>(browser, '/login/two-step/passkey/options');
        const response = authenticator.assert(body);
        const sessionsBefore = await h.db.models.Session.count({ where: { principal: `owner:${mailbox.id}` } });
        const results = await Promise.all([0, 1].map(() => browser.agent.post('/login/two-step/passkey').type('form').send({ _csrf: browser.csrf, response })));
        // The other one is refused at the claim (303 /login) or, when its counter UPDATE came second, at the check (422).
        expect(results.filter((r) => r.headers.location === '/settings/collaborations'), 'signed in once').to.have.length(1);
        expect(await h.db.models.Session.count({ where: { principal: `owner:${mailbox.id}` } })).to.equal(sessionsBefore + 1);
      });

      it('should refuse an assertion without the CSRF token (403) and leave the sign-in pending', async () => {
        const authenticator = await ownerWithPasskey();
        const browser = await pending();
        const { body } = await options<RequestOptions>(browser, '/login/two-step/passkey/options');
        const res = await browser.post('/login/two-step/passkey', { _csrf: '', response: authenticator.assert(body) });
        expect(res.status).to.equal(403);
        expect((await browser.get('/settings/collaborations')).headers.location).to.equal('/login/two-step');
      });
    });
  });
}
