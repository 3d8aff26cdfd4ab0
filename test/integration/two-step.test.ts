import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { DATABASES } from '../support/databases';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, WIDE_LIMITS, harnessPerSuite, signedInOwner, type Harness } from '../support/harness';
import { activate, addCollaborator, reload } from '../support/accounts';
import { AuthenticatorApp } from '../support/authenticator';
import type { Collaborator } from '../../src/models';

const MAILBOX = 'studio.duefattori@pec.example.it';
const ROOT = path.resolve(__dirname, '../..');

/** The recovery codes of a page that shows them. */
function recoveryCodesOf(html: string): string[] {
  return [...html.matchAll(/<li><code>([a-z0-9-]+)<\/code><\/li>/g)].map((m) => m[1] as string);
}

/** Turns the authenticator app on for whoever `browser` is signed in as; returns the app and the recovery codes. */
async function turnOnTotp(h: Harness, browser: Browser): Promise<{ app: AuthenticatorApp; codes: string[] }> {
  const page = await browser.get('/settings/two-step/totp');
  expect(page.status).to.equal(200);
  const secret = /id="totp-secret"[^>]*>([A-Z2-7 ]+)</.exec(page.text)?.[1]?.replace(/ /g, '');
  expect(secret, 'the key as text').to.match(/^[A-Z2-7]{32}$/);
  const app = new AuthenticatorApp(secret as string);
  const done = await browser.post('/settings/two-step/totp', { code: app.code(h) });
  expect(done.status).to.equal(200);
  const codes = recoveryCodesOf(done.text);
  expect(codes).to.have.length(10);
  return { app, codes };
}

/**
 * Every path the app's own routers declare (src/shell/routes, src/plugin/routes), with its mount
 * point: a new route is tried by the "no step can be skipped" test without being listed here.
 */
