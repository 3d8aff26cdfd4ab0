import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { DATABASES } from '../support/databases';
import { Browser, GOOD_PASSWORD, harnessWithOwner, type Harness } from '../support/harness';
import { activate, addCollaborator, latestLinkToken, reload, setPasswordByLink } from '../support/accounts';
import { facts } from '../support/html';
import { listState } from '../../src/db/list-versions';
import { system } from '../../src/domain/actor';
import { translator } from '../../src/i18n';
import type { Collaborator, Status } from '../../src/models';

const MAILBOX = 'studio.rossi@pec.example.it';
const WRONG = 'mario@exmaple.com';
const RIGHT = 'mario@example.com';
const DOVEADM = 'http://127.0.0.1:9/doveadm/v1';
const t = translator('it');

for (const { name, create } of DATABASES) {
  describe(`Account changes: recreate, reactivate, rename (${name})`, function () {
    let h: Harness;
    let owner: Browser;

    harnessWithOwner(
      create,
      { env: { DOVEADM_URLS: DOVEADM, DOVEADM_API_KEY: 'key' }, mailboxes: [MAILBOX, 'other@pec.example.it'] },
      (harness) => (h = harness),
      (signedIn) => (owner = signedIn),
    );

    const add = (overrides: Record<string, string> = {}) => addCollaborator(h, owner, MAILBOX, { referenceEmail: WRONG, ...overrides });
    const mailboxId = async () => (await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } }))!.id;
    const list = async () => listState(h.db.sequelize, await mailboxId());

    /** A collaborator of MAILBOX in `status`, added with the wrong reference email, with a second factor when it can sign in. */
    async function inState(status: Status, overrides: Record<string, string> = {}): Promise<Collaborator> {
      const c = await add({ accessLevel: 'mail_clients', manageSettings: 'on', ...overrides });
      if (status === 'pending') return c;
      await activate(h, c);
      if (status === 'suspended') await owner.post(`/settings/collaborations/${c.id}/password-reset`);
      if (status === 'deactivated') await owner.post(`/settings/collaborations/${c.id}/deactivation`);
      return reload(h, c);
    }

    /** Everything a refused request could have changed. */
    async function snapshot() {
      const { models } = h.db;
      const rows = await models.Collaborator.findAll({ order: [['id', 'ASC']] });
      return {
        collaborators: rows.map((c) => [c.id, c.status, c.firstName, c.lastName, c.referenceEmail, c.passwordHash, c.deactivatedAt?.getTime() ?? null]),
        links: await models.Link.count(),
        emails: await models.OutboxMessage.count(),
        events: await models.AuditEvent.count(),
        sessions: await models.Session.count(),
        list: await list(),
      };
    }

    describe('POST /settings/collaborations/:id/recreation', function () {
      it('should show a form for the correct address, worded for a pending invitation and for an account in use', async function () {
        const pending = await add();
        const form = await owner.get(`/settings/collaborations/${pending.id}/recreation`);
        expect(form.status).to.equal(200);
        expect(form.text).to.include('id="recreate-form"');
        expect(form.text).to.include('name="referenceEmail"');
        expect(form.text).to.include(t('recreate.pending.submit'));
        const active = await inState('active', { username: 'anna', referenceEmail: 'anna@exmaple.com' });
        const dialog = await owner.get(`/settings/collaborations/${active.id}/recreation`, { 'HX-Request': 'true', 'HX-Request-Type': 'partial' });
        expect(dialog.text).to.match(/^<dialog id="confirm-dialog"/);
        expect(dialog.text).to.include(t('recreate.account.submit'));
      });

      for (const status of ['pending', 'active', 'suspended'] as const) {
        it(`should replace a ${status} account in one step: same username, names and permissions, pending, invited at the new address`, async function () {
          const old = await inState(status);
          const collaborator = new Browser(h.app);
          if (status === 'active') {
            expect((await collaborator.signIn(old.username, GOOD_PASSWORD)).status).to.equal(303);
            await h.domain.appPasswords.create(old, { name: 'Telefono', scope: 'read_send' }, { actor: system });
          }
          const oldToken = await latestLinkToken(h, old);
          const before = await list();
          await owner.get('/settings/collaborations');

          const res = await owner.post(`/settings/collaborations/${old.id}/recreation`, { referenceEmail: RIGHT });
          expect(res.status, res.text).to.equal(303);
          expect(await reload(h, old), 'the old row').to.equal(null);
          const fresh = (await h.db.models.Collaborator.findOne({ where: { username: old.username } })) as Collaborator;
          expect(res.headers.location, 'the list, at the new row').to.equal(`/settings/collaborations#collaborator-${fresh.id}`);
          expect(fresh.id).not.to.equal(old.id);
          expect(fresh.referenceEmail).to.equal(RIGHT);
          expect([fresh.status, fresh.passwordHash, fresh.firstName, fresh.lastName, fresh.accessLevel, fresh.manageSettings, fresh.locale]).to.deep.equal([
            'pending', null, old.firstName, old.lastName, old.accessLevel, old.manageSettings, old.locale,
          ]);

          const invitation = await h.db.models.OutboxMessage.findOne({ where: { collaboratorId: fresh.id, kind: 'email' } });
          expect([invitation?.template, invitation?.recipient]).to.deep.equal(['invitation', RIGHT]);
          expect((await setPasswordByLink(h, oldToken)).form.status, 'the old link').to.equal(410);
          if (status === 'active') {
            expect((await collaborator.get('/account')).headers.location, 'the old session').to.equal('/login');
            expect(await h.db.models.AppPassword.count()).to.equal(0);
            const kick = await h.db.models.OutboxMessage.findOne({ where: { collaboratorId: old.id, kind: 'doveadm', template: 'kick' } });
            expect(kick?.recipient, 'mail programs kicked').to.equal(old.username);
          }
          expect((await setPasswordByLink(h, await latestLinkToken(h, fresh))).res.status, 'the new link').to.equal(200);
          expect((await reload(h, fresh)).status).to.equal('active');

          const after = await list();
          expect(after.collaborators, 'one out, one in').to.equal(before.collaborators);
          expect(after.version).to.be.greaterThan(before.version);

          const recreated = await h.db.models.AuditEvent.findAll({ where: { action: 'collaborator.recreated' }, order: [['id', 'ASC']] });
          expect(recreated.map((e) => e.collaboratorId)).to.deep.equal([old.id, fresh.id]);
          for (const event of recreated) expect(JSON.parse(event.detail as string)).to.include({ from: old.id, to: fresh.id });
          const log = (await owner.get('/settings/activity')).text;
          expect(log).to.include(t('activity.events.recreated.you', { name: 'Mario Rossi' }));
          expect(log).to.include(t('activity.events.replaced.you', { name: 'mario.rossi' }));
          const history = await h.db.models.AuditEvent.findAll({ where: { collaboratorId: old.id } });
          expect(history.map((e) => e.action), 'the old history is kept').to.include('collaborator.created');
        });
      }

      it('should send nothing more to the wrong address: no deactivation notice, and its unsent invitation cancelled', async function () {
        const old = await add();
        await owner.post(`/settings/collaborations/${old.id}/recreation`, { referenceEmail: RIGHT });
        await h.drain();
        const toWrong = await h.db.models.OutboxMessage.findAll({ where: { recipient: WRONG } });
        expect(toWrong.map((m) => [m.template, m.status, m.secret])).to.deep.equal([['invitation', 'failed', null]]);
        const sent = await h.db.models.OutboxMessage.findAll({ where: { kind: 'email', status: 'sent' } });
        expect(sent.map((m) => m.recipient)).to.deep.equal([RIGHT]);
      });

      it('should be found by the new address in the list, and no longer by the old one', async function () {
        const old = await add();
        await owner.post(`/settings/collaborations/${old.id}/recreation`, { referenceEmail: RIGHT });
        expect((await owner.get('/settings/collaborations?q=example.com')).text).to.include(old.username);
        expect((await owner.get('/settings/collaborations?q=exmaple')).text).not.to.include(old.username);
      });

      it('should leave no moment without an account: a reader outside the transaction always finds the username', async function () {
        const old = await inState('active');
        const seen: number[] = [];
        const readers = async () => {
          const [row] = await h.db.sequelize.query<{ n: number }>('SELECT COUNT(*) AS n FROM collaborators WHERE username = ?', { replacements: [old.username], type: QueryTypes.SELECT });
          seen.push(Number(row?.n));
        };
        // Read from another connection at the riskiest moments: the old row deleted, the new one not yet committed.
        const { Collaborator: model } = h.db.models;
        model.addHook('afterDestroy', 'reader', readers);
        model.addHook('afterCreate', 'reader', readers);
        try {
          const res = await owner.post(`/settings/collaborations/${old.id}/recreation`, { referenceEmail: RIGHT });
          expect(res.status).to.equal(303);
        } finally {
          model.removeHook('afterDestroy', 'reader');
          model.removeHook('afterCreate', 'reader');
        }
        await readers();
        expect(seen).to.deep.equal([1, 1, 1]);
      });

      it('should keep the old account whole when the step fails halfway', async function () {
        const old = await inState('active');
        const before = await snapshot();
        const { Collaborator: model } = h.db.models;
        model.addHook('afterCreate', 'failure', () => {
          throw new Error('the database went away');
        });
        try {
          const res = await owner.post(`/settings/collaborations/${old.id}/recreation`, { referenceEmail: RIGHT });
          expect(res.status).to.equal(500);
        } finally {
          model.removeHook('afterCreate', 'failure');
        }
        expect(await snapshot()).to.deep.equal(before);
        expect((await new Browser(h.app).signIn(old.username, GOOD_PASSWORD)).status).to.equal(303);
      });

      const refusals: Array<[string, string, string]> = [
        ['a malformed address', 'mario@', 'email_format'],
        ['an empty address', ' ', 'required'],
        ['the mailbox itself', MAILBOX.toUpperCase(), 'email_is_mailbox'],
        ['the same address as before', ` ${WRONG.toUpperCase()} `, 'email_unchanged'],
      ];
      for (const [what, referenceEmail, error] of refusals) {
        it(`should refuse ${what} with 422, the form again, and change nothing`, async function () {
          const old = await inState('active');
          const before = await snapshot();
          const res = await owner.post(`/settings/collaborations/${old.id}/recreation`, { referenceEmail });
          expect(res.status).to.equal(422);
          expect(res.text).to.include('id="referenceEmail-error"');
          expect(res.text).to.include(t(`errors.${error}`));
          expect(res.text).to.include('id="recreate-form"');
          expect(await snapshot()).to.deep.equal(before);
        });
      }

      it('should refuse a deactivated account with 409 and change nothing', async function () {
        const old = await inState('deactivated');
        const before = await snapshot();
        expect((await owner.post(`/settings/collaborations/${old.id}/recreation`, { referenceEmail: RIGHT })).status).to.equal(409);
        expect(await snapshot()).to.deep.equal(before);
      });

      it('should refuse a request without the CSRF token with 403', async function () {
        const old = await add();
        const res = await owner.agent.post(`/settings/collaborations/${old.id}/recreation`).type('form').send({ referenceEmail: RIGHT });
        expect(res.status).to.equal(403);
        expect(await reload(h, old)).not.to.equal(null);
      });

      it('should go to the new account’s details when it started there', async function () {
        const old = await add();
        const res = await owner.post(`/settings/collaborations/${old.id}/recreation`, { referenceEmail: RIGHT, back: 'details' });
        const fresh = (await h.db.models.Collaborator.findOne({ where: { username: old.username } })) as Collaborator;
        expect(res.headers.location).to.equal(`/settings/collaborations/${fresh.id}`);
      });
    });

    describe('POST /settings/collaborations/:id/reactivation', function () {
      it('should make a deactivated account pending again, with a new invitation to the same address', async function () {
        const c = await inState('deactivated');
        const before = await list();
        expect((await owner.get(`/settings/collaborations/${c.id}/reactivation`)).text).to.include(t('confirm.reactivate.submit'));
        const res = await owner.post(`/settings/collaborations/${c.id}/reactivation`);
        expect(res.status).to.equal(303);
        const after = await reload(h, c);
        expect([after.status, after.deactivatedAt, after.referenceEmail, after.username]).to.deep.equal(['pending', null, WRONG, c.username]);
        const emails = await h.db.models.OutboxMessage.findAll({ where: { collaboratorId: c.id, kind: 'email' }, order: [['id', 'ASC']] });
        expect(emails.map((m) => m.template).slice(-2)).to.deep.equal(['deactivated', 'invitation']);
        const actions = (await h.db.models.AuditEvent.findAll({ where: { collaboratorId: c.id }, order: [['id', 'ASC']] })).map((e) => e.action);
        expect(actions.slice(-2), 'one record, the invitation included').to.deep.equal(['collaborator.deactivated', 'collaborator.reactivated']);
        expect((await list()).version).to.be.greaterThan(before.version);
        await activate(h, after, 'a brand new and quiet password');
        expect((await reload(h, c)).status).to.equal('active');
      });

      it('should answer htmx with the row in place', async function () {
        const c = await inState('deactivated');
        const res = await owner.htmx('post', `/settings/collaborations/${c.id}/reactivation`);
        expect(res.status).to.equal(200);
        expect(res.text).to.match(new RegExp(`^<tr id="collaborator-${c.id}" class="status-pending"`));
      });

      for (const status of ['pending', 'active', 'suspended'] as const) {
        it(`should refuse a ${status} account with 409 and change nothing`, async function () {
          const c = await inState(status);
          const before = await snapshot();
          expect((await owner.post(`/settings/collaborations/${c.id}/reactivation`)).status).to.equal(409);
          expect(await snapshot()).to.deep.equal(before);
        });
      }
    });

    describe('POST /settings/collaborations/:id/name', function () {
      it('should correct the names in the list, its search, the activity and the next emails', async function () {
        const c = await add({ lastName: 'Rosi', username: 'mario.r' });
        expect((await owner.get('/settings/collaborations?q=rosi')).text).to.include(c.username);
        const before = await list();
        expect((await owner.get(`/settings/collaborations/${c.id}/name`)).text).to.include('value="Rosi"');
        const res = await owner.post(`/settings/collaborations/${c.id}/name`, { firstName: ' Marió ', lastName: 'Rossini' });
        expect(res.status).to.equal(303);
        expect(res.headers.location, 'the list, at the row').to.equal(`/settings/collaborations#collaborator-${c.id}`);
        const after = await reload(h, c);
        expect([after.firstName, after.lastName, after.status]).to.deep.equal(['Marió', 'Rossini', 'pending']);
        expect((await list()).version).to.be.greaterThan(before.version);
        expect((await owner.get('/settings/collaborations?q=rossini')).text).to.include(c.username);
        expect((await owner.get('/settings/collaborations?q=mario')).text, 'accents folded').to.include(c.username);
        expect((await owner.get('/settings/collaborations?q=rosi')).text, 'the old name').not.to.include(c.username);
        const event = await h.db.models.AuditEvent.findOne({ where: { collaboratorId: c.id, action: 'collaborator.renamed' } });
        expect(JSON.parse(event!.detail as string)).to.deep.equal({ from: { firstName: 'Mario', lastName: 'Rosi' }, to: { firstName: 'Marió', lastName: 'Rossini' } });
        const log = (await owner.get('/settings/activity')).text;
        expect(log).to.include(t('activity.events.renamed.you', { name: 'Marió Rossini' }));
        expect(log).to.include(t('activity.detail.renamed', { name: 'Mario Rosi' }));
        await owner.post(`/settings/collaborations/${c.id}/password-link`);
        const email = await h.db.models.OutboxMessage.findOne({ where: { collaboratorId: c.id }, order: [['id', 'DESC']] });
        expect(JSON.parse(email!.payload)).to.include({ firstName: 'Marió', lastName: 'Rossini' });
      });

      it('should go back to the details page when it started there', async function () {
        const c = await inState('suspended');
        const res = await owner.post(`/settings/collaborations/${c.id}/name`, { firstName: 'Mario', lastName: 'Bianchi', back: 'details' });
        expect(res.headers.location).to.equal(`/settings/collaborations/${c.id}`);
      });

      const refusals: Array<[string, Record<string, string>, string]> = [
        ['an empty first name', { firstName: ' ', lastName: 'Rossi' }, 'firstName'],
        ['a missing last name', { firstName: 'Mario' }, 'lastName'],
        ['a line break in a name', { firstName: 'Mario', lastName: 'Rossi\r\nBcc: x@evil.example' }, 'lastName'],
      ];
      for (const [what, form, field] of refusals) {
        it(`should refuse ${what} with 422 and change nothing`, async function () {
          const c = await inState('active');
          const before = await snapshot();
          const res = await owner.post(`/settings/collaborations/${c.id}/name`, form);
          expect(res.status).to.equal(422);
          expect(res.text).to.include(`id="${field}-error"`);
          expect(await snapshot()).to.deep.equal(before);
        });
      }

      it('should refuse a deactivated account with 409 and change nothing', async function () {
        const c = await inState('deactivated');
        const before = await snapshot();
        expect((await owner.post(`/settings/collaborations/${c.id}/name`, { firstName: 'Anna', lastName: 'Neri' })).status).to.equal(409);
        expect(await snapshot()).to.deep.equal(before);
      });
    });

    describe('GET /settings/collaborations/:id', function () {
      const actionsOf = (html: string) => [...html.matchAll(/<ul class="detail-actions"[\s\S]*?<\/ul>/g)].flatMap(([list]) => [...list.matchAll(/href="\/settings\/collaborations\/\d+\/([a-z-]+)\?from=details"/g)].map(([, path]) => path));
      const expected: Record<Status, string[]> = {
        pending: ['name', 'password-link', 'recreation', 'deactivation'],
        active: ['name', 'password-reset', 'recreation', 'deactivation'],
        suspended: ['name', 'password-link', 'recreation', 'deactivation'],
        deactivated: ['reactivation', 'removal'],
      };
      for (const [status, actions] of Object.entries(expected) as Array<[Status, string[]]>) {
        it(`should offer the actions of a ${status} account, and show its permissions once`, async function () {
          const c = await inState(status);
          const html = (await owner.get(`/settings/collaborations/${c.id}`)).text;
          expect(actionsOf(html)).to.deep.equal(actions);
          const shown = Object.keys(facts(html, t('details.permissions'))).length > 0;
          const form = html.includes(`action="/settings/collaborations/${c.id}/access"`);
          expect([shown, form], 'the facts or the form, never both').to.deep.equal(status === 'deactivated' ? [true, false] : [false, true]);
        });
      }

      it('should bring an action started on the details page back to it', async function () {
        const c = await inState('active');
        const page = await owner.get(`/settings/collaborations/${c.id}/password-reset?from=details`);
        expect(page.text).to.include('name="back" value="details"');
        expect(page.text).to.include(`href="/settings/collaborations/${c.id}" data-close`);
        const res = await owner.post(`/settings/collaborations/${c.id}/password-reset`, { back: 'details' });
        expect(res.headers.location).to.equal(`/settings/collaborations/${c.id}`);
      });
    });
  });

  describe(`Reactivation and the sending limits (${name})`, function () {
    let h: Harness;
    let owner: Browser;
    harnessWithOwner(
      create,
      { env: { MAIL_LIMIT_PER_RECIPIENT: '2' }, mailboxes: [MAILBOX] },
      (harness) => (h = harness),
      (signedIn) => (owner = signedIn),
    );

    it('should refuse a reactivation whose invitation would go over the limit for the address, with 429 and no change', async function () {
      const c = await addCollaborator(h, owner, MAILBOX);
      await owner.post(`/settings/collaborations/${c.id}/deactivation`);
      const res = await owner.post(`/settings/collaborations/${c.id}/reactivation`);
      expect(res.status).to.equal(429);
      expect((await reload(h, c)).status).to.equal('deactivated');
      expect(await h.db.models.OutboxMessage.count({ where: { template: 'invitation' } })).to.equal(1);
    });
  });
}
