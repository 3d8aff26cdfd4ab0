/**
 * Input the app cannot use is the client's error, said as such: an unreadable body is a 4xx and no
 * server failure in the log; a name with characters no XML or mail header may hold is refused at the
 * form; a time is shown so that the hour repeated when the clocks go back names one moment.
 */
import { Writable } from 'node:stream';
import { expect } from 'chai';
import request from 'supertest';
import { DATABASES } from '../support/databases';
import { Browser, harnessWithOwner, newCollaborator, signedInOwner, type Harness } from '../support/harness';
import { addCollaborator } from '../support/accounts';
import { createApp } from '../../src/app';
import { createLogger } from '../../src/lib/logger';
import { ValidationFailed } from '../../src/domain/errors';
import { translator } from '../../src/i18n';

const MAILBOX = 'studio.rossi@pec.example.it';
const INVALID = translator('it')('errors.invalid');

/** pino's numeric levels: 50 is error, 60 fatal. */
const ERROR_LEVEL = 50;

for (const { name, create } of DATABASES) {
  describe(`Unfit input (${name})`, function () {
    let h: Harness;
    let owner: Browser;

    harnessWithOwner(
      create,
      { mailboxes: [MAILBOX] },
      (harness) => (h = harness),
      (signedIn) => (owner = signedIn),
    );

    describe('a body the app cannot read', function () {
      const lines: Array<{ level: number; msg: string }> = [];
      let logged: ReturnType<typeof createApp>;
      before(function () {
        const sink = new Writable({
          write(chunk: Buffer, _encoding, done) {
            lines.push(JSON.parse(chunk.toString('utf8')) as { level: number; msg: string });
            done();
          },
        });
        logged = createApp({ domain: h.domain, logger: createLogger('trace', sink) });
      });
      after(() => logged.close());
      beforeEach(() => {
        lines.length = 0;
      });

      const cases: Array<[title: string, headers: Record<string, string>, status: number]> = [
        ['an unsupported charset', { 'Content-Type': 'application/x-www-form-urlencoded; charset=koi8-r' }, 415],
        ['an unsupported content encoding', { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Encoding': 'zstd' }, 415],
        ['a gzip body that is not gzip', { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Encoding': 'gzip' }, 400],
      ];
      for (const [title, headers, status] of cases) {
        it(`should answer ${status} to an anonymous form with ${title}, and log no error`, async function () {
          const res = await request(logged.app).post('/login').set(headers).send('username=a&password=b');
          expect(res.status).to.equal(status);
          expect(lines.filter((line) => line.level >= ERROR_LEVEL).map((line) => line.msg)).to.deep.equal([]);
        });
      }

      it('should still log a real server failure as an error', async function () {
        const signedIn = await signedInOwner(logged.app, MAILBOX);
        lines.length = 0;
        await h.db.sequelize.query('ALTER TABLE collaborator_lists RENAME TO collaborator_lists_away');
        try {
          expect((await signedIn.get('/settings/collaborations')).status).to.equal(500);
        } finally {
          await h.db.sequelize.query('ALTER TABLE collaborator_lists_away RENAME TO collaborator_lists');
        }
        expect(lines.filter((line) => line.level >= ERROR_LEVEL).map((line) => line.msg)).to.deep.equal(['request failed']);
      });
    });

    describe('POST /settings/collaborations with characters no name may hold', function () {
      const unfit: Array<[string, string]> = [
        ['U+FFFF', 'Mario\uFFFF'],
        ['U+FDD0 (a noncharacter)', 'Ma\uFDD0rio'],
        ['U+0085 (a C1 control)', 'Mario\u0085Rossi'],
        ['a line feed', 'Mario\nBcc: someone@example.com'],
      ];
      for (const [what, value] of unfit) {
        it(`should refuse ${what} in a name with the reason, and create nothing`, async function () {
          const res = await owner.post('/settings/collaborations', newCollaborator({ lastName: value }));
          expect(res.status).to.equal(422);
          expect(res.text).to.include(INVALID);
          expect(await h.db.models.Collaborator.count()).to.equal(0);
        });
      }

      it('should refuse an unpaired surrogate (which no HTTP form can carry, but a caller of the domain can)', async function () {
        const mailbox = await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } });
        const error = await h.domain.collaborations
          .create(mailbox!, { firstName: 'Mario\uD800', lastName: 'Rossi', username: 'mario.rossi', referenceEmail: 'mario@example.com', accessLevel: 'read', manageSettings: false }, { actor: { type: 'owner', id: mailbox!.id, name: MAILBOX } })
          .catch((e: unknown) => e);
        expect(error).to.be.instanceOf(ValidationFailed);
        expect((error as ValidationFailed).errors).to.deep.equal({ firstName: 'invalid' });
      });

      it('should accept accents, apostrophes and other scripts', async function () {
        const c = await addCollaborator(h, owner, MAILBOX, { firstName: 'Nicolò', lastName: 'D’Àngelo 李' });
        expect([c.firstName, c.lastName]).to.deep.equal(['Nicolò', 'D’Àngelo 李']);
      });
    });

    describe('GET /settings/collaborations/:id on the night the clocks go back', function () {
      it('should show the two 02:10 link expiries with their UTC offsets', async function () {
        // Invitations last 7 days: issued at these times, they expire at 02:10 summer time and
        // 02:10 winter time on 26 October 2025.
        h.clock.set(new Date('2025-10-19T00:10:00Z'));
        const c = await addCollaborator(h, owner, MAILBOX);
        h.clock.set(new Date('2025-10-19T01:10:00Z'));
        await owner.get(`/settings/collaborations/${c.id}`);
        expect((await owner.post(`/settings/collaborations/${c.id}/password-link`)).status).to.equal(303);
        const page = await owner.get(`/settings/collaborations/${c.id}`);
        expect(page.text).to.include('26 ott 2025, 02:10 GMT+2');
        expect(page.text).to.include('26 ott 2025, 02:10 GMT+1');
      });
    });
  });
}