function declaredRoutes(collaboratorId: number): Array<{ method: 'get' | 'post'; path: string }> {
  const mounts: Record<string, string> = {
    'src/plugin/routes/collaborators.ts': '/settings/collaborations',
    'src/plugin/routes/activity.ts': '/settings',
    'src/plugin/routes/access-history.ts': '/settings',
    'src/plugin/routes/links.ts': '/password',
  };
  // Public before any session (health, autoconfig, Dovecot's policy server), the second step's own,
  // or the language form its page carries (tried on its own below).
  const outside = ['auth-policy.ts', 'autoconfig.ts', 'system.ts', 'second-step.ts', 'sessions.ts', 'language.ts'];
  const files = [
    ...fs.readdirSync(path.join(ROOT, 'src/shell/routes')).filter((f) => !outside.includes(f)).map((f) => `src/shell/routes/${f}`),
    ...Object.keys(mounts),
  ];
  const routes: Array<{ method: 'get' | 'post'; path: string }> = [{ method: 'get', path: '/' }];
  for (const file of files) {
    const source = fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const match of source.matchAll(/router\.(get|post)\(\s*('[^']+'|\[[^\]]+\])/g)) {
      const paths = [...(match[2] as string).matchAll(/'([^']+)'/g)].map((m) => m[1] as string);
      // The second step's own paths, wherever declared (passkeys.ts has the passkey's).
      for (const p of paths.filter((declared) => !declared.startsWith('/login/two-step'))) {
        const full = `${mounts[file] ?? ''}${p === '/' && mounts[file] ? '' : p}`.replace(/:id\b/g, String(collaboratorId)).replace(/:\w+/g, 'password-reset');
        routes.push({ method: match[1] as 'get' | 'post', path: full });
      }
    }
  }
  return routes;
}

for (const { name, create } of DATABASES) {
  describe(`Two-step verification (${name})`, function () {
    let h: Harness;
    let counter = 0;

    harnessPerSuite(create, { mailboxes: [MAILBOX], env: { ...WIDE_LIMITS, SIGN_IN_LIMIT_PER_ACCOUNT: '8', PASSWORD_CHANGE_LIMIT: '6', DOVEADM_URLS: 'http://127.0.0.1:9/doveadm/v1', DOVEADM_API_KEY: 'not used: nothing listens there' } }, (harness) => {
      h = harness;
    });

    afterEach(async function () {
      await h.reset();
    });

    async function activeCollaborator(owner?: Browser): Promise<Collaborator> {
      counter += 1;
      const c = await addCollaborator(h, owner ?? (await signedInOwner(h.app, MAILBOX)), MAILBOX, { username: `anna.${counter}` });
      await activate(h, c);
      return reload(h, c);
    }

    async function signedInAs(username: string, password: string): Promise<Browser> {
      const browser = new Browser(h.app);
      expect((await browser.signIn(username, password)).headers.location).to.not.equal('/login/two-step');
      return browser;
    }

    /** A browser that typed the right password and now stands at the second step. */
    async function atSecondStep(username: string, password: string): Promise<Browser> {
      const browser = new Browser(h.app);
      const res = await browser.signIn(username, password);
      expect(res.status).to.equal(303);
      expect(res.headers.location).to.equal('/login/two-step');
      expect((await browser.get('/login/two-step')).status).to.equal(200);
      return browser;
    }

    const emailsOf = (template: string) => h.db.models.OutboxMessage.findAll({ where: { kind: 'email', template } });

    describe('turning it on with an authenticator app', function () {
      it('should ask for the first code, keep the secret sealed and only digests of the ten recovery codes', async function () {
        const owner = await signedInAs(MAILBOX, OWNER_PASSWORD);
        const page = await owner.get('/settings/two-step/totp');
        expect(page.text).to.contain('<svg');
        const secret = (/id="totp-secret"[^>]*>([A-Z2-7 ]+)</.exec(page.text)?.[1] ?? '').replace(/ /g, '');
        const wrong = await owner.post('/settings/two-step/totp', { code: '000000' });
        expect(wrong.status).to.equal(422);
        expect(wrong.text, 'the same key offered again').to.contain(secret.slice(0, 4));
        expect(await h.db.models.SecondFactor.count()).to.equal(0);

        const app = new AuthenticatorApp(secret);
        const done = await owner.post('/settings/two-step/totp', { code: app.code(h) });
        const codes = recoveryCodesOf(done.text);
        expect(codes).to.have.length(10);
        const stored = await h.db.models.SecondFactor.findOne();
        expect(stored?.secret).to.be.a('string').and.not.contain(secret);
        const hashes = (await h.db.models.RecoveryCode.findAll()).map((r) => r.codeHash).join(' ');
        for (const code of codes) expect(hashes).to.not.contain(code.replace(/-/g, ''));
        const [email] = await emailsOf('two_step_enabled');
        expect(email?.recipient).to.equal(MAILBOX);
      });

      it('should end the holder\'s other web sessions and keep the one that turned it on', async function () {
        const other = await signedInAs(MAILBOX, OWNER_PASSWORD);
        const owner = await signedInAs(MAILBOX, OWNER_PASSWORD);
        await turnOnTotp(h, owner);
        expect((await other.get('/settings/collaborations')).headers.location).to.equal('/login');
        expect((await owner.get('/settings/collaborations')).status).to.equal(200);
      });
    });

    describe('an authenticator app on a new phone', function () {
      it('should replace the old app once the new one confirms a code, keep the recovery codes and tell the holder', async function () {
        const owner = await signedInAs(MAILBOX, OWNER_PASSWORD);
        const { app: old, codes } = await turnOnTotp(h, owner);
        expect((await owner.get('/settings/two-step')).text).to.contain('href="/settings/two-step/totp"');
        const page = await owner.get('/settings/two-step/totp');
        const secret = (/id="totp-secret"[^>]*>([A-Z2-7 ]+)</.exec(page.text)?.[1] ?? '').replace(/ /g, '');
        expect((await owner.post('/settings/two-step/totp', { code: '' })).text).to.match(/Inserisci il codice di 6 cifre/);
        const spaced = new AuthenticatorApp(secret).code(h).replace(/^(\d{3})/, '$1 ');
        expect((await owner.post('/settings/two-step/totp', { code: spaced })).status, 'a code typed as the app shows it').to.equal(303);
        expect(await h.db.models.SecondFactor.count()).to.equal(1);
        expect(await h.db.models.RecoveryCode.count({ where: { usedAt: null } })).to.equal(codes.length);
        expect(await emailsOf('two_step_changed')).to.have.length(1);
        h.clock.advance(60_000);
        expect((await (await atSecondStep(MAILBOX, OWNER_PASSWORD)).post('/login/two-step', { code: old.code(h) })).status, 'the old phone').to.equal(422);
        const fresh = new AuthenticatorApp(secret).code(h).replace(/^(\d{3})/, '$1 ');
        expect((await (await atSecondStep(MAILBOX, OWNER_PASSWORD)).post('/login/two-step', { code: fresh })).status, 'the new phone').to.equal(303);
      });
    });

    describe('POST /login/two-step', function () {
      it('should sign in with the code the app shows, within one step of clock skew, each code once', async function () {
        const { app } = await turnOnTotp(h, await signedInAs(MAILBOX, OWNER_PASSWORD));
        h.clock.advance(90_000);
        for (const skew of [-30, 0, 30]) {
          const browser = await atSecondStep(MAILBOX, OWNER_PASSWORD);
          const res = await browser.post('/login/two-step', { code: app.code(h, skew) });
          expect(res.status, `skew ${skew} s`).to.equal(303);
          expect(res.headers.location).to.equal('/settings/collaborations');
          expect((await browser.get('/settings/collaborations')).status).to.equal(200);
          h.clock.advance(90_000);
        }
        const replayed = app.code(h);
        expect((await (await atSecondStep(MAILBOX, OWNER_PASSWORD)).post('/login/two-step', { code: replayed })).status).to.equal(303);
        const again = await (await atSecondStep(MAILBOX, OWNER_PASSWORD)).post('/login/two-step', { code: replayed });
        expect(again.status, 'a replayed code').to.equal(422);
        expect(again.text).to.match(/already been used|già stato usato|ya se ha usado/);
        for (const skew of [-60, 60]) {
          h.clock.advance(120_000);
          const res = await (await atSecondStep(MAILBOX, OWNER_PASSWORD)).post('/login/two-step', { code: app.code(h, skew) });
          expect(res.status, `skew ${skew} s`).to.equal(422);
        }
      });

      it('should count a wrong code against the sign-in limits', async function () {
        await turnOnTotp(h, await signedInAs(MAILBOX, OWNER_PASSWORD));
        const browser = await atSecondStep(MAILBOX, OWNER_PASSWORD);
        const statuses: number[] = [];
        for (let i = 0; i < 9; i += 1) statuses.push((await browser.post('/login/two-step', { code: String(100000 + i) })).status);
        expect(statuses).to.include(429);
        expect(statuses.slice(0, statuses.indexOf(429)).every((s) => s === 422)).to.equal(true);
        const events = await h.db.models.AccessEvent.count({ where: { outcome: 'failure' } });
        expect(events).to.be.greaterThan(0);
      });

      it('should accept a recovery code once, record it and tell the holder', async function () {
        const { codes } = await turnOnTotp(h, await signedInAs(MAILBOX, OWNER_PASSWORD));
        const code = (codes[3] as string).toUpperCase().replace(/-/g, ' ');
        expect((await (await atSecondStep(MAILBOX, OWNER_PASSWORD)).post('/login/two-step', { code })).status).to.equal(303);
        expect((await (await atSecondStep(MAILBOX, OWNER_PASSWORD)).post('/login/two-step', { code })).status).to.equal(422);
        expect(await emailsOf('recovery_code_used')).to.have.length(1);
        expect(await h.db.models.AuditEvent.count({ where: { action: 'two_step.recovery_code_used' } })).to.equal(1);
      });

      it('should let a session that passed only the password reach nothing but the second step', async function () {
        const owner = await signedInOwner(h.app, MAILBOX);
        const c = await activeCollaborator(owner);
        await turnOnTotp(h, owner);
        for (const [username, password] of [[MAILBOX, OWNER_PASSWORD], [c.username, GOOD_PASSWORD]] as const) {
          if (username === c.username) await turnOnTotp(h, await signedInAs(c.username, GOOD_PASSWORD));
          const browser = await atSecondStep(username, password);
          const routes = declaredRoutes(c.id);
          expect(routes.length).to.be.greaterThan(25);
          for (const { method, path: url } of routes) {
            const res = method === 'get' ? await browser.agent.get(url) : await browser.agent.post(url).type('form').send({ _csrf: browser.csrf });
            expect([res.status, res.headers.location], `${method.toUpperCase()} ${url} as ${username}`).to.deep.equal([303, '/login/two-step']);
          }
          const htmx = await browser.htmx('get', '/settings/collaborations');
          expect([htmx.status, htmx.headers['hx-redirect']]).to.deep.equal([401, '/login/two-step']);
        }
      });
    });

    describe('GET /login/two-step', function () {
      it('should send back to the password, once, when the account was reset meanwhile', async function () {
        const owner = await signedInOwner(h.app, MAILBOX);
        const c = await activeCollaborator(owner);
        await turnOnTotp(h, await signedInAs(c.username, GOOD_PASSWORD));
        const browser = await atSecondStep(c.username, GOOD_PASSWORD);
        await owner.get('/settings/collaborations');
        await owner.post(`/settings/collaborations/${c.id}/deactivation`);
        expect((await browser.get('/login/two-step')).headers.location).to.equal('/login');
        expect((await browser.get('/login')).status).to.equal(200);
      });
    });

    describe('the owner\'s policy', function () {
      it('should take a collaborator without two-step to set it up before anything else, and show who has it', async function () {
        const owner = await signedInOwner(h.app, MAILBOX);
        const c = await activeCollaborator(owner);
        expect((await owner.post('/settings/collaborations/two-step-policy', { twoStepRequired: 'yes' })).status).to.equal(303);
        const browser = await signedInAs(c.username, GOOD_PASSWORD);
        for (const url of ['/account', '/settings/password', '/']) expect((await browser.get(url)).headers.location, url).to.equal('/settings/two-step');
        const page = await browser.get('/settings/two-step');
        expect(page.status).to.equal(200);
        expect(page.text).to.match(/requires two-step|richiede la verifica/);
        await turnOnTotp(h, browser);
        expect((await browser.get('/account')).status).to.equal(200);
        expect((await browser.post('/settings/two-step/deactivation', { currentPassword: GOOD_PASSWORD, code: '123456' })).status).to.equal(409);
        const list = await owner.get('/settings/collaborations');
        expect(list.text).to.match(/Verifica in due passaggi attiva|Two-step verification on/);
      });

      it('should let a session at the second step, or held to set it up, choose its language', async function () {
        const owner = await signedInOwner(h.app, MAILBOX);
        const c = await activeCollaborator(owner);
        await owner.post('/settings/collaborations/two-step-policy', { twoStepRequired: 'yes' });
        const held = await signedInAs(c.username, GOOD_PASSWORD);
        await held.get('/settings/two-step');
        const chosen = await held.post('/settings/language', { locale: 'en', back: '/settings/two-step' });
        expect([chosen.status, chosen.headers.location]).to.deep.equal([303, '/settings/two-step']);
        expect((await held.get('/settings/two-step')).text).to.contain('<html lang="en">');

        await turnOnTotp(h, await signedInAs(MAILBOX, OWNER_PASSWORD));
        const pending = await atSecondStep(MAILBOX, OWNER_PASSWORD);
        const res = await pending.post('/settings/language', { locale: 'es', back: '/login/two-step' });
        expect([res.status, res.headers.location]).to.deep.equal([303, '/login/two-step']);
        expect((await pending.get('/login/two-step')).text).to.contain('<html lang="es">');
      });
    });

    describe('the owner\'s reset', function () {
      it('should remove the collaborator\'s second factors and recovery codes', async function () {
        const owner = await signedInOwner(h.app, MAILBOX);
        const c = await activeCollaborator(owner);
        await turnOnTotp(h, await signedInAs(c.username, GOOD_PASSWORD));
        expect(await h.db.models.SecondFactor.count({ where: { principalType: 'collaborator', principalId: c.id } })).to.equal(1);
        await owner.get('/settings/collaborations');
        expect((await owner.post(`/settings/collaborations/${c.id}/password-reset`)).status).to.equal(303);
        expect(await h.db.models.SecondFactor.count({ where: { principalType: 'collaborator', principalId: c.id } })).to.equal(0);
        expect(await h.db.models.RecoveryCode.count({ where: { principalType: 'collaborator', principalId: c.id } })).to.equal(0);
      });
    });

    describe('mail programs', function () {
      it('should hide the web password from the mail server once two-step is on, and ask the mail servers to kick', async function () {
        const c = await activeCollaborator();
        const passwordOf = async () =>
          ((await h.db.sequelize.query('SELECT password_hash FROM mail_accounts WHERE username = ?', { replacements: [c.username] }))[0] as Array<{ password_hash: string | null }>)[0];
        expect((await passwordOf())?.password_hash).to.be.a('string');
        await h.db.models.OutboxMessage.destroy({ where: { kind: 'doveadm' } });
        const browser = await signedInAs(c.username, GOOD_PASSWORD);
        const { app } = await turnOnTotp(h, browser);
        expect(await passwordOf(), 'the row stays for Postfix').to.deep.equal({ password_hash: null });
        expect(await h.db.models.OutboxMessage.count({ where: { kind: 'doveadm', template: 'kick' } })).to.be.greaterThan(0);
        h.clock.advance(60_000);
        await browser.get('/settings/two-step');
        expect((await browser.post('/settings/two-step/deactivation', { currentPassword: GOOD_PASSWORD, code: app.code(h) })).status).to.equal(303);
        expect((await passwordOf())?.password_hash).to.be.a('string');
      });
    });

    describe('the owner\'s policy and mail programs', function () {
      it('should leave mail programs only app passwords while collaborators must use two-step, and kick those signed in', async function () {
        const owner = await signedInOwner(h.app, MAILBOX);
        const c = await activeCollaborator(owner);
        const passwordOf = async () =>
          ((await h.db.sequelize.query('SELECT password_hash FROM mail_accounts WHERE username = ?', { replacements: [c.username] }))[0] as Array<{ password_hash: string | null }>)[0];
        await h.db.models.OutboxMessage.destroy({ where: { kind: 'doveadm' } });
        await owner.post('/settings/collaborations/two-step-policy', { twoStepRequired: 'yes' });
        expect(await passwordOf(), 'no factor yet, but the rule holds').to.deep.equal({ password_hash: null });
        expect(await h.db.models.OutboxMessage.count({ where: { kind: 'doveadm', template: 'kick' } })).to.be.greaterThan(0);
        await owner.get('/settings/collaborations');
        await owner.post('/settings/collaborations/two-step-policy', {});
        expect((await passwordOf())?.password_hash).to.be.a('string');
        expect(await h.db.models.OutboxMessage.count({ where: { kind: 'doveadm', template: 'flush' } })).to.be.greaterThan(0);
      });
    });

    describe('POST /settings/two-step/deactivation', function () {
      it('should need the current password and a code, and tell the holder', async function () {
        const owner = await signedInAs(MAILBOX, OWNER_PASSWORD);
        const { app } = await turnOnTotp(h, owner);
        h.clock.advance(60_000);
        await owner.get('/settings/two-step');
        expect((await owner.post('/settings/two-step/deactivation', { currentPassword: 'wrong', code: app.code(h) })).status).to.equal(422);
        expect((await owner.post('/settings/two-step/deactivation', { currentPassword: OWNER_PASSWORD, code: '000000' })).status).to.equal(422);
        expect(await h.db.models.SecondFactor.count()).to.equal(1);
        expect((await owner.post('/settings/two-step/deactivation', { currentPassword: OWNER_PASSWORD, code: app.code(h) })).status).to.equal(303);
        expect(await h.db.models.SecondFactor.count()).to.equal(0);
        expect(await h.db.models.RecoveryCode.count()).to.equal(0);
        expect(await emailsOf('two_step_disabled')).to.have.length(1);
        expect((await signedInAs(MAILBOX, OWNER_PASSWORD)).csrf, 'the password alone signs in again').to.be.a('string');
      });

      it('should count a wrong code like a wrong password, even with the right password', async function () {
        const owner = await signedInAs(MAILBOX, OWNER_PASSWORD);
        await turnOnTotp(h, owner);
        await owner.get('/settings/two-step');
        const statuses: number[] = [];
        for (let i = 0; i < 7; i += 1) statuses.push((await owner.post('/settings/two-step/deactivation', { currentPassword: OWNER_PASSWORD, code: String(200000 + i) })).status);
        expect(statuses).to.deep.equal([422, 422, 422, 422, 422, 422, 429]);
        expect(await h.db.models.SecondFactor.count()).to.equal(1);
      });
    });

    describe('a sign-in older than 10 minutes (a stolen cookie)', function () {
      it('should ask for the password again before any change to how one signs in, then lead back', async function () {
        const owner = await signedInOwner(h.app, MAILBOX);
        const c = await activeCollaborator(owner);
        const browser = await signedInAs(c.username, GOOD_PASSWORD);
        await browser.get('/account');
        h.clock.advance(11 * 60_000);
        const asked = await browser.get('/settings/two-step/totp');
        expect([asked.status, asked.headers.location]).to.deep.equal([303, '/settings/confirmation?back=%2Fsettings%2Ftwo-step%2Ftotp']);
        for (const url of ['/settings/two-step/totp', '/settings/two-step/passkeys/options', '/account/app-passwords']) {
          const res = await browser.post(url, { code: '123456', name: 'Outlook', scope: 'read_send' });
          expect(res.headers.location, url).to.match(/^\/settings\/confirmation\?back=/);
        }
        expect(await h.db.models.AppPassword.count()).to.equal(0);
        await browser.get('/settings/confirmation?back=https://evil.example/');
        expect((await browser.post('/settings/confirmation', { currentPassword: 'wrong', back: '/settings/two-step/totp' })).status).to.equal(422);
        const confirmed = await browser.post('/settings/confirmation', { currentPassword: GOOD_PASSWORD, back: '//evil.example/x' });
        expect(confirmed.headers.location, 'never elsewhere').to.equal('/');
        expect((await browser.get('/settings/two-step/totp')).status).to.equal(200);
      });

      it('should ask the owner for the password again before lifting the rule for collaborators', async function () {
        const owner = await signedInOwner(h.app, MAILBOX);
        expect((await owner.post('/settings/collaborations/two-step-policy', { twoStepRequired: 'yes' })).status).to.equal(303);
        h.clock.advance(11 * 60_000);
        await owner.get('/settings/collaborations');
        const lifted = await owner.post('/settings/collaborations/two-step-policy', {});
        expect(lifted.headers.location).to.equal('/settings/confirmation?back=%2Fsettings%2Fcollaborations');
        expect((await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } }))?.twoStepRequired).to.equal(true);
      });
    });

    describe('POST /settings/two-step/recovery-codes', function () {
      it('should give ten new codes for the current password, and the old ones stop working', async function () {
        const owner = await signedInAs(MAILBOX, OWNER_PASSWORD);
        const { codes } = await turnOnTotp(h, owner);
        await owner.get('/settings/two-step');
        expect((await owner.post('/settings/two-step/recovery-codes', { currentPassword: 'wrong' })).status).to.equal(422);
        const renewed = recoveryCodesOf((await owner.post('/settings/two-step/recovery-codes', { currentPassword: OWNER_PASSWORD })).text);
        expect(renewed).to.have.length(10);
        expect((await (await atSecondStep(MAILBOX, OWNER_PASSWORD)).post('/login/two-step', { code: codes[0] as string })).status).to.equal(422);
        expect((await (await atSecondStep(MAILBOX, OWNER_PASSWORD)).post('/login/two-step', { code: renewed[0] as string })).status).to.equal(303);
      });
    });

    describe('remember me on this device', function () {
      it('should give that browser a 30-day session cookie, and others one that ends with the browser', async function () {
        const cookieOf = async (remember: boolean) => {
          const browser = new Browser(h.app);
          await browser.get('/login');
          const res = await browser.post('/login', { username: MAILBOX, password: OWNER_PASSWORD, ...(remember ? { remember: 'yes' } : {}) });
          return ((res.headers['set-cookie'] as unknown as string[]) ?? []).find((c) => c.startsWith('sid=')) ?? '';
        };
        const day = 24 * 3600 * 1000;
        const remembered = new Date(/Expires=([^;]+)/.exec(await cookieOf(true))?.[1] ?? 0).getTime() - Date.now();
        expect(remembered).to.be.within(29 * day, 31 * day);
        expect(await cookieOf(false), 'a browser-session cookie').to.match(/^sid=/).and.not.match(/Expires=|Max-Age=/i);
      });

      it('should set that cookie again, its expiry moved forward, once a minute and not at every page', async function () {
        const browser = new Browser(h.app);
        await browser.get('/login');
        await browser.post('/login', { username: MAILBOX, password: OWNER_PASSWORD, remember: 'yes' });
        const sidSet = async () => ((await browser.get('/settings/collaborations')).headers['set-cookie'] as unknown as string[] | undefined)?.find((c) => c.startsWith('sid='));
        expect(await sidSet(), 'the first page after signing in').to.match(/Expires=/);
        expect(await sidSet(), 'the next page, within the minute').to.equal(undefined);
        // As if the last renewal were two minutes ago.
        const { Session } = h.db.models;
        for (const row of await Session.findAll()) {
          const data = JSON.parse(row.data ?? '{}') as { renewedAt?: number };
          if (data.renewedAt) await row.update({ data: JSON.stringify({ ...data, renewedAt: data.renewedAt - 120_000 }) });
        }
        const renewed = await sidSet();
        expect(renewed, 'a page a minute later').to.match(/Expires=/);
        const day = 24 * 3600 * 1000;
        expect(new Date(/Expires=([^;]+)/.exec(renewed ?? '')?.[1] ?? 0).getTime() - Date.now()).to.be.within(29 * day, 31 * day);
      });

      it('should be ended by the owner\'s reset like any other session', async function () {
        const owner = await signedInOwner(h.app, MAILBOX);
        const c = await activeCollaborator(owner);
        const browser = new Browser(h.app);
        await browser.get('/login');
        await browser.post('/login', { username: c.username, password: GOOD_PASSWORD, remember: 'yes' });
        expect((await browser.get('/account')).status).to.equal(200);
        await owner.get('/settings/collaborations');
        await owner.post(`/settings/collaborations/${c.id}/password-reset`);
        expect((await browser.get('/account')).headers.location).to.equal('/login');
      });
    });
  });
}
