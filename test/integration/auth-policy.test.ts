/**
 * POST /dovecot/auth-policy: Dovecot's auth policy requests, as Dovecot 2.3.19 sends them (fields
 * and answers checked against a real Dovecot; the end-to-end run is test/e2e/auth-policy.test.ts).
 */
import { expect } from 'chai';
import request from 'supertest';
import { DATABASES } from '../support/databases';
import { Browser, GOOD_PASSWORD, harnessPerSuite, type Harness } from '../support/harness';
import { collaboratorIn } from '../support/accounts';
import { textOf } from '../support/html';
import { translator } from '../../src/i18n';
import { clientName } from '../../src/domain/auth-policy';
import type { Collaborator } from '../../src/models';

const MAILBOX = 'studio.bianchi@pec.example.it';
const KEY = 'an auth policy key of the tests, 32 chars or more';
const AUTH = `Bearer ${KEY}`;
const USERNAME = `anna.verdi/${MAILBOX}`;
const REFUSED = { status: -1, msg: translator('it')('errorPage.tooManyMailProgram') };
const THUNDERBIRD = '"name" "Thunderbird" "version" "115.3.1"';

/** The body Dovecot sends with deploy/dovecot/dovecot.conf's auth_policy_request_attributes. */
function attempt(login: string, fields: Record<string, unknown> = {}): Record<string, unknown> {
  return { client_id: '', login, protocol: 'imap', remote: '192.0.2.10', tls: false, ...fields };
}

describe('clientName (IMAP ID, RFC 2971)', () => {
  it('should give the name and version a client sent', () => {
    expect(clientName(THUNDERBIRD)).to.equal('Thunderbird 115.3.1');
    expect(clientName('"NAME" "K-9 \\"Mail\\"" "os" "Android"')).to.equal('K-9 "Mail"');
  });

  it('should give null when no name was sent', () => {
    expect(clientName('')).to.equal(null);
    expect(clientName('"version" "1.0" "name" NIL')).to.equal(null);
    expect(clientName('garbage')).to.equal(null);
  });
});

