import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { expect } from 'chai';
import supertest from 'supertest';
import type request from 'supertest';
import { DATABASES, type TestDatabase } from '../support/databases';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, harnessPerSuite, newCollaborator, signedInOwner, startHarness, type Harness, WIDE_LIMITS } from '../support/harness';
import { activate, addCollaborator, emailedTokens, setPasswordByLink } from '../support/accounts';
import { translator } from '../../src/i18n';
import type { Collaborator, Mailbox } from '../../src/models';

const OWNER = 'studio.rossi@pec.example.it';
/** The same owner name, as a look-alike would type it. */
const FULL_WIDTH = 'ｓtudio.rossi@pec.example.it';
const ZERO_WIDTH = `${OWNER}\u200b`;
const ACCENTED = 'stúdio.rossi@pec.example.it';
const TOO_MANY = translator('it')('errorPage.tooMany');

/** An answer's page without its CSRF tokens, which differ from browser to browser. */
const withoutTokens = (res: request.Response) => res.text.replace(/(name="_csrf" value=")[^"]+/g, '$1').replace(/(X-CSRF-Token&#34;:&#34;)[^&]+/g, '$1');

function cookieNamed(res: request.Response, name: string): string | undefined {
  const cookies = (res.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
  return cookies.find((c) => c.startsWith(`${name}=`));
}

/** Limits and identity: look-alike names, lock-outs by strangers, forged client addresses, email floods, /dev/mail. */
for (const { name, create } of DATABASES) {
  describe(`Limits and identity (${name})`, function () {
    let h: Harness;
    let database: TestDatabase;
    let serial = 0;

    harnessPerSuite(create, { env: WIDE_LIMITS, mailboxes: [OWNER] }, (harness, db) => {
      h = harness;
      database = db;
    });

    beforeEach(async function () {
      await h.reset();
    });

    /** Another app process on the same database, with these settings over the generous ones. */
    async function withApp(env: Record<string, string>, use: (app: Harness) => Promise<void>): Promise<void> {
      const app = await startHarness(database.url, { ...WIDE_LIMITS, ...env });
      try {
        await use(app);
      } finally {
        await app.close();
      }
    }

    /** An active collaborator of OWNER with GOOD_PASSWORD, added and activated as people would. */
    async function activeCollaborator(app: Harness = h, chosen = `user.${(serial += 1)}`): Promise<Collaborator> {
      const owner = await signedInOwner(app.app, OWNER);
      const c = await addCollaborator(app, owner, OWNER, { username: chosen, referenceEmail: `${chosen}@example.com` });
      await activate(app, c);
      return c;
    }

    async function forgot(app: Harness, username: string, browser = new Browser(app.app), headers: Record<string, string> = {}): Promise<request.Response> {
      await browser.get('/password/forgot', headers);
      const res = await browser.post('/password/forgot', { username }, headers);
      await app.domain.background.settled();
      return res;
    }

    /** Signs in, then out: the browser keeps only its device cookie. */
    async function signedInBefore(app: Harness, username: string, password: string): Promise<{ browser: Browser; signIn: request.Response }> {
      const browser = new Browser(app.app);
      const signIn = await browser.signIn(username, password);
      expect(signIn.status).to.equal(303);
      await browser.get(signIn.headers.location as string);
      expect((await browser.post('/logout')).status).to.equal(303);
      return { browser, signIn };
    }

    describe('counting under load', function () {
      it('should answer failed sign-ins sent all at once, and keep the database writable', async function () {
        this.timeout(30_000);
        const browsers = await Promise.all(Array.from({ length: 8 }, async () => {
          const browser = new Browser(h.app);
          await browser.get('/login');
          return browser;
        }));
        const started = Date.now();
        const answers = await Promise.all(browsers.map((b, i) => b.post('/login', { username: i % 2 ? OWNER : `someone.${i}@pec.example.it`, password: `wrong guess number ${i}` })));
        expect(answers.map((a) => a.status)).to.deep.equal(Array(8).fill(422));
        expect(Date.now() - started, 'ms for 8 failed sign-ins').to.be.below(10_000);
        // A write after them goes through at once: nothing holds the database.
        const owner = await signedInOwner(h.app, OWNER);
        expect((await owner.post('/settings/collaborations', newCollaborator({ username: 'after.load' }))).status).to.equal(303);
      });
    });

    describe('one account, one name, one counter', function () {
      it('should count look-alike names against the exact name, and let none in once it is locked', async function () {
        await withApp({ SIGN_IN_LIMIT_PER_ACCOUNT: '3' }, async (app) => {
          for (let i = 0; i < 3; i += 1) expect((await new Browser(app.app).signIn(OWNER, `wrong password ${i}`)).status).to.equal(422);
          for (const variant of [FULL_WIDTH, ZERO_WIDTH, ' Studio.Rossi@PEC.example.it', OWNER]) {
            const res = await new Browser(app.app).signIn(variant, OWNER_PASSWORD);
            expect(res.status, JSON.stringify(variant)).to.equal(429);
            expect(res.text).to.include(TOO_MANY);
          }
          // A different name: a counter of its own, and no account behind it.
          expect((await new Browser(app.app).signIn(ACCENTED, OWNER_PASSWORD)).status).to.equal(422);
        });
      });

      it('should email no more forgot-password links than the limit, whatever look-alike of the username is typed', async function () {
        await withApp({ FORGOT_LIMIT_PER_USERNAME: '3' }, async (app) => {
          const c = await activeCollaborator(app, 'mario.rossi');
          const variants = [c.username, `mario.rossi/${FULL_WIDTH}`, `${c.username}\u200b`, `mario.rossi/${ACCENTED}`, c.username.toUpperCase(), `ｍario.rossi/${OWNER}`];
          for (const variant of variants) {
            for (let i = 0; i < 3; i += 1) expect((await forgot(app, variant)).status).to.equal(200);
          }
          expect(await h.db.models.OutboxMessage.count({ where: { template: 'self_reset' } })).to.equal(3);
        });
      });

      it('should compare stored names exactly: no look-alike finds an account in the database', async function () {
        const c = await activeCollaborator(h, 'mario.rossi');
        const { Collaborator: Collaborators, Mailbox: Mailboxes } = h.db.models;
        for (const address of [ACCENTED, OWNER.toUpperCase(), `${OWNER} `]) expect(await Mailboxes.findOne({ where: { address } }), address).to.equal(null);
        for (const username of [`mario.rossi/${ACCENTED}`, c.username.toUpperCase()]) expect(await Collaborators.findOne({ where: { username } }), username).to.equal(null);
        expect(await Mailboxes.findOne({ where: { address: OWNER } })).not.to.equal(null);
        // Dovecot reads the view with what the mail program typed, lowercased by Dovecot itself.
        const [rows] = await h.db.sequelize.query('SELECT username FROM mail_accounts WHERE username = ?', { replacements: [`mario.rossi/${ACCENTED}`] });
        expect(rows).to.have.length(0);
        const [own] = await h.db.sequelize.query('SELECT username FROM mail_accounts WHERE username = ?', { replacements: [c.username] });
        expect(own).to.have.length(1);
      });
    });

    describe('device cookies: nobody can lock someone else out', function () {
      it("should let the owner's browser that signed in before sign in after a stranger's ten wrong passwords", async function () {
        await withApp({ SIGN_IN_LIMIT_PER_ACCOUNT: '10' }, async (app) => {
          const { browser: ownersBrowser, signIn } = await signedInBefore(app, OWNER, OWNER_PASSWORD);
          const device = cookieNamed(signIn, 'device') as string;
          expect(device, 'a device cookie').to.exist;
          expect(device.toLowerCase()).to.include('httponly').and.include('samesite=strict').and.include('path=/');

          for (let i = 0; i < 10; i += 1) expect((await new Browser(app.app).signIn(OWNER, `a stranger's guess ${i}`)).status).to.equal(422);
          expect((await new Browser(app.app).signIn(OWNER, 'one more guess')).status).to.equal(429);
          expect((await new Browser(app.app).signIn(OWNER, OWNER_PASSWORD)).status, 'an unknown browser').to.equal(429);

          expect((await ownersBrowser.signIn(OWNER, OWNER_PASSWORD)).status, "the owner's own browser").to.equal(303);
          expect((await ownersBrowser.get('/settings/collaborations')).status).to.equal(200);
        });
      });

      it('should give a __Host- device cookie, Secure and host-only, over https only', async function () {
        await withApp({ BASE_URL: 'https://webmail.pec.test', TRUST_PROXY: 'loopback' }, async (app) => {
          const signIn = async (headers: Record<string, string>) => {
            const form = await supertest(app.app).get('/login').set({ 'X-Forwarded-Proto': 'https' });
            const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] as string;
            const sid = ((form.headers['set-cookie'] as unknown as string[]) ?? []).map((c) => c.split(';')[0]).join('; ');
            return supertest(app.app).post('/login').set({ ...headers, Cookie: sid }).type('form').send({ _csrf: csrf, username: OWNER, password: OWNER_PASSWORD });
          };
          const secure = await signIn({ 'X-Forwarded-Proto': 'https' });
          expect(secure.status).to.equal(303);
          const attributes = (cookieNamed(secure, '__Host-device') as string).split(';').map((a) => a.trim().toLowerCase());
          expect(attributes).to.include.members(['path=/', 'httponly', 'secure', 'samesite=strict']);
          expect(attributes.some((a) => a.startsWith('domain='))).to.equal(false);
          const plain = await signIn({});
          expect(plain.status).to.equal(303);
          expect(cookieNamed(plain, '__Host-device'), 'over plain http').to.equal(undefined);
        });
      });

      it("should count a trusted browser's wrong passwords against its device cookie, not against the account", async function () {
        await withApp({ SIGN_IN_LIMIT_PER_ACCOUNT: '3', SIGN_IN_LIMIT_PER_DEVICE: '3' }, async (app) => {
          const { browser: stolen } = await signedInBefore(app, OWNER, OWNER_PASSWORD);
          for (let i = 0; i < 3; i += 1) expect((await stolen.signIn(OWNER, `guess ${i}`)).status).to.equal(422);
          expect((await stolen.signIn(OWNER, OWNER_PASSWORD)).status, 'that device is locked').to.equal(429);
          expect((await new Browser(app.app).signIn(OWNER, OWNER_PASSWORD)).status, 'the account is not').to.equal(303);
        });
      });

      it('should not trust a device cookie for another account, nor a forged or altered one', async function () {
        await withApp({ SIGN_IN_LIMIT_PER_ACCOUNT: '2' }, async (app) => {
          const c = await activeCollaborator(app);
          const { browser: ownersBrowser, signIn } = await signedInBefore(app, OWNER, OWNER_PASSWORD);
          const value = (cookieNamed(signIn, 'device') as string).split(';')[0]?.slice('device='.length) as string;
          for (const username of [OWNER, c.username]) {
            for (let i = 0; i < 2; i += 1) expect((await new Browser(app.app).signIn(username, 'a stranger guessing')).status).to.equal(422);
          }
          expect((await ownersBrowser.signIn(c.username, GOOD_PASSWORD)).status, "the owner's cookie, for the collaborator").to.equal(429);
          const [nonce, mac] = decodeURIComponent(value).split('.') as [string, string];
          const altered = `${nonce}.${mac.startsWith('A') ? 'B' : 'A'}${mac.slice(1)}`;
          for (const forged of [altered, `${'A'.repeat(22)}.${mac}`, `${nonce}.${'A'.repeat(43)}`]) {
            const browser = new Browser(app.app);
            await browser.get('/login');
            const res = await browser.agent
              .post('/login')
              .set('Cookie', `device=${forged}`)
              .type('form')
              .send({ _csrf: browser.csrf, username: OWNER, password: OWNER_PASSWORD });
            expect(res.status, forged).to.equal(429);
          }
          expect((await ownersBrowser.signIn(OWNER, OWNER_PASSWORD)).status, 'the genuine cookie').to.equal(303);
        });
      });

      it("should keep the link already in the user's inbox alive through anyone's requests, send the user a link, and end them all at the first use", async function () {
        await withApp({ FORGOT_LIMIT_PER_USERNAME: '3' }, async (app) => {
          const c = await activeCollaborator(app);
          const stranger = new Browser(app.app);
          const answers = [await forgot(app, c.username, stranger), await forgot(app, c.username, stranger)];
          answers.push(await forgot(app, c.username));
          let tokens = await emailedTokens(h, c, 'self_reset');
          expect(tokens, "the user's own request sent a link").to.have.length(3);
          for (const token of tokens) expect(await app.domain.links.findLive(token), 'no request revoked an earlier link').not.to.equal(null);
          for (let i = 0; i < 3; i += 1) answers.push(await forgot(app, c.username, stranger));
          for (const answer of answers) expect(answer.status).to.equal(200);
          for (const answer of answers) expect(withoutTokens(answer)).to.equal(withoutTokens(answers[0] as request.Response));
          tokens = await emailedTokens(h, c, 'self_reset');
          expect(tokens, 'no more than three live links').to.have.length(3);
          for (const token of tokens) expect(await app.domain.links.findLive(token), 'every link still good').not.to.equal(null);
          const { res: set } = await setPasswordByLink(app, tokens[0] as string, 'plum tiger sofa moon');
          expect(set.status, set.text).to.equal(200);
          for (const token of tokens) expect(await app.domain.links.findLive(token), 'all ended by one use').to.equal(null);
          await forgot(app, c.username);
          expect(await emailedTokens(h, c, 'self_reset'), 'a new request sends again').to.have.length(4);
        });
      });
    });

    describe('client addresses', function () {
      async function storedAddresses(): Promise<Array<string | null>> {
        const [access, sessions, audit] = await Promise.all([
          h.db.models.AccessEvent.findAll({ attributes: ['ip'] }),
          h.db.models.Session.findAll({ attributes: ['ip'] }),
          h.db.models.AuditEvent.findAll({ attributes: ['ip'] }),
        ]);
        return [...access, ...sessions, ...audit].map((row) => row.ip);
      }

      async function failedSignIn(app: Harness, headers: Record<string, string>): Promise<request.Response> {
        const browser = new Browser(app.app);
        await browser.get('/login', headers);
        return browser.post('/login', { username: OWNER, password: 'not the password' }, headers);
      }

      it('should store a valid IP address only, whatever X-Forwarded-For says', async function () {
        await withApp({ TRUST_PROXY: 'loopback' }, async (app) => {
          for (const forwarded of ['<b>free text</b>', '203.0.113.7', '::ffff:198.51.100.4']) {
            const headers = { 'X-Forwarded-For': forwarded };
            expect((await failedSignIn(app, headers)).status).to.equal(422);
            const owner = new Browser(app.app);
            await owner.get('/login', headers);
            expect((await owner.post('/login', { username: OWNER, password: OWNER_PASSWORD }, headers)).status).to.equal(303);
            await owner.get('/settings/collaborations/new', headers);
            const created = await owner.post('/settings/collaborations', newCollaborator({ username: `user.${(serial += 1)}` }), headers);
            expect(created.status, created.text).to.equal(303);
          }
          // Sessions of visitors who never signed in have no address.
          const stored = (await storedAddresses()).filter((ip) => ip !== null);
          expect(stored.length, 'sign-ins, sessions and activity of three requests each').to.be.at.least(12);
          for (const ip of stored) expect(net.isIP(ip as string), String(ip)).not.to.equal(0);
          // A configured proxy is believed: the addresses it forwards are the ones kept.
          expect(stored).to.include('203.0.113.7').and.include('198.51.100.4');
        });
      });

      it('should count 127.0.0.1 and ::1, an IPv4-mapped address and its IPv4, and the addresses of one IPv6 /64 as one allowance', async function () {
        await withApp({ TRUST_PROXY: 'loopback', FORGOT_LIMIT_PER_IP: '2' }, async (app) => {
          const from = (ip: string) => forgot(app, `nobody/${OWNER}`, new Browser(app.app), { 'X-Forwarded-For': ip });
          for (const [a, b, other] of [
            ['127.0.0.1', '::1', '127.0.0.2'],
            ['::ffff:203.0.113.9', '203.0.113.9', '::ffff:203.0.113.9'],
            ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:db8:1:2:abcd::7'],
          ] as const) {
            expect((await from(a)).status, a).to.equal(200);
            expect((await from(b)).status, b).to.equal(200);
            expect((await from(other)).status, `${other} after ${a} and ${b}`).to.equal(429);
          }
          expect((await from('2001:db8:1:3::1')).status, 'the next /64').to.equal(200);
        });
      });

      it('should not believe X-Forwarded-For from a client that is not a configured proxy', async function () {
        await withApp({ TRUST_PROXY: '192.0.2.254', FORGOT_LIMIT_PER_IP: '2' }, async (app) => {
          const answers = [];
          for (const ip of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) answers.push((await forgot(app, `nobody/${OWNER}`, new Browser(app.app), { 'X-Forwarded-For': ip })).status);
          expect(answers).to.deep.equal([200, 200, 429]);
          expect((await failedSignIn(app, { 'X-Forwarded-For': '198.51.100.1' })).status).to.equal(422);
          expect((await h.db.models.AccessEvent.findAll()).map((e) => e.ip)).to.deep.equal(['127.0.0.1']);
        });
      });
    });

    describe('sending limits', function () {
      const mailboxRow = async () => (await h.db.models.Mailbox.findOne({ where: { address: OWNER } })) as Mailbox;
      const emailsTo = (recipient: string) => h.db.models.OutboxMessage.count({ where: { kind: 'email', recipient } });

      it("should refuse an owner's resends over the per-recipient limit with 429 in the owner's language, and change nothing", async function () {
        await withApp({ MAIL_LIMIT_PER_RECIPIENT: '5' }, async (app) => {
          const owner = await signedInOwner(app.app, OWNER);
          const c = await addCollaborator(app, owner, OWNER, { username: 'target', referenceEmail: 'stranger@example.org', firstName: 'Any text the owner likes' });
          const statuses = [];
          for (let i = 0; i < 20; i += 1) statuses.push((await owner.post(`/settings/collaborations/${c.id}/password-link`)).status);
          expect(statuses).to.deep.equal([...Array<number>(4).fill(303), ...Array<number>(16).fill(429)]);
          expect(await emailsTo('stranger@example.org')).to.equal(5);

          const links = await h.db.models.Link.findAll({ where: { collaboratorId: c.id } });
          const events = await h.db.models.AuditEvent.count({ where: { collaboratorId: c.id } });
          for (const locale of ['it', 'en', 'es'] as const) {
            await (await mailboxRow()).update({ locale });
            const refused = await owner.post(`/settings/collaborations/${c.id}/password-link`);
            expect(refused.status).to.equal(429);
            const t = translator(locale);
            expect(refused.text).to.include(t('errorPage.tooManyEmails')).and.include(t('errorPage.tooManyEmailsRecipientBody', { limit: 5, hours: 24 }));
            expect(Number(refused.headers['retry-after'])).to.be.within(1, 24 * 3600);
          }
          await (await mailboxRow()).update({ locale: 'it' });
          expect((await h.db.models.Link.findAll({ where: { collaboratorId: c.id } })).map((l) => l.toJSON())).to.deep.equal(links.map((l) => l.toJSON()));
          expect(await h.db.models.AuditEvent.count({ where: { collaboratorId: c.id } })).to.equal(events);
          expect(await emailsTo('stranger@example.org')).to.equal(5);

          app.clock.advance(24 * 3600 * 1000 + 1000);
          expect((await owner.post(`/settings/collaborations/${c.id}/password-link`)).status, 'a day later').to.equal(303);
        });
      });

      it('should count an address whatever its case, and refuse one more collaborator for it without creating it', async function () {
        await withApp({ MAIL_LIMIT_PER_RECIPIENT: '2' }, async (app) => {
          const owner = await signedInOwner(app.app, OWNER);
          await addCollaborator(app, owner, OWNER, { username: 'first', referenceEmail: 'victim@example.org' });
          await addCollaborator(app, owner, OWNER, { username: 'second', referenceEmail: 'Victim@Example.ORG' });
          const refused = await owner.post('/settings/collaborations', newCollaborator({ username: 'third', referenceEmail: 'VICTIM@example.org' }));
          expect(refused.status).to.equal(429);
          expect(await h.db.models.Collaborator.count({ where: { username: `third/${OWNER}` } })).to.equal(0);
          await addCollaborator(app, owner, OWNER, { username: 'fourth', referenceEmail: 'someone.else@example.org' });
        });
      });

      it('should refuse every owner action over the per-mailbox limit, in htmx too, and still let the owner deactivate', async function () {
        await withApp({ MAIL_LIMIT_PER_MAILBOX: '3' }, async (app) => {
          const owner = await signedInOwner(app.app, OWNER);
          const a = await addCollaborator(app, owner, OWNER, { username: 'coll.a', referenceEmail: 'a@example.org' });
          const b = await addCollaborator(app, owner, OWNER, { username: 'coll.b', referenceEmail: 'b@example.org' });
          await activate(app, b);
          expect((await owner.post(`/settings/collaborations/${b.id}/password-reset`)).status).to.equal(303);
          const refused = await owner.post('/settings/collaborations', newCollaborator({ username: 'coll.c', referenceEmail: 'c@example.org' }));
          expect(refused.status).to.equal(429);
          expect(refused.text).to.include(translator('it')('errorPage.tooManyEmailsMailboxBody', { limit: 3, hours: 24 }));
          const htmx = await owner.htmx('post', `/settings/collaborations/${a.id}/password-link`);
          expect(htmx.status).to.equal(429);
          expect(htmx.headers['hx-retarget']).to.equal('#alerts');
          expect((await owner.post(`/settings/collaborations/${b.id}/password-reset`)).status, 'b is suspended already').to.equal(409);
          expect((await owner.post(`/settings/collaborations/${a.id}/deactivation`)).status).to.equal(303);
          expect(await h.db.models.OutboxMessage.count({ where: { kind: 'email', template: ['invitation', 'owner_reset'] } })).to.equal(3);
        });
      });
    });

    describe('GET /dev/mail', function () {
      /** An address of this machine that is not loopback: a request to it comes from it. */
      function outsideAddress(): string {
        const found = Object.values(os.networkInterfaces()).flat().find((i) => i && !i.internal && i.family === 'IPv4');
        if (!found) throw new Error('this test needs a network interface with a non-loopback IPv4 address');
        return found.address;
      }

      async function fetchFrom(port: number, host: string, headers: Record<string, string> = {}): Promise<number> {
        const res = await fetch(`http://${host}:${port}/dev/mail`, { headers });
        await res.arrayBuffer();
        return res.status;
      }

      /** Status of GET /dev/mail from 127.0.0.1 with this Host header (fetch sends the URL's own). */
      function hostFrom(port: number, host: string): Promise<number> {
        return new Promise((resolve, reject) => {
          http.get({ host: '127.0.0.1', port, path: '/dev/mail', headers: { Host: host } }, (res) => resolve(res.resume().statusCode ?? 0)).on('error', reject);
        });
      }

      it('should answer 404 to a client that is not on this machine, to a request a proxy relays, and to another site by name', async function () {
        const server = http.createServer(h.app);
        await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
        try {
          const { port } = server.address() as net.AddressInfo;
          expect(await fetchFrom(port, '127.0.0.1'), 'this machine').to.equal(200);
          expect(await fetchFrom(port, outsideAddress()), 'another address').to.equal(404);
          expect(await fetchFrom(port, '127.0.0.1', { 'X-Forwarded-For': '127.0.0.1' }), 'relayed').to.equal(404);
          expect(await fetchFrom(port, '127.0.0.1', { Forwarded: 'for=127.0.0.1' }), 'relayed').to.equal(404);
          expect(await fetchFrom(port, '127.0.0.1', { 'X-Real-IP': '8.8.8.8' }), 'relayed by a proxy that says X-Real-IP').to.equal(404);
          expect(await hostFrom(port, `localhost:${port}`), 'this machine, by name').to.equal(200);
          // A page of rebind.attacker.example, whose name now points at 127.0.0.1 (DNS rebinding).
          expect(await hostFrom(port, `rebind.attacker.example:${port}`), 'another site').to.equal(404);
        } finally {
          server.closeAllConnections();
          await new Promise((resolve) => server.close(resolve));
        }
      });
    });
  });
}
