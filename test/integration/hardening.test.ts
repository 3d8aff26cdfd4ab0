import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import request from 'supertest';
import { DATABASES, type TestDatabase } from '../support/databases';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, newCollaborator, harnessWithOwner, startHarness, type Harness } from '../support/harness';
import { activate, addCollaborator, latestLinkToken, reload, setPasswordByLink } from '../support/accounts';
import { createApp } from '../../src/app';
import { createLogger } from '../../src/lib/logger';
import { ROOT } from '../../src/config';

const MAILBOX = 'studio.rossi@pec.example.it';
const HTTPS_BASE = 'https://webmail.pec.test';

/** Every .ejs file under views/. */
function viewFiles(dir = path.join(ROOT, 'views')): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    return entry.isDirectory() ? viewFiles(file) : entry.name.endsWith('.ejs') ? [file] : [];
  });
}

/** What the CSP (script-src 'self', style-src 'self', no unsafe-*) would block in a page. */
const CSP_BLOCKED = [
  /<script(?![^>]*\bsrc=)[^>]*>/i, // inline script
  /<style[\s>]/i, // inline style element
  /\sstyle\s*=/i, // style attribute
  /\son[a-z]+\s*=/i, // event handler attribute
  /\bhx-on[:-]/i, // htmx inline handlers need unsafe-eval
  /javascript:/i,
];

