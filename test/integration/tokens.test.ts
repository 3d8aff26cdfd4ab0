import { expect } from 'chai';
import { Op } from 'sequelize';
import { DATABASES } from '../support/databases';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, harnessPerSuite, type Harness } from '../support/harness';
import { Trials } from '../support/trials';
import type { Collaborator, LinkPurpose } from '../../src/models';
import { digest } from '../../src/lib/secrets';
import { activate, addCollaborator, emailedTokens, latestLinkToken, openLink, reload, setPasswordByLink } from '../support/accounts';
import { translator } from '../../src/i18n';

const MAILBOX = 'studio.verdi@pec.example.it';
const OTHER_MAILBOX = 'studio.neri@pec.example.it';
const INVALID_TITLE = translator('it')('setPassword.invalidTitle');

/** Every attack tried in this file, counted for SECURITY.md. */
const attacks = new Trials();

/**
 * Single-use links under attack: replayed, tampered with, used at the edge of their lifetime, raced by
 * two owner tabs, raced against a resend and against a deactivation.
 */
for (const { name, create } of DATABASES) {
  describe(`Link tokens under attack (${name})`, function () {
    let h: Harness;
    let owner: Browser;

    harnessPerSuite(create, { mailboxes: [MAILBOX, OTHER_MAILBOX] }, (harness) => {
      h = harness;
    });
    attacks.creditEachTest();

    before(async function () {
      owner = await ownerTab(MAILBOX);
    });

    after(function () {
      if (name !== DATABASES[DATABASES.length - 1]?.name) return;
      console.log(`      tokens: ${attacks.tried} attacks tried over ${DATABASES.length} database(s); ${attacks.handled} shown to fail by passing tests, ${attacks.tried - attacks.handled} in failing tests`);
    });

    async function ownerTab(address: string): Promise<Browser> {
      const tab = new Browser(h.app);
      expect((await tab.signIn(address, OWNER_PASSWORD)).status).to.equal(303);
      await tab.get('/settings/collaborations');
      return tab;
    }

    let serial = 0;
    async function add(tab = owner, address = MAILBOX): Promise<Collaborator> {
      serial += 1;
      return addCollaborator(h, tab, address, { username: `user.${serial}`, referenceEmail: `user.${serial}@example.com` });
    }

    function expectInvalidPage(res: { status: number; text: string }, what: string): void {
      expect(res.status, what).to.equal(410);
      expect(res.text, what).to.include(INVALID_TITLE);
      expect(res.text, what).not.to.include('name="password"');
    }

    const liveLinks = (c: Collaborator) => h.db.models.Link.findAll({ where: { collaboratorId: c.id, usedAt: null, revokedAt: null } });
    const signsIn = async (c: Collaborator, password: string) => (await new Browser(h.app).signIn(c.username, password)).status === 303;

    /** Everything a link could change: accounts, links, emails, activity, sessions. */
    async function snapshot(): Promise<string> {
      const { models } = h.db;
      const rows = async (table: string) => JSON.stringify((await h.db.sequelize.query(`SELECT * FROM ${table} ORDER BY id`))[0]);
      return [
        await rows('collaborators'),
        await rows('links'),
        await models.OutboxMessage.count(),
        await models.AuditEvent.count(),
        await models.Session.count({ where: { principal: { [Op.like]: 'collaborator:%' } } }),
      ].join('\n');
    }

    describe('GET /password/:token then POST /password/new: replay', function () {
      it('should refuse a used link from a fresh browser and from the browser that used it', async function () {
        const c = await add();
        const token = await latestLinkToken(h, c);
        const { browser, res } = await setPasswordByLink(h, token);
        expect(res.status).to.equal(200);
        const before = await snapshot();

        attacks.add('replay from a fresh browser', 'replay from the same browser', 'second POST in the same session');
        const fresh = await setPasswordByLink(h, token, 'a replayed password that must not work');
        expectInvalidPage(fresh.form, 'fresh browser, form');
        expectInvalidPage(fresh.res, 'fresh browser, POST');
        const again = await openLink(h, token, browser);
        expectInvalidPage(again.form, 'same browser, form');
        const post = await browser.post('/password/new', { password: 'a replayed password that must not work', passwordConfirmation: 'a replayed password that must not work' });
        expectInvalidPage(post, 'same browser, POST');

        expect(await snapshot()).to.equal(before);
        expect(await signsIn(c, GOOD_PASSWORD)).to.equal(true);
        expect(await signsIn(c, 'a replayed password that must not work')).to.equal(false);
      });

      it('should not revive a used link when the owner resets the account later', async function () {
        const c = await add();
        const first = await latestLinkToken(h, c);
        await activate(h, c);
        expect((await owner.post(`/settings/collaborations/${c.id}/password-reset`)).status).to.equal(303);
        attacks.add('replay of a used link after an owner reset');
        const replay = await setPasswordByLink(h, first, 'a replayed password that must not work');
        expectInvalidPage(replay.res, 'replayed invitation');
        expect((await reload(h, c)).status).to.equal('suspended');
        expect((await setPasswordByLink(h, await latestLinkToken(h, c), 'the new password of the reset')).res.status).to.equal(200);
      });
    });

    describe('tampered tokens', function () {
      let victim: Collaborator;
      let token: string;
      const cases: Array<[string, () => Promise<string> | string]> = [];

      const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      cases.push(
        ['the first character flipped', () => flip(token, 0)],
        ['a middle character flipped', () => flip(token, 21)],
        ['the last character flipped', () => flip(token, 42)],
        ['the case of one letter flipped', () => {
          const i = [...token].findIndex((ch) => /[a-zA-Z]/.test(ch));
          const ch = token[i] as string;
          return token.slice(0, i) + (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase()) + token.slice(i + 1);
        }],
        ['the last character swapped for one that decodes to the same 32 bytes', () => {
          const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
          const twin = token.slice(0, 42) + alphabet[alphabet.indexOf(token[42] as string) ^ 1];
          expect(Buffer.from(twin, 'base64url').equals(Buffer.from(token, 'base64url')), 'same bytes').to.equal(true);
          return twin;
        }],
        ['the same bytes in standard base64 with padding', () => `${Buffer.from(token, 'base64url').toString('base64')}`.replace(/\//g, '%2F').replace(/\+/g, '%2B')],
        ['truncated by one character', () => token.slice(0, 42)],
        ['truncated to half', () => token.slice(0, 21)],
        ['padded with "="', () => `${token}=`],
        ['padded with a space', () => `${token}%20`],
        ['overlong by one character', () => `${token}A`],
        ['doubled', () => token + token],
        ['with a character outside base64url ("!")', () => `${token.slice(0, 10)}!${token.slice(11)}`],
        ['with a "+" from standard base64', () => `${token.slice(0, 10)}%2B${token.slice(11)}`],
        ['with an encoded "/"', () => `${token.slice(0, 10)}%2F${token.slice(11)}`],
        ['with a NUL byte', () => `${token.slice(0, 42)}%00`],
        ['with SQL in it', () => `${token.slice(0, 30)}'%20OR%201=1--`],
        ['the digest the database stores, in hex', () => digest(token)],
        ['the digest the database stores, in base64url (token-shaped)', () => Buffer.from(digest(token), 'hex').toString('base64url')],
        ['another collaborator’s spent link', async () => {
          const other = await add();
          const spent = await latestLinkToken(h, other);
          await activate(h, other);
          return spent;
        }],
        ['another collaborator’s revoked link', async () => {
          const other = await add();
          const revoked = await latestLinkToken(h, other);
          expect((await owner.post(`/settings/collaborations/${other.id}/password-link`)).status).to.equal(303);
          return revoked;
        }],
        ['another mailbox’s collaborator’s revoked link', async () => {
          const stranger = await ownerTab(OTHER_MAILBOX);
          const other = await add(stranger, OTHER_MAILBOX);
          const revoked = await latestLinkToken(h, other);
          expect((await stranger.post(`/settings/collaborations/${other.id}/deactivation`)).status).to.equal(303);
          return revoked;
        }],
      );

      before(async function () {
        victim = await add();
        token = await latestLinkToken(h, victim);
      });

      for (const [what, tamper] of cases) {
        it(`should show the invalid-link page for a tampered token (${what}) and change nothing`, async function () {
          const forged = await tamper();
          expect(forged).not.to.equal(token);
          attacks.add(`tampered: ${what}`);
          const before = await snapshot();
          const { browser, form } = await openLink(h, forged);
          expectInvalidPage(form, 'GET /password/new');
          const res = await browser.post('/password/new', { password: GOOD_PASSWORD, passwordConfirmation: GOOD_PASSWORD, collaboratorId: String(victim.id) });
          expectInvalidPage(res, 'POST /password/new');
          expect(await snapshot()).to.equal(before);
          expect((await reload(h, victim)).status).to.equal('pending');
        });
      }

      it('should still accept the genuine token afterwards (the forgeries were refused for being forged)', async function () {
        expect((await setPasswordByLink(h, token)).res.status).to.equal(200);
        expect((await reload(h, victim)).status).to.equal('active');
      });

      it('should change only the link’s own collaborator, whatever the form claims', async function () {
        const a = await add();
        const b = await add();
        const before = (await reload(h, b)).toJSON();
        attacks.add('live link posted with another collaborator’s id and username');
        const { browser } = await openLink(h, await latestLinkToken(h, a));
        const res = await browser.post('/password/new', { password: GOOD_PASSWORD, passwordConfirmation: GOOD_PASSWORD, collaboratorId: String(b.id), id: String(b.id), username: b.username });
        expect(res.status).to.equal(200);
        expect((await reload(h, a)).status).to.equal('active');
        expect((await reload(h, b)).toJSON()).to.deep.equal(before);
      });
    });

    describe('expiry boundary', function () {
      const lifetimes: Record<LinkPurpose, number> = { invitation: 7 * 24 * 3600_000, owner_reset: 72 * 3600_000, self_reset: 3600_000 };

      /** A collaborator whose live link has this purpose, issued now. */
      async function withLink(purpose: LinkPurpose): Promise<Collaborator> {
        const c = await add();
        if (purpose === 'invitation') return c;
        await activate(h, c);
        if (purpose === 'owner_reset') expect((await owner.post(`/settings/collaborations/${c.id}/password-reset`)).status).to.equal(303);
        else await h.domain.selfService.requestSelfReset(c.username);
        return c;
      }

      for (const purpose of Object.keys(lifetimes) as LinkPurpose[]) {
        it(`should accept the ${purpose} link in its last millisecond and refuse it at the exact expiry`, async function () {
          const start = h.clock.now();
          const [early, onTime, late] = [await withLink(purpose), await withLink(purpose), await withLink(purpose)];
          const tokens = [await latestLinkToken(h, early), await latestLinkToken(h, onTime), await latestLinkToken(h, late)] as const;
          const [link] = await liveLinks(early);
          expect(link!.purpose).to.equal(purpose);
          expect(link!.expiresAt.getTime()).to.equal(start.getTime() + lifetimes[purpose]);
          const states = [(await reload(h, onTime)).toJSON(), (await reload(h, late)).toJSON()];

          attacks.add(`${purpose}: used at the exact expiry`, `${purpose}: form opened before expiry, posted at expiry`);
          const lateForm = await openLink(h, tokens[2]);
          h.clock.set(new Date(link!.expiresAt.getTime() - 1));
          expect((await setPasswordByLink(h, tokens[0], 'the very last millisecond password')).res.status, 'last millisecond').to.equal(200);

          h.clock.set(link!.expiresAt);
          const { form, res } = await setPasswordByLink(h, tokens[1]);
          expectInvalidPage(form, 'GET at expiry');
          expectInvalidPage(res, 'POST at expiry');
          expectInvalidPage(await lateForm.browser.post('/password/new', { password: GOOD_PASSWORD, passwordConfirmation: GOOD_PASSWORD }), 'form loaded before expiry, posted at expiry');

          expect(await signsIn(early, 'the very last millisecond password')).to.equal(true);
          expect((await reload(h, onTime)).toJSON()).to.deep.equal(states[0]);
          expect((await reload(h, late)).toJSON()).to.deep.equal(states[1]);
        });
      }
    });

    describe('POST /settings/collaborations/:id/password-link: two owner tabs at once', function () {
      for (const state of ['pending', 'suspended'] as const) {
        it(`should leave exactly one live link, the newest emailed one, for a ${state} account`, async function () {
          const [tab1, tab2] = [await ownerTab(MAILBOX), await ownerTab(MAILBOX)];
          const c = await add();
          if (state === 'suspended') {
            await activate(h, c);
            expect((await owner.post(`/settings/collaborations/${c.id}/password-reset`)).status).to.equal(303);
          }
          for (let round = 0; round < 5; round += 1) {
            attacks.add(`resend race (${state}), round ${round + 1}`);
            const answers = await Promise.all([tab1, tab2, tab1, tab2].map((tab) => tab.post(`/settings/collaborations/${c.id}/password-link`)));
            expect(answers.map((a) => a.status)).to.deep.equal([303, 303, 303, 303]);
            const live = await liveLinks(c);
            expect(live, 'live links').to.have.length(1);
            const tokens = await emailedTokens(h, c);
            expect(digest(tokens[tokens.length - 1] as string), 'the newest email carries the live link').to.equal(live[0]!.tokenDigest);
          }
          const tokens = await emailedTokens(h, c);
          for (const old of tokens.slice(0, -1)) expectInvalidPage((await openLink(h, old)).form, 'an earlier link');
          expect((await setPasswordByLink(h, tokens[tokens.length - 1] as string)).res.status).to.equal(200);
        });
      }

      it('should let only one of two simultaneous resets through', async function () {
        const [tab1, tab2] = [await ownerTab(MAILBOX), await ownerTab(MAILBOX)];
        const c = await add();
        await activate(h, c);
        attacks.add('reset race from two owner tabs');
        const answers = await Promise.all([tab1, tab2].map((tab) => tab.post(`/settings/collaborations/${c.id}/password-reset`)));
        expect(answers.map((a) => a.status).sort()).to.deep.equal([303, 409]);
        expect(await liveLinks(c)).to.have.length(1);
        expect(await h.db.models.OutboxMessage.count({ where: { collaboratorId: c.id, template: 'owner_reset' } })).to.equal(1);
      });
    });

    describe('POST /password/new racing the owner', function () {
      it('should end a redemption racing a resend in exactly one consistent outcome', async function () {
        const outcomes = { redeemed: 0, resent: 0 };
        for (let round = 0; round < 8; round += 1) {
          const c = await add();
          const token = await latestLinkToken(h, c);
          const { browser } = await openLink(h, token);
          await owner.get(`/settings/collaborations/${c.id}`);
          attacks.add(`redemption racing a resend, round ${round + 1}`);
          // The resend leaves a little later each round, so that both orders get their turn.
          const [redemption, resend] = await Promise.all([
            browser.post('/password/new', { password: GOOD_PASSWORD, passwordConfirmation: GOOD_PASSWORD }),
            new Promise((resolve) => setTimeout(resolve, round * 4)).then(() => owner.post(`/settings/collaborations/${c.id}/password-link`)),
          ]);
          const after = await reload(h, c);
          const templates = (await h.db.models.OutboxMessage.findAll({ where: { collaboratorId: c.id }, order: [['id', 'ASC']] })).map((m) => m.template);
          const live = await liveLinks(c);
          if (redemption.status === 200) {
            outcomes.redeemed += 1;
            expect(resend.status, 'the resend comes too late').to.equal(409);
            expect(after.status).to.equal('active');
            expect(live).to.have.length(0);
            expect(templates).to.deep.equal(['invitation', 'password_set']);
            expect(await signsIn(c, GOOD_PASSWORD)).to.equal(true);
          } else {
            outcomes.resent += 1;
            expectInvalidPage(redemption, 'the redemption comes too late');
            expect(resend.status).to.equal(303);
            expect(after.status).to.equal('pending');
            expect(after.passwordHash).to.equal(null);
            expect(templates).to.deep.equal(['invitation', 'invitation']);
            expect(live).to.have.length(1);
            expect(live[0]!.tokenDigest).to.equal(digest(await latestLinkToken(h, c)));
          }
        }
        expect(outcomes.redeemed + outcomes.resent).to.equal(8);
        console.log(`      redemption won ${outcomes.redeemed}, resend won ${outcomes.resent}`);
      });

      it('should refuse a live link whose account was deactivated after the form was opened', async function () {
        for (const state of ['pending', 'suspended'] as const) {
          const c = await add();
          if (state === 'suspended') {
            await activate(h, c);
            expect((await owner.post(`/settings/collaborations/${c.id}/password-reset`)).status).to.equal(303);
          }
          const { browser, form } = await openLink(h, await latestLinkToken(h, c));
          expect(form.status).to.equal(200);
          expect((await owner.post(`/settings/collaborations/${c.id}/deactivation`)).status).to.equal(303);
          attacks.add(`link used after deactivation (${state})`);
          const res = await browser.post('/password/new', { password: 'a password after deactivation', passwordConfirmation: 'a password after deactivation' });
          expectInvalidPage(res, state);
          const after = await reload(h, c);
          expect(after.status).to.equal('deactivated');
          expect(after.passwordHash).to.equal(null);
          expect(await liveLinks(c)).to.have.length(0);
          expect(await h.db.models.OutboxMessage.count({ where: { collaboratorId: c.id, template: 'password_set' } })).to.equal(state === 'pending' ? 0 : 1);
          expect(await signsIn(c, 'a password after deactivation')).to.equal(false);
        }
      });

      it('should leave a deactivated account with no password whichever of deactivation and redemption wins', async function () {
        for (let round = 0; round < 6; round += 1) {
          const c = await add();
          const { browser } = await openLink(h, await latestLinkToken(h, c));
          await owner.get(`/settings/collaborations/${c.id}`);
          attacks.add(`redemption racing a deactivation, round ${round + 1}`);
          const [redemption, deactivation] = await Promise.all([
            browser.post('/password/new', { password: GOOD_PASSWORD, passwordConfirmation: GOOD_PASSWORD }),
            owner.post(`/settings/collaborations/${c.id}/deactivation`),
          ]);
          expect([200, 410]).to.include(redemption.status);
          expect(deactivation.status).to.equal(303);
          const after = await reload(h, c);
          expect(after.status).to.equal('deactivated');
          expect(after.passwordHash).to.equal(null);
          expect(await liveLinks(c)).to.have.length(0);
          expect(await signsIn(c, GOOD_PASSWORD)).to.equal(false);
        }
      });
    });
  });
}
