import { expect } from 'chai';
import type request from 'supertest';
import { DATABASES, type TestDatabase } from '../support/databases';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, harnessPerSuite, startHarness, type Harness, WIDE_LIMITS } from '../support/harness';
import type { NewCollaborator } from '../../src/domain/collaborators';
import type { Collaborator, Mailbox, Status } from '../../src/models';
import { collaboratorIn, latestLinkToken, reload, setPasswordByLink } from '../support/accounts';
import { WrongPassword } from '../../src/domain/errors';
import { translator } from '../../src/i18n';

const MAILBOX = 'studio.verdi@pec.example.it';
const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
const TOO_MANY = /Troppi tentativi|Too many attempts|Demasiados intentos/;

/** As EJS escapes `<%= %>` output. */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => ESCAPES[ch] ?? ch);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** What a visitor can observe of an answer, minus what differs on every request anyway. */
function observable(res: request.Response) {
  const headers = { ...res.headers } as Record<string, unknown>;
  delete headers.date;
  delete headers.etag;
  const cookies = headers['set-cookie'];
  if (Array.isArray(cookies)) headers['set-cookie'] = cookies.map((c: string) => c.replace(/; Expires=[^;]+/i, ''));
  return { status: res.status, headers, body: res.text.replace(/(name="_csrf" value=")[^"]+/g, '$1').replace(/(X-CSRF-Token&#34;:&#34;)[^&]+/g, '$1') };
}

function sidCookie(res: request.Response): string | undefined {
  const cookies = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
  return cookies.map((c) => /^sid=([^;]+)/.exec(c)?.[1]).find(Boolean);
}

for (const { name, create } of DATABASES) {
  describe(`Self-service passwords (${name})`, function () {
    let database: TestDatabase;
    let h: Harness;
    let counter = 0;

    harnessPerSuite(create, { env: { ...WIDE_LIMITS, DOVEADM_URL: 'http://127.0.0.1:9/doveadm/v1', DOVEADM_API_KEY: 'not used: nothing listens there' }, mailboxes: [MAILBOX] }, (harness, db) => {
      h = harness;
      database = db;
    });

    beforeEach(async function () {
      await h.db.sequelize.query('DELETE FROM rate_limits');
    });

    /** A collaborator in the given state, with GOOD_PASSWORD when it has one. */
    async function collaborator(status: Status, overrides: Partial<NewCollaborator> = {}): Promise<Collaborator> {
      counter += 1;
      const mailbox = await mailboxOf(MAILBOX);
      const input: NewCollaborator = {
        firstName: 'Mario',
        lastName: 'Rossi',
        username: `user${counter}`,
        referenceEmail: `user${counter}@example.com`,
        accessLevel: 'send',
        manageSettings: false,
        ...overrides,
      };
      return collaboratorIn(h, mailbox, status, input);
    }

    const mailboxOf = async (address: string) => (await h.db.models.Mailbox.findOne({ where: { address } })) as Mailbox;

    async function signedIn(username: string, password = GOOD_PASSWORD, userAgent = FIREFOX): Promise<Browser> {
      const browser = new Browser(h.app);
      await browser.get('/login');
      const res = await browser.agent.post('/login').set('User-Agent', userAgent).type('form').send({ _csrf: browser.csrf, username, password });
      expect(res.status, res.text).to.equal(303);
      return browser;
    }

    async function forgot(browser: Browser, username: string): Promise<request.Response> {
      const res = await browser.post('/password/forgot', { username });
      await h.domain.background.settled();
      return res;
    }

    describe('GET /login', function () {
      it('should link to the forgot-password page', async function () {
        const res = await new Browser(h.app).get('/login');
        expect(res.text).to.include('href="/password/forgot"');
      });
    });

    describe('POST /password/forgot', function () {
      it('should answer exactly the same for active, unknown, pending, suspended and deactivated usernames', async function () {
        const usernames = [
          (await collaborator('active')).username,
          `nobody/${MAILBOX}`,
          (await collaborator('pending')).username,
          (await collaborator('suspended')).username,
          (await collaborator('deactivated')).username,
        ];
        const browser = new Browser(h.app);
        await browser.get('/password/forgot');
        const answers = [];
        for (const username of usernames) answers.push(observable(await forgot(browser, username)));
        expect(answers[0]?.status).to.equal(200);
        for (const answer of answers.slice(1)) expect(answer).to.deep.equal(answers[0]);
        // Not an accident of the comparison: a fresh browser's page differs only by its token.
        const other = new Browser(h.app);
        await other.get('/password/forgot');
        expect(observable(await forgot(other, usernames[1] as string)).body).to.equal(answers[0]?.body);
      });

      it('should take the same time whatever the account (medians within 20 ms over 50 requests each)', async function () {
        this.timeout(180_000);
        const active = await collaborator('active');
        const usernames = [
          active.username,
          `nobody/${MAILBOX}`,
          (await collaborator('pending')).username,
          (await collaborator('suspended')).username,
          (await collaborator('deactivated')).username,
        ];
        const browser = new Browser(h.app);
        await browser.get('/password/forgot');
        const times = new Map<string, number[]>(usernames.map((u) => [u, []]));
        for (let round = 0; round < 50; round += 1) {
          // A new order each round, so that a load spike on this shared machine hits every name alike.
          const order = [...usernames].sort(() => Math.random() - 0.5);
          for (const username of order) {
            const start = process.hrtime.bigint();
            const res = await browser.post('/password/forgot', { username });
            times.get(username)?.push(Number(process.hrtime.bigint() - start) / 1e6);
            expect(res.status).to.equal(200);
            // Each answer is timed on its own: the previous request's email work is over before the next.
            await h.domain.background.settled();
          }
        }
        const medians = usernames.map((u) => median(times.get(u) as number[]));
        const spread = Math.max(...medians) - Math.min(...medians);
        expect(spread, `medians ${medians.map((m) => m.toFixed(1)).join(', ')} ms`).to.be.below(20);
        expect(await h.db.models.OutboxMessage.count({ where: { template: 'self_reset', collaboratorId: active.id } })).to.equal(50);
      });

      it('should email a link only to an active account', async function () {
        const active = await collaborator('active');
        const others = [await collaborator('pending'), await collaborator('suspended'), await collaborator('deactivated')];
        const browser = new Browser(h.app);
        await browser.get('/password/forgot');
        for (const c of [active, ...others]) await forgot(browser, c.username);
        await forgot(browser, `nobody/${MAILBOX}`);

        const toActive = await h.db.models.OutboxMessage.findAll({ where: { collaboratorId: active.id, template: 'self_reset' } });
        expect(toActive).to.have.length(1);
        expect(toActive[0]?.recipient).to.equal(active.referenceEmail);
        for (const c of others) expect(await h.db.models.OutboxMessage.count({ where: { collaboratorId: c.id, template: 'self_reset' } })).to.equal(0);
        const sent = await h.db.models.AuditEvent.findAll({ where: { collaboratorId: active.id, action: 'link.sent' } });
        expect(sent.map((e) => JSON.parse(e.detail ?? '{}').purpose)).to.include('self_reset');
      });

      it('should change nothing on the account: same row, password and sessions still good', async function () {
        const c = await collaborator('active', { accessLevel: 'mail_clients' });
        const session = await signedIn(c.username);
        const before = (await reload(h, c)).toJSON();
        const browser = new Browser(h.app);
        await browser.get('/password/forgot');
        await forgot(browser, c.username);
        expect((await reload(h, c)).toJSON()).to.deep.equal(before);
        expect((await session.get('/account')).status).to.equal(200);
        await signedIn(c.username);
        expect(await h.db.models.OutboxMessage.count({ where: { collaboratorId: c.id, kind: 'doveadm', template: 'kick' } })).to.equal(0);
      });

      it('should ask for a username when none is typed', async function () {
        const browser = new Browser(h.app);
        await browser.get('/password/forgot');
        const res = await browser.post('/password/forgot', { username: ' ' });
        expect(res.status).to.equal(422);
        expect(res.text).to.include('id="username-error"');
      });
    });

    describe('GET /password/:token (self_reset)', function () {
      it('should work once, and keep the account active with the new password', async function () {
        const c = await collaborator('active');
        const visitor = new Browser(h.app);
        await visitor.get('/password/forgot');
        await forgot(visitor, c.username);
        const token = await latestLinkToken(h, c, 'self_reset');

        const { form, res } = await setPasswordByLink(h, token, 'plum tiger sofa moon');
        expect(form.status).to.equal(200);
        expect(res.status, res.text).to.equal(200);
        expect((await reload(h, c)).status).to.equal('active');
        await signedIn(c.username, 'plum tiger sofa moon');

        const again = new Browser(h.app);
        await again.get(`/password/${token}`);
        expect((await again.get('/password/new')).status).to.equal(410);
      });

      it('should expire after one hour', async function () {
        const c = await collaborator('active');
        const visitor = new Browser(h.app);
        await visitor.get('/password/forgot');
        await forgot(visitor, c.username);
        const token = await latestLinkToken(h, c, 'self_reset');
        const hash = (await reload(h, c)).passwordHash;
        const holder = new Browser(h.app);
        await holder.get(`/password/${token}`);
        h.clock.advance(3600_000 - 1000);
        expect((await holder.get('/password/new')).status).to.equal(200);
        h.clock.advance(1000);
        expect((await holder.get('/password/new')).status).to.equal(410);
        const res = await holder.post('/password/new', { password: 'plum tiger sofa moon', passwordConfirmation: 'plum tiger sofa moon' });
        expect(res.status).to.equal(410);
        expect((await reload(h, c)).passwordHash).to.equal(hash);
        await signedIn(c.username, GOOD_PASSWORD);
      });
    });

    describe('POST /login', function () {
      it('should give a new session id at sign-in, and the old one should not authenticate', async function () {
        const c = await collaborator('active');
        const browser = new Browser(h.app);
        await browser.get('/login');
        // A visitor's session exists once it holds something: here, a chosen language.
        const before = sidCookie(await browser.post('/settings/language', { locale: 'en', back: '/login' }));
        expect(before, 'a session cookie before sign-in').to.be.a('string');
        const res = await browser.post('/login', { username: c.username, password: GOOD_PASSWORD });
        expect(res.status).to.equal(303);
        const after = sidCookie(res);
        expect(after).to.be.a('string').and.not.equal(before);
        expect((await browser.get('/account')).status).to.equal(200);

        const planted = await (await import('supertest')).default(h.app).get('/account').set('Cookie', `sid=${before}`);
        expect(planted.status).to.equal(303);
        expect(planted.headers.location).to.equal('/login');
      });
    });

    describe('GET /account', function () {
      it('should list the own sessions with device, IP and last seen, this one marked', async function () {
        const c = await collaborator('active');
        const phone = await signedIn(c.username, GOOD_PASSWORD, 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1');
        const desk = await signedIn(c.username);
        const res = await desk.get('/account');
        expect(res.status).to.equal(200);
        expect(res.text).to.match(/Firefox \S+ Windows/);
        expect(res.text).to.match(/Safari \S+ iPhone/);
        expect(res.text.match(/class="current-session"/g)).to.have.length(1);
        expect(/class="current-session">\s*<td[^>]*>Firefox/.test(res.text)).to.equal(true);
        expect(res.text).to.include('action="/account/sessions/revocation"');
        expect((await phone.get('/account')).status).to.equal(200);
      });
    });

    describe('POST /account/sessions/revocation', function () {
      it('should sign out the other sessions and keep this one', async function () {
        const c = await collaborator('active');
        const other = await signedIn(c.username);
        const me = await signedIn(c.username);
        const third = await signedIn((await collaborator('active')).username);
        await me.get('/account');
        const res = await me.post('/account/sessions/revocation');
        expect(res.status).to.equal(303);
        expect((await me.get('/account')).status).to.equal(200);
        expect((await other.get('/account')).headers.location).to.equal('/login');
        expect((await third.get('/account')).status, 'another collaborator keeps its session').to.equal(200);
        expect(await h.db.models.Session.count({ where: { principal: `collaborator:${c.id}` } })).to.equal(1);
      });

      it('should refuse without the CSRF token', async function () {
        const c = await collaborator('active');
        const me = await signedIn(c.username);
        const res = await me.agent.post('/account/sessions/revocation').type('form').send({});
        expect(res.status).to.equal(403);
      });
    });

    describe('POST /settings/password (collaborator)', function () {
      async function change(browser: Browser, currentPassword: string, password: string, confirmation = password) {
        await browser.get('/settings/password');
        return browser.post('/settings/password', { currentPassword, password, passwordConfirmation: confirmation });
      }

      it('should end the other sessions, keep this one, queue the notice and kick mail programs', async function () {
        const c = await collaborator('active', { accessLevel: 'mail_clients' });
        const other = await signedIn(c.username);
        const me = await signedIn(c.username);
        const res = await change(me, GOOD_PASSWORD, 'plum tiger sofa moon');
        expect(res.status, res.text).to.equal(303);
        expect(res.headers.location).to.equal('/settings/password');
        expect((await me.get('/account')).status).to.equal(200);
        expect((await other.get('/account')).headers.location).to.equal('/login');

        const after = await reload(h, c);
        expect(after.status).to.equal('active');
        expect(after.credentialVersion).to.equal(c.credentialVersion + 1);
        const notice = await h.db.models.OutboxMessage.findAll({ where: { collaboratorId: c.id, template: 'password_changed' } });
        expect(notice).to.have.length(1);
        expect(notice[0]?.recipient).to.equal(c.referenceEmail);
        expect(await h.db.models.OutboxMessage.count({ where: { collaboratorId: c.id, kind: 'doveadm', template: 'kick' } })).to.equal(1);
        expect(await h.db.models.AuditEvent.count({ where: { collaboratorId: c.id, action: 'password.changed' } })).to.equal(1);
        await signedIn(c.username, 'plum tiger sofa moon');
        const old = new Browser(h.app);
        expect((await old.signIn(c.username, GOOD_PASSWORD)).status).to.equal(422);
      });

      it('should refuse a wrong current password with 422 and record it', async function () {
        const c = await collaborator('active');
        const me = await signedIn(c.username);
        const res = await change(me, 'not my password at all', 'plum tiger sofa moon');
        expect(res.status).to.equal(422);
        expect(res.text).to.include('id="currentPassword-error"');
        expect((await reload(h, c)).credentialVersion).to.equal(c.credentialVersion);
        const failed = await h.db.models.AuditEvent.findAll({ where: { collaboratorId: c.id, action: 'password.change_failed' } });
        expect(failed).to.have.length(1);
        expect(failed[0]?.actorType).to.equal('collaborator');
        expect(await h.db.models.OutboxMessage.count({ where: { collaboratorId: c.id, template: 'password_changed' } })).to.equal(0);
      });

      describe('the password policy at its boundaries', function () {
        let c: Collaborator;
        let me: Browser;
        let current: string;

        before(async function () {
          c = await collaborator('active');
          me = await signedIn(c.username);
          current = GOOD_PASSWORD;
        });

        async function expectRefused(password: string, reason: string) {
          const res = await change(me, current, password);
          expect(res.status, `${password}: ${reason}`).to.equal(422);
          expect(res.text).to.include('id="password-error"');
          // The reason is told next to the field, in the collaborator's language (Italian).
          expect(res.text).to.include(escapeHtml(translator('it')(`password.${reason}`, { min: 15, max: 72 })));
        }

        async function expectAccepted(password: string) {
          const res = await change(me, current, password);
          expect(res.status, res.text).to.equal(303);
          current = password;
        }

        const ascii72 = 'river stone lamp '.repeat(5).slice(0, 72);
        const accented = 'éà'.repeat(18);

        it('should refuse 14 characters and accept 15', async function () {
          await expectRefused('plum tiger sof', 'too_short');
          await expectAccepted('plum tiger sofa');
        });

        it('should accept 72 bytes and refuse 73', async function () {
          expect(Buffer.byteLength(ascii72)).to.equal(72);
          await expectRefused(`${ascii72}x`, 'too_long');
          await expectAccepted(ascii72);
          expect(Buffer.byteLength(accented)).to.equal(72);
          await expectRefused(`${accented}x`, 'too_long');
          await expectAccepted(accented);
        });

        it('should refuse a common password', async function () {
          await expectRefused('1qaz2wsx3edc4rfv', 'common');
        });

        it('should refuse the username, the mailbox or the names inside the password', async function () {
          await expectRefused(`my ${c.username.split('/')[0]} password`, 'context');
          await expectRefused(`studio.verdi is my mailbox`, 'context');
          await expectRefused('hello mariorossi friend', 'context');
        });

        it('should take the password exactly as typed, as mail programs send it: its NFKC form is another password', async function () {
          await expectAccepted('ｐｌｕｍ ｔｉｇｅｒ ｓｏｆａ ｍｏｏｎ');
          await signedIn(c.username, 'ｐｌｕｍ ｔｉｇｅｒ ｓｏｆａ ｍｏｏｎ');
          expect((await new Browser(h.app).signIn(c.username, 'plum tiger sofa moon')).status).not.to.equal(303);
          // Counted as typed: the "ﬃ" ligature is one character of 13.
          await expectRefused('a quiet ﬃ box', 'too_short');
        });

        it('should refuse what a mail program cannot send, or a keyboard would type otherwise', async function () {
          await expectRefused('plum tiger\u0000sofa moon', 'unsupported_character');
          await expectRefused('plum tigre\u0300 sofa moon', 'not_composed');
        });
      });
    });

    describe('POST /settings/password (owner)', function () {
      const OWNER = 'studio.neri@pec.example.it';

      before(async function () {
        await h.mailbox(OWNER);
      });

      it('should show Password in the Settings menu', async function () {
        const owner = await signedIn(OWNER, OWNER_PASSWORD);
        const res = await owner.get('/settings/collaborations');
        expect(res.text).to.include('href="/settings/password"');
        expect((await owner.get('/settings/password')).status).to.equal(200);
      });

      it('should refuse a wrong current password, then change it and end the other sessions', async function () {
        const other = await signedIn(OWNER, OWNER_PASSWORD);
        const me = await signedIn(OWNER, OWNER_PASSWORD);
        await me.get('/settings/password');
        const wrong = await me.post('/settings/password', { currentPassword: 'wrong owner password', password: 'plum tiger sofa moon', passwordConfirmation: 'plum tiger sofa moon' });
        expect(wrong.status).to.equal(422);
        const mailbox = await mailboxOf(OWNER);
        expect(await h.db.models.AuditEvent.count({ where: { mailboxId: mailbox.id, action: 'password.change_failed', collaboratorId: null } })).to.equal(1);
        const short = await me.post('/settings/password', { currentPassword: OWNER_PASSWORD, password: 'plum tiger sof', passwordConfirmation: 'plum tiger sof' });
        expect(short.status).to.equal(422);
        expect(short.text).to.include('id="password-error"');

        const res = await me.post('/settings/password', { currentPassword: OWNER_PASSWORD, password: 'plum tiger sofa moon', passwordConfirmation: 'plum tiger sofa moon' });
        expect(res.status, res.text).to.equal(303);
        expect((await me.get('/settings/collaborations')).status).to.equal(200);
        expect((await other.get('/settings/collaborations')).headers.location).to.equal('/login');
        expect((await mailboxOf(OWNER)).credentialVersion).to.equal(mailbox.credentialVersion + 1);
        expect(await h.db.models.AuditEvent.count({ where: { mailboxId: mailbox.id, action: 'password.changed', collaboratorId: null } })).to.equal(1);
        await signedIn(OWNER, 'plum tiger sofa moon');
        expect((await new Browser(h.app).signIn(OWNER, OWNER_PASSWORD)).status).to.equal(422);
      });
    });

    describe("changing one's own password while another tab changes it", function () {
      const OWNER = 'studio.bianchi@pec.example.it';
      const MINE = 'plum tiger sofa moon';
      const THEIRS = 'river stone lamp garden';

      before(async function () {
        await h.mailbox(OWNER);
      });

      /**
       * Runs `otherTab` right after this change has read the stored row: this change verifies the
       * current password against a hash that, by the time it writes, is no longer the stored one.
       */
      function afterFirstRead(model: object, otherTab: () => Promise<unknown>): void {
        const own = model as { findByPk: (...args: unknown[]) => Promise<unknown> };
        const findByPk = own.findByPk;
        own.findByPk = async (...args: unknown[]) => {
          delete (own as { findByPk?: unknown }).findByPk;
          const row = await findByPk.apply(model, args);
          await otherTab();
          return row;
        };
      }

      const kinds = {
        owner: async () => {
          const mailbox = await mailboxOf(OWNER);
          const change = (password: string, sid: string) =>
            h.domain.accounts.changeOwnerPassword(mailbox, { currentPassword: OWNER_PASSWORD, password, passwordConfirmation: password }, { sid });
          return { model: h.db.models.Mailbox, change, stored: () => mailboxOf(OWNER), about: { mailboxId: mailbox.id, collaboratorId: null } };
        },
        collaborator: async () => {
          const c = await collaborator('active');
          const change = (password: string, sid: string) =>
            h.domain.selfService.changeOwnPassword(c, { currentPassword: GOOD_PASSWORD, password, passwordConfirmation: password }, { sid });
          return { model: h.db.models.Collaborator, change, stored: () => reload(h, c), about: { collaboratorId: c.id } };
        },
      };

      for (const [kind, setUp] of Object.entries(kinds)) {
        it(`should refuse the ${kind}'s change whose current password went stale meanwhile, and keep the other tab's`, async function () {
          const { model, change, stored, about } = await setUp();
          const before = await stored();
          afterFirstRead(model, () => change(THEIRS, 'other tab'));
          let refused: unknown;
          await change(MINE, 'this tab').catch((error: unknown) => (refused = error));
          expect(refused, 'the change with a stale current password').to.be.instanceOf(WrongPassword);
          const after = await stored();
          expect(after.credentialVersion, 'one change').to.equal(before.credentialVersion + 1);
          const username = 'username' in after ? after.username : after.address;
          expect((await new Browser(h.app).signIn(username, THEIRS)).status, "the other tab's password").to.equal(303);
          expect((await new Browser(h.app).signIn(username, MINE)).status, 'the refused password').to.equal(422);
          expect(await h.db.models.AuditEvent.count({ where: { ...about, action: 'password.changed' } })).to.equal(1);
        });
      }
    });

    describe('rate limits', function () {
      /** Another app process on the same database, with small limits. */
      async function limited(env: Record<string, string>): Promise<Harness> {
        return startHarness(database.url, { ...WIDE_LIMITS, ...env });
      }

      async function forgotOn(app: Harness, username: string): Promise<request.Response> {
        const browser = new Browser(app.app);
        await browser.get('/password/forgot');
        const res = await browser.post('/password/forgot', { username });
        await app.domain.background.settled();
        return res;
      }

      it('should email at most N live links per account, answer every request alike, also after a restart', async function () {
        const c = await collaborator('active');
        let app = await limited({ FORGOT_LIMIT_PER_USERNAME: '2' });
        const browser = new Browser(app.app);
        const answers: request.Response[] = [];
        try {
          await browser.get('/password/forgot');
          for (const username of [c.username, c.username.toUpperCase(), c.username, `nobody/${MAILBOX}`]) {
            answers.push(await browser.post('/password/forgot', { username }));
            await app.domain.background.settled();
          }
        } finally {
          await app.close();
        }
        app = await limited({ FORGOT_LIMIT_PER_USERNAME: '2' });
        try {
          expect((await forgotOn(app, c.username)).status).to.equal(200);
        } finally {
          await app.close();
        }
        // No 429 for a username: anyone could send one to stop the user from asking.
        for (const answer of answers) expect(observable(answer)).to.deep.equal(observable(answers[0] as request.Response));
        expect(answers[0]?.status).to.equal(200);
        expect(await h.db.models.OutboxMessage.count({ where: { collaboratorId: c.id, template: 'self_reset' } })).to.equal(2);
      });

      it('should refuse the N+1th forgot request from one IP with 429', async function () {
        const app = await limited({ FORGOT_LIMIT_PER_IP: '3' });
        try {
          for (const n of [1, 2, 3]) expect((await forgotOn(app, `someone${n}/${MAILBOX}`)).status).to.equal(200);
          expect((await forgotOn(app, `someone4/${MAILBOX}`)).status).to.equal(429);
        } finally {
          await app.close();
        }
      });

      it('should refuse the N+1th sign-in for one account with 429, even with the right password, also after a restart', async function () {
        const c = await collaborator('active');
        const d = await collaborator('active');
        let app = await limited({ SIGN_IN_LIMIT_PER_ACCOUNT: '3' });
        try {
          for (let i = 0; i < 3; i += 1) expect((await new Browser(app.app).signIn(c.username, 'wrong password here')).status).to.equal(422);
          const refused = await new Browser(app.app).signIn(c.username, GOOD_PASSWORD);
          expect(refused.status).to.equal(429);
          expect(refused.text).to.match(TOO_MANY);
          expect((await new Browser(app.app).signIn(d.username, GOOD_PASSWORD)).status, 'another account').to.equal(303);
        } finally {
          await app.close();
        }
        app = await limited({ SIGN_IN_LIMIT_PER_ACCOUNT: '3' });
        try {
          expect((await new Browser(app.app).signIn(c.username, GOOD_PASSWORD)).status).to.equal(429);
        } finally {
          await app.close();
        }
      });

      it('should not count successful sign-ins, and refuse the N+1th failure from one IP', async function () {
        const c = await collaborator('active');
        const app = await limited({ SIGN_IN_LIMIT_PER_IP: '3' });
        try {
          for (let i = 0; i < 4; i += 1) expect((await new Browser(app.app).signIn(c.username, GOOD_PASSWORD)).status).to.equal(303);
          for (const n of [1, 2, 3]) expect((await new Browser(app.app).signIn(`someone${n}/${MAILBOX}`, 'wrong password')).status).to.equal(422);
          expect((await new Browser(app.app).signIn(c.username, GOOD_PASSWORD)).status).to.equal(429);
        } finally {
          await app.close();
        }
      });

      it('should drop the counters whose window is over, and only those', async function () {
        const now = Date.now();
        await h.db.sequelize.query('INSERT INTO rate_limits (`key`, points, expire) VALUES (?, 1, ?), (?, 1, ?)', {
          replacements: ['test:over', now - 1000, 'test:running', now + 60_000],
        });
        await h.domain.rateLimits.sweep();
        const [rows] = await h.db.sequelize.query("SELECT `key` FROM rate_limits WHERE `key` LIKE 'test:%'");
        expect((rows as Array<{ key: string }>).map((r) => r.key)).to.deep.equal(['test:running']);
      });

      it('should refuse the N+1th wrong current password with 429, also after a restart', async function () {
        const c = await collaborator('active');
        let app = await limited({ PASSWORD_CHANGE_LIMIT: '2' });
        const attempt = async (target: Harness, currentPassword: string) => {
          const me = new Browser(target.app);
          await me.signIn(c.username, GOOD_PASSWORD);
          await me.get('/settings/password');
          return me.post('/settings/password', { currentPassword, password: 'plum tiger sofa moon', passwordConfirmation: 'plum tiger sofa moon' });
        };
        try {
          expect((await attempt(app, 'wrong one')).status).to.equal(422);
          expect((await attempt(app, 'wrong two')).status).to.equal(422);
          const refused = await attempt(app, GOOD_PASSWORD);
          expect(refused.status).to.equal(429);
          expect(refused.text).to.match(TOO_MANY);
        } finally {
          await app.close();
        }
        app = await limited({ PASSWORD_CHANGE_LIMIT: '2' });
        try {
          expect((await attempt(app, GOOD_PASSWORD)).status).to.equal(429);
        } finally {
          await app.close();
        }
        expect((await reload(h, c)).credentialVersion).to.equal(c.credentialVersion);
        expect(await h.db.models.AuditEvent.count({ where: { collaboratorId: c.id, action: 'password.change_failed' } })).to.equal(2);
      });
    });
  });
}