for (const { name, create } of DATABASES) {
  describe(`Hardening (${name})`, function () {
    let database: TestDatabase;
    let h: Harness;
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

    describe('Content-Security-Policy', function () {
      it('should forbid plugins, base and framing, and allow only our own scripts and styles', async function () {
        const res = await owner.get('/settings/collaborations');
        const csp = res.headers['content-security-policy'] as string;
        const directives = new Map(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v.join(' ')]));
        expect(directives.get('default-src')).to.equal("'self'");
        expect(directives.get('script-src')).to.equal("'self'");
        expect(directives.get('style-src')).to.equal("'self'");
        expect(directives.get('object-src')).to.equal("'none'");
        expect(directives.get('base-uri')).to.equal("'none'");
        expect(directives.get('frame-ancestors')).to.equal("'none'");
        expect(directives.get('form-action')).to.equal("'self'");
        expect(csp).not.to.match(/unsafe-inline|unsafe-eval|\*/);
        expect(res.headers['x-frame-options'], "what frame-ancestors 'none' says, for browsers without CSP").to.equal('DENY');
        expect(res.headers['x-content-type-options']).to.equal('nosniff');
        expect(res.headers['strict-transport-security'], 'no HSTS over plain http').to.equal(undefined);
      });

      it('should have no inline script, style or handler in any view', function () {
        const files = viewFiles();
        expect(files.length).to.be.greaterThan(15);
        for (const file of files) {
          const text = fs.readFileSync(file, 'utf8');
          for (const pattern of CSP_BLOCKED) expect(text, `${path.relative(ROOT, file)} ${pattern}`).not.to.match(pattern);
        }
      });

      it('should render pages with nothing the policy blocks', async function () {
        const c = await addCollaborator(h, owner, MAILBOX);
        const pages = ['/settings/collaborations', '/settings/collaborations/new', `/settings/collaborations/${c.id}`, `/settings/collaborations/${c.id}/deactivation`, '/settings/activity', '/settings/access-history', '/settings/password'];
        for (const page of pages) {
          const res = await owner.get(page);
          expect(res.status, page).to.equal(200);
          for (const pattern of CSP_BLOCKED) expect(res.text, `${page} ${pattern}`).not.to.match(pattern);
        }
        const anonymous = new Browser(h.app);
        for (const page of ['/login', '/password/forgot', `/password/${await latestLinkToken(h, c)}`, '/password/new']) {
          const res = await anonymous.get(page);
          for (const pattern of CSP_BLOCKED) expect(res.text, `${page} ${pattern}`).not.to.match(pattern);
        }
      });
    });

    describe('served over https (BASE_URL https, behind a TLS proxy)', function () {
      let s: Harness;

      before(async function () {
        s = await startHarness(database.url, { BASE_URL: HTTPS_BASE, TRUST_PROXY: 'loopback' });
      });

      after(async function () {
        await s.close();
      });

      it('should send HSTS for one year', async function () {
        const res = await request(s.app).get('/login').set('X-Forwarded-Proto', 'https');
        expect(res.headers['strict-transport-security']).to.equal('max-age=31536000; includeSubDomains');
        expect(res.headers['content-security-policy']).to.include('upgrade-insecure-requests');
      });

      it('should give a __Host- session cookie that is Secure, HttpOnly, SameSite and host-only', async function () {
        const form = await request(s.app).get('/login').set('X-Forwarded-Proto', 'https');
        const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] as string;
        const cookie = (form.headers['set-cookie'] as unknown as string[])[0] as string;
        expect(cookie, 'the CSRF cookie of the sign-in form').to.match(/^__Host-csrf=/);
        const signIn = await request(s.app)
          .post('/login')
          .set({ 'X-Forwarded-Proto': 'https', Cookie: cookie.split(';')[0] as string })
          .type('form')
          .send({ _csrf: csrf, username: MAILBOX, password: OWNER_PASSWORD });
        expect(signIn.status).to.equal(303);
        const set = (signIn.headers['set-cookie'] as unknown as string[]).find((c) => c.startsWith('__Host-sid='));
        for (const issued of [cookie, set]) {
          const attributes = String(issued).split(';').map((a) => a.trim().toLowerCase());
          expect(attributes).to.include.members(['path=/', 'httponly', 'secure', 'samesite=lax']);
          expect(attributes.some((a) => a.startsWith('domain='))).to.equal(false);
        }
        const page = await request(s.app).get('/settings/collaborations').set({ 'X-Forwarded-Proto': 'https', Cookie: String(set).split(';')[0] as string });
        expect(page.status).to.equal(200);
      });

      it('should never hand the session cookie to a plain-http connection', async function () {
        const form = await request(s.app).get('/login').set('X-Forwarded-Proto', 'https');
        const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)?.[1] as string;
        const cookie = (form.headers['set-cookie'] as unknown as string[])[0] as string;
        const signIn = await request(s.app).post('/login').set({ Cookie: cookie.split(';')[0] as string }).type('form').send({ _csrf: csrf, username: MAILBOX, password: OWNER_PASSWORD });
        expect(signIn.status).to.equal(303);
        const cookies = (signIn.headers['set-cookie'] as unknown as string[] | undefined) ?? [];
        expect(cookies.filter((c) => c.startsWith('__Host-sid='))).to.deep.equal([]);
      });
    });

    describe('the CSRF cookie', function () {
      const csrfSet = (res: request.Response) => ((res.headers['set-cookie'] as unknown as string[] | undefined) ?? []).find((c) => c.startsWith('csrf='))?.split(';')[0];
      const pageToken = (res: request.Response) => /name="_csrf" value="([^"]+)"/.exec(res.text)?.[1];

      it('should be replaced when it holds no valid token, and not set again while it holds one', async function () {
        const planted = await request(h.app).get('/login').set('Cookie', 'csrf=planted.token');
        const issued = csrfSet(planted);
        expect(issued).to.match(/^csrf=/).and.not.equal('csrf=planted.token');
        expect(pageToken(planted)).to.equal(decodeURIComponent(String(issued).slice('csrf='.length)));
        for (let i = 0; i < 3; i += 1) {
          const again = await request(h.app).get('/login').set('Cookie', String(issued));
          if (i > 0) expect(csrfSet(again), `page ${i + 1}`).to.equal(undefined);
          expect(pageToken(again)).to.equal(pageToken(planted));
        }
      });

      it('should not be set again at each of the owner\'s pages, and its token still be accepted', async function () {
        await owner.get('/settings/collaborations');
        const res = await owner.get('/settings/collaborations');
        expect(csrfSet(res)).to.equal(undefined);
        expect((await owner.post('/settings/collaborations/two-step-policy', { twoStepRequired: 'no' })).status).to.equal(303);
      });
    });

    describe('Sec-Fetch-Site', function () {
      it('should refuse a cross-site state change with 403 even with a valid token, and change nothing', async function () {
        const c = await addCollaborator(h, owner, MAILBOX);
        await activate(h, c);
        await owner.get('/settings/collaborations');
        const res = await owner.post(`/settings/collaborations/${c.id}/password-reset`, {}, { 'Sec-Fetch-Site': 'cross-site' });
        expect(res.status).to.equal(403);
        const capitals = await owner.post(`/settings/collaborations/${c.id}/password-reset`, {}, { 'Sec-Fetch-Site': 'Cross-Site' });
        expect(capitals.status, 'the value in capitals').to.equal(403);
        const remove = await owner.agent.delete(`/settings/collaborations/${c.id}`).set({ 'X-CSRF-Token': owner.csrf, 'Sec-Fetch-Site': 'cross-site' });
        expect(remove.status).to.equal(403);
        const signIn = await new Browser(h.app).agent.post('/login').type('form').set('Sec-Fetch-Site', 'cross-site').send({ username: MAILBOX, password: OWNER_PASSWORD });
        expect(signIn.status).to.equal(403);
        expect((await reload(h, c)).status).to.equal('active');
      });

      it('should accept same-origin requests and browsers that send no such header', async function () {
        const c = await addCollaborator(h, owner, MAILBOX);
        await activate(h, c);
        await owner.get('/settings/collaborations');
        const res = await owner.post(`/settings/collaborations/${c.id}/password-reset`, {}, { 'Sec-Fetch-Site': 'same-origin' });
        expect(res.status).to.equal(303);
        expect((await owner.get('/settings/collaborations', { 'Sec-Fetch-Site': 'cross-site' })).status, 'a link from elsewhere still opens').to.equal(200);
      });
    });

    describe('request bodies', function () {
      it('should refuse an oversized body with 413 before anything runs', async function () {
        const res = await owner.post('/settings/collaborations', newCollaborator({ firstName: 'x'.repeat(40_000) }));
        expect(res.status).to.equal(413);
        const many = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`f${i}`, 'x']));
        const tooMany = await owner.post('/settings/collaborations', { ...newCollaborator(), ...many });
        expect(tooMany.status).to.equal(413);
        expect(await h.db.models.Collaborator.count()).to.equal(0);
      });

      it("should answer a body it cannot read with the error page in the user's language, not a bare status", async function () {
        const form = { _csrf: owner.csrf, ...newCollaborator() };
        const encoded = new URLSearchParams(form).toString();
        for (const [res, status] of [
          [await owner.post('/settings/collaborations', { ...form, firstName: 'x'.repeat(40_000) }), 413],
          [await owner.agent.post('/settings/collaborations').set('Content-Type', 'application/x-www-form-urlencoded; charset=utf-16').send(encoded), 415],
          [await owner.agent.post('/settings/collaborations').set({ 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Encoding': 'gzip' }).send(encoded), 400],
          [await new Browser(h.app).agent.post('/login').set('Content-Type', 'application/x-www-form-urlencoded; charset=latin2').send('username=x&password=y'), 415],
        ] as const) {
          expect(res.status).to.equal(status);
          expect(res.type).to.equal('text/html');
          expect(res.text).to.include('Impossibile leggere la richiesta');
        }
        expect(await h.db.models.Collaborator.count()).to.equal(0);
      });

      it('should ignore unknown fields: no status, password, mailbox or id can be smuggled in', async function () {
        const other = await h.mailbox('studio.verdi@pec.example.it');
        const res = await owner.post('/settings/collaborations', {
          ...newCollaborator(),
          status: 'active',
          passwordHash: '$2b$04$abcdefghijklmnopqrstuuJ1m6Cq2nqf6I3rJ5Q7l1lR4hE4o2x7S',
          password: GOOD_PASSWORD,
          mailboxId: String(other.id),
          id: '999',
          credentialVersion: '99',
          'manageSettings[]': 'on',
        });
        expect(res.status).to.equal(303);
        const c = await h.db.models.Collaborator.findOne({ where: { username: `mario.rossi/${MAILBOX}` } });
        expect(c?.status).to.equal('pending');
        expect(c?.passwordHash).to.equal(null);
        expect(c?.id).not.to.equal(999);
        expect(c?.credentialVersion).to.equal(1);
        expect(c?.manageSettings).to.equal(false);
        const mine = await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } });
        expect(c?.mailboxId).to.equal(mine?.id);
        await owner.get('/settings/collaborations');
        const access = await owner.post(`/settings/collaborations/${c?.id}/access`, { accessLevel: 'read', status: 'active', passwordHash: 'x' });
        expect(access.status).to.equal(303);
        const after = await h.db.models.Collaborator.findByPk(c?.id);
        expect([after?.status, after?.passwordHash, after?.accessLevel]).to.deep.equal(['pending', null, 'read']);
        await h.db.models.Mailbox.destroy({ where: { id: other.id } });
      });
    });

    describe('logs', function () {
      it('should write no password, token, hash or cookie in any log line', async function () {
        const lines: string[] = [];
        const sink = new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(chunk.toString('utf8'));
            done();
          },
        });
        const logged = createApp({ domain: h.domain, logger: createLogger('trace', sink) });
        try {
          const browser = new Browser(logged.app);
          const signIn = await browser.signIn(MAILBOX, OWNER_PASSWORD);
          expect(signIn.status).to.equal(303);
          const cookie = String((signIn.headers['set-cookie'] as unknown as string[])[0]).split(';')[0] as string;
          await browser.get('/settings/collaborations');
          await browser.post('/settings/collaborations', newCollaborator());
          const c = await h.db.models.Collaborator.findOne({ where: { username: `mario.rossi/${MAILBOX}` } });
          const token = await latestLinkToken(h, c!);
          const { res: set } = await setPasswordByLink(h, token, GOOD_PASSWORD, new Browser(logged.app));
          expect(set.status).to.equal(200);
          const hash = (await reload(h, c!)).passwordHash as string;

          // Failing requests: the session table is gone, so every request with a session fails (500).
          const again = await latestLinkToken(h, c!);
          await h.db.sequelize.query('ALTER TABLE sessions RENAME TO sessions_away');
          try {
            // A signed-in request whose address carries a link token: it must not reach the log either.
            expect((await browser.get(`/settings/collaborations?q=${again}`)).status).to.equal(500);
            expect((await browser.post('/login', { username: MAILBOX, password: OWNER_PASSWORD })).status).to.equal(500);
            expect((await browser.post('/password/new', { password: GOOD_PASSWORD, passwordConfirmation: GOOD_PASSWORD })).status).to.equal(500);
          } finally {
            await h.db.sequelize.query('ALTER TABLE sessions_away RENAME TO sessions');
          }

          const log = lines.join('');
          expect(lines.filter((l) => l.includes('request failed')), 'the failures were logged').to.have.length(3);
          for (const [what, secret] of [
            ['owner password', OWNER_PASSWORD],
            ['new password', GOOD_PASSWORD],
            ['link token', token],
            ['second link token', again],
            ['password hash', hash],
            ['session cookie', cookie.split('=')[1] as string],
            ['session id', decodeURIComponent(cookie.split('=')[1] as string).slice(2).split('.')[0] as string],
            ['csrf token', browser.csrf],
          ] as const) {
            expect(log.includes(secret), `${what} in the log`).to.equal(false);
          }
          expect(log).not.to.include('$2b$');
        } finally {
          logged.close();
        }
      });
    });
  });
}