for (const { name, create } of DATABASES) {
  describe(`POST /dovecot/auth-policy (${name})`, function () {
    let h: Harness;
    let anna: Collaborator;
    const env = { AUTH_POLICY_KEY: KEY, SIGN_IN_LIMIT_PER_ACCOUNT: '3', SIGN_IN_LIMIT_PER_IP: '5' };

    harnessPerSuite(create, { env, mailboxes: [MAILBOX] }, (harness) => {
      h = harness;
    });

    beforeEach(async function () {
      await h.reset();
      const mailbox = (await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } }))!;
      anna = await collaboratorIn(h, mailbox, 'active', { firstName: 'Anna', lastName: 'Verdi', username: 'anna.verdi', referenceEmail: 'anna@example.com', accessLevel: 'mail_clients', manageSettings: false });
    });

    const send = (command: string, body: unknown, authorization: string | null = AUTH) => {
      const req = request(h.app).post(`/dovecot/auth-policy?command=${command}`);
      if (authorization !== null) req.set('Authorization', authorization);
      return req.send(body as object);
    };
    const allow = (login: string, fields?: Record<string, unknown>) => send('allow', attempt(login, fields));
    const report = (login: string, success: boolean, fields?: Record<string, unknown>) => send('report', attempt(login, { success, policy_reject: false, ...fields }));

    describe('authentication', () => {
      for (const [title, header] of [
        ['no Authorization header', null],
        ['a wrong key', `Bearer ${KEY.slice(0, -1)}x`],
        ['the key without its scheme', KEY],
        ['a longer key', `${AUTH}x`],
        ['Basic credentials', `Basic ${Buffer.from(`dovecot:${KEY}`).toString('base64')}`],
      ] as const) {
        it(`should refuse ${title} with 401 and no detail`, async () => {
          const res = await send('allow', attempt(USERNAME), header);
          expect(res.status).to.equal(401);
          expect(res.text).to.equal('');
          expect(res.headers['www-authenticate']).to.equal('Bearer');
        });
      }

      it('should count nothing for a refused request', async () => {
        for (let i = 0; i < 5; i += 1) await send('allow', attempt(USERNAME), 'Bearer wrong');
        expect((await allow(USERNAME)).body).to.deep.equal({ status: 0 });
      });
    });

    describe('malformed requests', () => {
      for (const [title, command, body] of [
        ['an unknown command', 'deny', attempt(USERNAME)],
        ['no command', '', attempt(USERNAME)],
        ['no login', 'allow', { remote: '192.0.2.1', protocol: 'imap' }],
        ['a login that is not a string', 'allow', attempt(USERNAME, { login: 42 })],
        ['an unknown protocol', 'allow', attempt(USERNAME, { protocol: 'gopher' })],
        ['a report without success', 'report', attempt(USERNAME)],
        ['a JSON array', 'allow', [attempt(USERNAME)]],
      ] as const) {
        it(`should answer 400 to ${title}`, async () => {
          const res = await send(command, body);
          expect(res.status).to.equal(400);
          expect(res.body).to.have.property('error').that.is.a('string');
        });
      }

      it('should answer 400 to a body that is not JSON', async () => {
        const res = await request(h.app).post('/dovecot/auth-policy?command=allow').set('Authorization', AUTH).type('json').send('{"login":');
        expect(res.status).to.equal(400);
        expect(res.body).to.deep.equal({ error: 'unreadable request' });
      });

      it('should answer 413 to a body over 8 kB', async () => {
        const res = await send('allow', attempt(USERNAME, { client_id: 'x'.repeat(9000) }));
        expect(res.status).to.equal(413);
      });

      it('should answer 405 to a GET', async () => {
        const res = await request(h.app).get('/dovecot/auth-policy').set('Authorization', AUTH);
        expect(res.status).to.equal(405);
        expect(res.headers.allow).to.equal('POST');
      });
    });

    describe('command=allow', () => {
      it('should answer exactly {"status":0} as JSON, never cached', async () => {
        const res = await allow(USERNAME);
        expect(res.status).to.equal(200);
        expect(res.type).to.equal('application/json');
        expect(res.text).to.equal('{"status":0}');
        expect(res.headers['cache-control']).to.equal('no-store');
      });

      it('should refuse the attempt after the per-account limit, with the message the client shows', async () => {
        for (let i = 0; i < 3; i += 1) {
          expect((await allow(USERNAME, { remote: `192.0.2.${20 + i}` })).body).to.deep.equal({ status: 0 });
          await report(USERNAME, false, { remote: `192.0.2.${20 + i}` });
        }
        const res = await allow(USERNAME, { remote: '192.0.2.99' });
        expect(res.status).to.equal(200);
        expect(res.body).to.deep.equal(REFUSED);
      });

      it('should key the account by its canonical name, as the web does', async () => {
        for (let i = 0; i < 3; i += 1) await allow(USERNAME.toUpperCase(), { remote: `192.0.2.${30 + i}` });
        expect((await allow(USERNAME, { remote: '192.0.2.39' })).body).to.deep.equal(REFUSED);
      });

      it('should refuse an address over the per-address limit, whatever account it tries', async () => {
        for (let i = 0; i < 5; i += 1) await allow(`user${i}/${MAILBOX}`, { remote: '198.51.100.7' });
        expect((await allow(`other/${MAILBOX}`, { remote: '198.51.100.7' })).body).to.deep.equal(REFUSED);
        expect((await allow(`other/${MAILBOX}`, { remote: '198.51.100.8' })).body).to.deep.equal({ status: 0 });
      });
    });

    describe('one limit for the web and mail programs', () => {
      it('should add web failures and mail-program failures in the same counter, both ways', async () => {
        const browser = new Browser(h.app);
        expect((await browser.signIn(USERNAME, 'wrong password of anna, 1')).status).to.equal(422);
        await allow(USERNAME, { remote: '192.0.2.40' });
        await report(USERNAME, false, { remote: '192.0.2.40' });
        expect((await browser.signIn(USERNAME, 'wrong password of anna, 2')).status).to.equal(422);
        // Three failures: the right password is refused on both doors.
        expect((await allow(USERNAME, { remote: '192.0.2.41' })).body).to.deep.equal(REFUSED);
        expect((await new Browser(h.app).signIn(USERNAME, GOOD_PASSWORD)).status).to.equal(429);
      });

      it('should give back the attempt of a successful sign-in, as the web does', async () => {
        for (let i = 0; i < 6; i += 1) {
          expect((await allow(USERNAME, { remote: '192.0.2.50' })).body).to.deep.equal({ status: 0 });
          expect((await report(USERNAME, true, { remote: '192.0.2.50' })).body).to.deep.equal({ status: 0 });
        }
      });
    });

    describe('command=report', () => {
      it('should record each sign-in in the access history with protocol, address and client name', async () => {
        await report(USERNAME, true, { client_id: THUNDERBIRD, remote: '::ffff:192.0.2.60' });
        await report(USERNAME, false, { protocol: 'pop3', remote: '2001:db8::1' });
        await report(USERNAME, true, { protocol: 'submission' });
        const events = await h.db.models.AccessEvent.findAll({ order: [['id', 'ASC']] });
        expect(events.map((e) => [e.channel, e.outcome, e.ip, e.userAgent, e.collaboratorId, e.principalType])).to.deep.equal([
          ['imap', 'success', '192.0.2.60', 'Thunderbird 115.3.1', anna.id, 'collaborator'],
          ['pop3', 'failure', '2001:db8::1', null, anna.id, 'collaborator'],
          ['submission', 'success', '192.0.2.10', null, anna.id, 'collaborator'],
        ]);
      });

      it('should take and record an operator\'s doveadm auth test (Dovecot guide, step 7) like a mail program', async () => {
        expect((await allow(USERNAME, { protocol: 'doveadm' })).text).to.equal('{"status":0}');
        await report(USERNAME, true, { protocol: 'doveadm' });
        const event = await h.db.models.AccessEvent.findOne();
        expect([event?.channel, event?.outcome]).to.deep.equal(['doveadm', 'success']);
      });

      it('should record a login that names no account as the web does', async () => {
        await report(`nobody/${MAILBOX}`, false, { protocol: 'smtp' });
        const event = await h.db.models.AccessEvent.findOne();
        const mailbox = await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } });
        expect([event?.principalType, event?.username, event?.mailboxId, event?.channel]).to.deep.equal(['unknown', `nobody/${MAILBOX}`, mailbox?.id, 'smtp']);
      });

      it('should not record an attempt the policy refused, as the web does not', async () => {
        await report(USERNAME, false, { policy_reject: true });
        expect(await h.db.models.AccessEvent.count()).to.equal(0);
      });

      it('should show mail-program sign-ins on the owner’s access history', async () => {
        await report(USERNAME, true, { client_id: THUNDERBIRD, remote: '192.0.2.61' });
        const owner = new Browser(h.app);
        await owner.signIn(MAILBOX, 'owner password for the tests');
        const page = await owner.get('/settings/access-history');
        expect(page.status).to.equal(200);
        const row = /<tr class="access-success">(?:(?!<\/tr>)[\s\S])*192\.0\.2\.61(?:(?!<\/tr>)[\s\S])*<\/tr>/.exec(page.text)?.[0] ?? '';
        expect(textOf(row)).to.include('IMAP').and.include('Thunderbird').and.include(USERNAME);
      });
    });
  });

  describe(`POST /dovecot/auth-policy without AUTH_POLICY_KEY (${name})`, function () {
    let h: Harness;
    harnessPerSuite(create, {}, (harness) => {
      h = harness;
    });

    it('should answer 404, with or without a key', async () => {
      for (const authorization of [AUTH, 'Bearer ']) {
        const res = await request(h.app).post('/dovecot/auth-policy?command=allow').set('Authorization', authorization).send(attempt(USERNAME));
        expect(res.status).to.equal(404);
      }
    });
  });
}
