import { Writable } from 'node:stream';
import express, { type Request } from 'express';
import request from 'supertest';
import { expect } from 'chai';
import { DATABASES } from '../support/databases';
import { BASE_URL, harnessPerSuite, newCollaborator, type Harness } from '../support/harness';
import { collaborations, type CollaborationsOptions, type HostMailbox } from '../../src/plugin';
import { createDomain, type Domain } from '../../src/domain';
import { createLogger } from '../../src/lib/logger';
import { Sealer } from '../../src/lib/secrets';
import { activate } from '../support/accounts';
import type { Collaborator } from '../../src/models';

const MAILBOXES: HostMailbox[] = [
  { id: 9101, address: 'studio.primo@pec.example.it' },
  { id: 9102, address: 'studio.secondo@pec.example.it' },
];
const PREFIX = '/settings/team';

/** The token of the last form of a page. */
const tokenIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
/** The `name=value` of each cookie a response set. */
const cookiesOf = (res: request.Response) => ((res.headers['set-cookie'] as unknown as string[] | undefined) ?? []).map((c) => c.split(';')[0] as string);

for (const { name, create } of DATABASES) {
  describe(`The feature mounted in a host (${name})`, function () {
    let h: Harness;
    let domain: Domain;

    harnessPerSuite(create, {}, (harness) => {
      h = harness;
      // The feature's own domain: its links point under PREFIX.
      domain = createDomain(h.db, { ...h.config, linksUrl: `${BASE_URL}${PREFIX}/password`, ownerPagesUrl: `${BASE_URL}${PREFIX}` }, h.clock);
    });

    after(async function () {
      await domain?.rateLimits.close();
    });

    afterEach(async function () {
      await h.reset();
    });

    /** A host whose sign-in is a header naming one of its mailboxes, with the feature under PREFIX. */
    function host(options: Partial<CollaborationsOptions> = {}, mountAt = PREFIX) {
      const app = express();
      const owner = (req: Request) => MAILBOXES.find((m) => String(m.id) === req.get('X-Host-User')) ?? null;
      app.use(mountAt, collaborations({ config: h.config, database: h.db, domain, mountPath: PREFIX, resolveOwner: owner, logger: createLogger('silent'), ...options }));
      return app;
    }

    /** The owner's page, and what a browser of theirs would send back: its cookies and the form's token. */
    async function ownerPage(app: express.Express, user: number, path = `${PREFIX}/new`) {
      const page = await request(app).get(path).set('X-Host-User', String(user));
      return { page, cookie: cookiesOf(page).join('; '), token: tokenIn(page.text) };
    }

    describe('CSRF, ours', function () {
      it("should refuse an owner's form posted with another owner's token and cookie (a cookie planted by a sibling site)", async function () {
        const app = host();
        const attacker = await ownerPage(app, 9102);
        const planted = await request(app).post(PREFIX).set({ 'X-Host-User': '9101', Cookie: attacker.cookie }).type('form').send({ _csrf: attacker.token, ...newCollaborator() });
        expect(planted.status).to.equal(403);
        const own = await ownerPage(app, 9101);
        const genuine = await request(app).post(PREFIX).set({ 'X-Host-User': '9101', Cookie: own.cookie }).type('form').send({ _csrf: own.token, ...newCollaborator() });
        expect(genuine.status, genuine.text).to.equal(303);
        expect(await h.db.models.Collaborator.count()).to.equal(1);
      });
    });

    describe("CSRF, the host's", function () {
      it("should refuse a POST whose token is not the host's, even when the host checks nothing itself", async function () {
        const app = host({ csrf: { token: (req) => (req.get('X-Host-User') ? `host-token-${req.get('X-Host-User')}` : 'host-token-visitor') } });
        for (const token of [undefined, '', 'host-token-9102']) {
          const res = await request(app).post(PREFIX).set('X-Host-User', '9101').type('form').send({ ...(token === undefined ? {} : { _csrf: token }), ...newCollaborator() });
          expect(res.status, `token ${String(token)}`).to.equal(403);
        }
        const form = await ownerPage(app, 9101);
        expect(form.token).to.equal('host-token-9101');
        const ok = await request(app).post(PREFIX).set('X-Host-User', '9101').type('form').send({ _csrf: form.token, ...newCollaborator() });
        expect(ok.status).to.equal(303);
        expect(await h.db.models.Collaborator.count()).to.equal(1);
      });
    });

    describe('a layout function', function () {
      it('should get the title as escaped HTML, so that a name can never write markup into the page', async function () {
        let seen = '';
        const app = host({ layout: ({ title, body }) => ((seen = title), `<title>${title}</title>${body}`) });
        const form = await ownerPage(app, 9101);
        await request(app).post(PREFIX).set({ 'X-Host-User': '9101', Cookie: form.cookie }).type('form').send({ _csrf: form.token, ...newCollaborator({ firstName: '</title><script>alert(1)</script>' }) });
        const c = await h.db.models.Collaborator.findOne();
        const details = await request(app).get(`${PREFIX}/${c?.id}`).set('X-Host-User', '9101');
        expect(details.status).to.equal(200);
        expect(seen).to.include('&lt;/title&gt;&lt;script&gt;');
        expect(details.text).to.not.include('<script>alert(1)');
      });
    });

    describe("the owner's two-step rule", function () {
      it('should show the rule as saved, from the next page on, with rendered lists reused', async function () {
        const app = host({ twoStepPolicy: true });
        const form = await ownerPage(app, 9101);
        await request(app).post(PREFIX).set({ 'X-Host-User': '9101', Cookie: form.cookie }).type('form').send({ _csrf: form.token, ...newCollaborator() });
        await activate(h, (await h.db.models.Collaborator.findOne()) as Collaborator);
        const before = await ownerPage(app, 9101, PREFIX);
        expect(before.page.text).not.to.match(/name="twoStepRequired" value="yes"\s+checked/);
        const saved = await request(app).post(`${PREFIX}/two-step-policy`).set({ 'X-Host-User': '9101', Cookie: before.cookie }).type('form').send({ _csrf: before.token, twoStepRequired: 'yes' });
        expect(saved.status).to.equal(303);
        const after = (await request(app).get(PREFIX).set('X-Host-User', '9101')).text;
        expect(after, 'the checkbox').to.match(/name="twoStepRequired" value="yes"\s+checked/);
        expect(after, 'the row of a collaborator without two-step').to.include('Verifica in due passaggi da configurare');
      });
    });

    describe('answers', function () {
      it("should forbid framing by another site and sniffing, and follow the browser's language when the host names none", async function () {
        const res = await request(host()).get(PREFIX).set({ 'X-Host-User': '9101', 'Accept-Language': 'en' });
        expect(res.status).to.equal(200);
        expect(res.headers['x-frame-options']).to.equal('SAMEORIGIN');
        expect(res.headers['x-content-type-options']).to.equal('nosniff');
        expect(res.text).to.include('<html lang="en">');
      });

      it("should send the X-Frame-Options that says what the host's CSP says about frames, never the opposite", async function () {
        const expected: [string, string | undefined][] = [
          ["frame-ancestors 'none'", 'DENY'],
          ["default-src 'self'; frame-ancestors 'self'", 'SAMEORIGIN'],
          // X-Frame-Options cannot name another origin: the CSP alone decides then.
          ["frame-ancestors 'self' https://webmail.example.it", undefined],
          ["default-src 'self'", 'SAMEORIGIN'],
        ];
        for (const [csp, frames] of expected) {
          const app = express();
          app.use((_req, res, next) => (res.set('Content-Security-Policy', csp), next()));
          app.use(PREFIX, collaborations({ config: h.config, database: h.db, domain, mountPath: PREFIX, resolveOwner: () => MAILBOXES[0] ?? null, logger: createLogger('silent') }));
          const res = await request(app).get(PREFIX);
          expect(res.status).to.equal(200);
          expect(res.headers['x-frame-options'], csp).to.equal(frames);
        }
      });

      it("should answer a body it cannot read with its error page in the browser's language, and change nothing", async function () {
        const app = host();
        const form = await ownerPage(app, 9101);
        const send = (body: string, type = 'application/x-www-form-urlencoded') =>
          request(app).post(PREFIX).set({ 'X-Host-User': '9101', Cookie: form.cookie, 'Accept-Language': 'en', 'Content-Type': type }).send(body);
        const fields = Array.from({ length: 60 }, (_, i) => `f${i}=x`).join('&');
        for (const [res, status] of [
          [await send(`_csrf=${form.token}&firstName=${'x'.repeat(40_000)}`), 413],
          [await send(`_csrf=${form.token}&${fields}`), 413],
          [await send(`_csrf=${form.token}`, 'application/x-www-form-urlencoded; charset=utf-16'), 415],
        ] as const) {
          expect(res.status).to.equal(status);
          expect(res.type).to.equal('text/html');
          expect(res.text).to.include('This request could not be read');
        }
        expect(await h.db.models.Collaborator.count()).to.equal(0);
      });

      it('should know a collaborator by one address only: 5, never 05, 5.0 or 0x5', async function () {
        const app = host();
        const form = await ownerPage(app, 9101);
        await request(app).post(PREFIX).set({ 'X-Host-User': '9101', Cookie: form.cookie }).type('form').send({ _csrf: form.token, ...newCollaborator() });
        const id = (await h.db.models.Collaborator.findOne())?.id as number;
        expect((await request(app).get(`${PREFIX}/${id}`).set('X-Host-User', '9101')).status).to.equal(200);
        for (const alias of [`0${id}`, `${id}.0`, `0x${id.toString(16)}`, `${id}e0`, `+${id}`]) {
          expect((await request(app).get(`${PREFIX}/${alias}`).set('X-Host-User', '9101')).status, alias).to.equal(404);
        }
      });

      it('should say where it is mounted when the host mounted it elsewhere, instead of linking everywhere wrong', async function () {
        const lines: string[] = [];
        const logger = createLogger('error', new Writable({ write: (chunk: Buffer, _e, done) => void (lines.push(chunk.toString()), done()) }));
        const res = await request(host({ logger }, '/elsewhere')).get('/elsewhere').set('X-Host-User', '9101');
        expect(res.status).to.equal(500);
        expect(lines.join('')).to.include('the feature is mounted at \\"/elsewhere\\" but was told mountPath \\"/settings/team\\"');
      });

      it("should send emailed links to the host's prefix, and keep the host's mailbox id, address and no password", async function () {
        const app = host();
        const form = await ownerPage(app, 9102);
        await request(app).post(PREFIX).set({ 'X-Host-User': '9102', Cookie: form.cookie }).type('form').send({ _csrf: form.token, ...newCollaborator() });
        const mailbox = await h.db.models.Mailbox.findByPk(9102);
        expect([mailbox?.address, mailbox?.passwordHash]).to.deep.equal(['studio.secondo@pec.example.it', null]);
        const c = await h.db.models.Collaborator.findOne();
        expect(c?.username).to.equal('mario.rossi/studio.secondo@pec.example.it');
        const invitation = await h.db.models.OutboxMessage.findOne({ where: { collaboratorId: c?.id } });
        const link = new Sealer(h.config.sessionSecret).open(String(invitation?.secret));
        expect(link).to.match(new RegExp(`^${BASE_URL}${PREFIX}/password/[A-Za-z0-9_-]{43}$`));
      });
    });
  });
}
