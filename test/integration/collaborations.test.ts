import { expect } from 'chai';
import { DATABASES } from '../support/databases';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, newCollaborator, harnessWithOwner, type Harness } from '../support/harness';
import type { Collaborator } from '../../src/models';
import { formatDate, translator } from '../../src/i18n';
import { facts, tableRows } from '../support/html';
import { activate, addCollaborator, emailedLinks, latestLinkToken, reload, setPasswordByLink } from '../support/accounts';

const MAILBOX = 'studio.rossi@pec.example.it';

for (const { name, create } of DATABASES) {
  describe(`Collaborations over HTTP (${name})`, function () {
    let h: Harness;
    let owner: Browser;

    harnessWithOwner(
      create,
      { mailboxes: [MAILBOX] },
      (harness) => (h = harness),
      (signedIn) => (owner = signedIn),
    );

    const add = (overrides: Record<string, string> = {}) => addCollaborator(h, owner, MAILBOX, overrides);

    describe('GET /settings/collaborations', function () {
      it('should list collaborators with username, status and last email', async function () {
        const c = await add();
        const res = await owner.get('/settings/collaborations');
        expect(res.status).to.equal(200);
        expect(res.text).to.include(`id="collaborator-${c.id}"`);
        expect(res.text).to.include(`mario.rossi/${MAILBOX}`);
        expect(res.text).to.include('badge-pending');
        expect(res.text).to.include('delivery-queued');
      });

      it('should give the full page to a plain request and the fragment to htmx', async function () {
        await add();
        const page = await owner.get('/settings/collaborations');
        expect(page.text).to.include('<html');
        expect(page.headers.vary).to.match(/HX-Request/);
        const fragment = await owner.get('/settings/collaborations?q=mario', { 'HX-Request': 'true', 'HX-Request-Type': 'partial' });
        expect(fragment.text).not.to.include('<html');
        expect(fragment.text).to.match(/^<div id="collaborator-list">/);
        const boosted = await owner.get('/settings/collaborations', { 'HX-Request': 'true', 'HX-Request-Type': 'full' });
        expect(boosted.text).to.include('<html');
      });

      it('should search by name, username and email', async function () {
        await add();
        await add({ firstName: 'Anna', lastName: 'Neri', username: 'anna', referenceEmail: 'anna@example.org' });
        for (const q of ['Neri', 'anna/', 'example.org']) {
          const res = await owner.get(`/settings/collaborations?q=${encodeURIComponent(q)}`);
          expect(res.text, q).to.include('Anna');
          expect(res.text, q).not.to.include('mario.rossi/');
        }
      });

      it('should send a visitor who is not signed in to /login', async function () {
        const res = await new Browser(h.app).get('/settings/collaborations');
        expect(res.status).to.equal(303);
        expect(res.headers.location).to.equal('/login');
      });
    });

    describe('POST /settings/collaborations', function () {
      it('should create a pending collaborator and queue an invitation with a 7-day link', async function () {
        const c = await add();
        expect(c.status).to.equal('pending');
        const link = await h.db.models.Link.findOne({ where: { collaboratorId: c.id } });
        expect(link?.purpose).to.equal('invitation');
        expect(link!.expiresAt.getTime() - h.clock.now().getTime()).to.equal(7 * 24 * 3600 * 1000);
        const email = await h.db.models.OutboxMessage.findOne({ where: { collaboratorId: c.id } });
        expect(email?.template).to.equal('invitation');
        expect(email?.status).to.equal('queued');
      });

      const refusals: Array<[string, Record<string, string>, string]> = [
        ['an empty first name', { firstName: ' ' }, 'firstName'],
        ['a username with capitals and spaces', { username: 'Mario Rossi' }, 'username'],
        ['a two-letter username', { username: 'mr' }, 'username'],
        ['a malformed email', { referenceEmail: 'mario@' }, 'referenceEmail'],
        ['the mailbox itself as reference email', { referenceEmail: MAILBOX.toUpperCase() }, 'referenceEmail'],
        ['an unknown access level', { accessLevel: 'admin' }, 'accessLevel'],
        ['a CR/LF in a name', { lastName: 'Rossi\r\nBcc: x@evil.example' }, 'lastName'],
      ];
      for (const [what, overrides, field] of refusals) {
        it(`should refuse ${what} with 422 and create nothing`, async function () {
          const res = await owner.post('/settings/collaborations', newCollaborator(overrides));
          expect(res.status).to.equal(422);
          expect(res.text).to.include(`id="${field}-error"`);
          expect(await h.db.models.Collaborator.count()).to.equal(0);
          expect(await h.db.models.OutboxMessage.count()).to.equal(0);
        });
      }

      it('should refuse a username in use, even by a deactivated account, until it is removed', async function () {
        const c = await add();
        await owner.post(`/settings/collaborations/${c.id}/deactivation`);
        const taken = await owner.post('/settings/collaborations', newCollaborator({ referenceEmail: 'other@example.com' }));
        expect(taken.status).to.equal(422);
        expect(taken.text).to.include('id="username-error"');
        await owner.post(`/settings/collaborations/${c.id}`, { _method: 'DELETE' });
        const again = await owner.post('/settings/collaborations', newCollaborator({ referenceEmail: 'other@example.com' }));
        expect(again.status).to.equal(303);
      });

      it('should escape HTML typed into a name', async function () {
        await add({ firstName: '<script>alert(1)</script>' });
        const res = await owner.get('/settings/collaborations');
        expect(res.text).not.to.include('<script>alert(1)</script>');
        expect(res.text).to.include('&lt;script&gt;alert(1)&lt;/script&gt;');
      });
    });

    describe('CSRF', function () {
      it('should refuse a state change without a token with 403', async function () {
        const c = await add();
        await activate(h, c);
        const res = await owner.agent.post(`/settings/collaborations/${c.id}/password-reset`).type('form').send({});
        expect(res.status).to.equal(403);
        expect((await reload(h, c)).status).to.equal('active');
      });

      it('should refuse a wrong token and accept the header an htmx request sends', async function () {
        const c = await add();
        await activate(h, c);
        const wrong = await owner.agent.post(`/settings/collaborations/${c.id}/password-reset`).set('X-CSRF-Token', 'x'.repeat(40));
        expect(wrong.status).to.equal(403);
        const ok = await owner.htmx('post', `/settings/collaborations/${c.id}/password-reset`);
        expect(ok.status).to.equal(200);
        expect(ok.text).to.match(new RegExp(`^<tr id="collaborator-${c.id}"`));
      });

      it('should put the token in the htmx header config of every page', async function () {
        const res = await owner.get('/settings/collaborations');
        expect(res.text).to.include(`hx-headers:inherited='{&#34;X-CSRF-Token&#34;:&#34;${owner.csrf}&#34;}'`);
      });
    });

    describe('the state machine over HTTP', function () {
      it('should reset an active collaborator: suspended, hash cleared, sessions ended, new link emailed', async function () {
        const c = await add();
        await activate(h, c);
        const collaborator = new Browser(h.app);
        expect((await collaborator.signIn(c.username, GOOD_PASSWORD)).status).to.equal(303);
        expect((await collaborator.get('/account')).status).to.equal(200);

        const res = await owner.post(`/settings/collaborations/${c.id}/password-reset`);
        expect(res.status).to.equal(303);
        const after = await reload(h, c);
        expect(after.status).to.equal('suspended');
        expect(after.passwordHash).to.equal(null);
        expect(await h.db.models.Session.count({ where: { principal: `collaborator:${c.id}` } })).to.equal(0);
        const page = await collaborator.get('/account');
        expect(page.status).to.equal(303);
        expect(page.headers.location).to.equal('/login');
        expect((await new Browser(h.app).signIn(c.username, GOOD_PASSWORD)).status).to.equal(422);
        const emails = await h.db.models.OutboxMessage.findAll({ where: { collaboratorId: c.id }, order: [['id', 'ASC']] });
        expect(emails.map((e) => e.template)).to.deep.equal(['invitation', 'password_set', 'owner_reset']);
        const live = await h.db.models.Link.findAll({ where: { collaboratorId: c.id, usedAt: null, revokedAt: null } });
        expect(live.map((l) => l.purpose)).to.deep.equal(['owner_reset']);
      });

      it('should make the account active again once the new password is set, and refuse the old one', async function () {
        const c = await add();
        await activate(h, c);
        await owner.post(`/settings/collaborations/${c.id}/password-reset`);
        const newPassword = 'another long and quiet river';
        const { res } = await setPasswordByLink(h, await latestLinkToken(h, c), newPassword);
        expect(res.status).to.equal(200);
        expect((await reload(h, c)).status).to.equal('active');
        expect((await new Browser(h.app).signIn(c.username, GOOD_PASSWORD)).status).to.equal(422);
        expect((await new Browser(h.app).signIn(c.username, newPassword)).status).to.equal(303);
      });

      it('should resend a link to a pending collaborator, killing the earlier one', async function () {
        const c = await add();
        const first = await latestLinkToken(h, c);
        const res = await owner.post(`/settings/collaborations/${c.id}/password-link`);
        expect(res.status).to.equal(303);
        const second = await latestLinkToken(h, c);
        expect(second).not.to.equal(first);
        expect((await setPasswordByLink(h, first)).form.status).to.equal(410);
        expect((await setPasswordByLink(h, second)).res.status).to.equal(200);
      });

      it('should resend an expired invitation without recreating the account', async function () {
        const c = await add();
        h.clock.advance(8 * 24 * 3600 * 1000);
        expect((await setPasswordByLink(h, await latestLinkToken(h, c))).form.status).to.equal(410);
        await owner.post(`/settings/collaborations/${c.id}/password-link`);
        expect((await setPasswordByLink(h, await latestLinkToken(h, c))).res.status).to.equal(200);
      });

      it('should deactivate and kill the live link', async function () {
        const c = await add();
        const token = await latestLinkToken(h, c);
        const res = await owner.post(`/settings/collaborations/${c.id}/deactivation`);
        expect(res.status).to.equal(303);
        expect((await reload(h, c)).status).to.equal('deactivated');
        expect((await setPasswordByLink(h, token)).form.status).to.equal(410);
        const notice = await h.db.models.OutboxMessage.findOne({ where: { collaboratorId: c.id, template: 'deactivated' } });
        expect(notice).to.exist;
      });

      it('should remove a deactivated account with DELETE and keep its history', async function () {
        const c = await add();
        await owner.post(`/settings/collaborations/${c.id}/deactivation`);
        await owner.get('/settings/collaborations');
        const res = await owner.htmx('delete', `/settings/collaborations/${c.id}`);
        expect(res.status).to.equal(200);
        expect(await reload(h, c)).to.equal(null);
        const history = await h.db.models.AuditEvent.findAll({ where: { collaboratorId: c.id } });
        expect(history.map((e) => e.action)).to.include.members(['collaborator.created', 'collaborator.deactivated', 'collaborator.removed']);
      });

      const forbidden: Array<[string, 'pending' | 'active' | 'suspended' | 'deactivated', string, string]> = [
        ['reset a pending account', 'pending', 'post', 'password-reset'],
        ['reset a suspended account', 'suspended', 'post', 'password-reset'],
        ['reset a deactivated account', 'deactivated', 'post', 'password-reset'],
        ['resend a link to an active account', 'active', 'post', 'password-link'],
        ['resend a link to a deactivated account', 'deactivated', 'post', 'password-link'],
        ['deactivate a deactivated account', 'deactivated', 'post', 'deactivation'],
        ['remove an active account', 'active', 'delete', ''],
        ['remove a pending account', 'pending', 'delete', ''],
        ['remove a suspended account', 'suspended', 'delete', ''],
      ];
      for (const [what, state, method, action] of forbidden) {
        it(`should refuse to ${what} with 409 and change nothing`, async function () {
          const c = await add();
          if (state !== 'pending') await activate(h, c);
          if (state === 'suspended') await owner.post(`/settings/collaborations/${c.id}/password-reset`);
          if (state === 'deactivated') await owner.post(`/settings/collaborations/${c.id}/deactivation`);
          const before = (await reload(h, c)).toJSON();
          const links = await h.db.models.Link.count();
          const emails = await h.db.models.OutboxMessage.count();
          await owner.get('/settings/collaborations');
          const res = method === 'delete'
            ? await owner.post(`/settings/collaborations/${c.id}`, { _method: 'DELETE' })
            : await owner.post(`/settings/collaborations/${c.id}/${action}`);
          expect(res.status).to.equal(409);
          expect((await reload(h, c)).toJSON()).to.deep.equal(before);
          expect(await h.db.models.Link.count()).to.equal(links);
          expect(await h.db.models.OutboxMessage.count()).to.equal(emails);
        });
      }

      it('should answer each htmx action with the row as the list now shows it, and the notice in the announcement region', async function () {
        const c = await add({ firstName: 'Anna <b>', username: 'anna.b', referenceEmail: 'anna@example.com' });
        await activate(h, c);
        const actions = [
          ['password-reset', 'suspended', `La password di Anna &lt;b&gt; Rossi è stata reimpostata`],
          ['password-link', 'suspended', 'Anna &lt;b&gt; Rossi'],
          ['deactivation', 'deactivated', 'Anna &lt;b&gt; Rossi'],
        ] as const;
        for (const [action, status, notice] of actions) {
          const res = await owner.htmx('post', `/settings/collaborations/${c.id}/${action}`);
          expect(res.status, action).to.equal(200);
          expect(res.headers.vary, action).to.match(/HX-Request/);
          const [rowHtml, rest] = res.text.split('<hx-partial hx-target="#list-announcement" hx-swap="innerHTML">');
          expect(rest, action).to.match(new RegExp(`^<p class="notice">[^<]*${notice}[^<]*</p></hx-partial>\\s*$`));
          expect(rowHtml, action).to.match(new RegExp(`^<tr id="collaborator-${c.id}" class="status-${status}"`));
          const list = await owner.get('/settings/collaborations?q=anna', { 'HX-Request': 'true', 'HX-Request-Type': 'partial' });
          expect(list.text, `${action}: the list's own row`).to.include(rowHtml);
        }
      });

      it('should answer a refused htmx action in the alert region', async function () {
        const c = await add();
        const res = await owner.htmx('post', `/settings/collaborations/${c.id}/password-reset`);
        expect(res.status).to.equal(409);
        expect(res.headers['hx-retarget']).to.equal('#alerts');
      });

    });

    describe('POST /settings/collaborations/:id/access', function () {
      it('should change the access level and record it in the activity', async function () {
        const c = await add();
        await owner.get(`/settings/collaborations/${c.id}`);
        const res = await owner.post(`/settings/collaborations/${c.id}/access`, { accessLevel: 'send', manageSettings: 'on' });
        expect(res.status).to.equal(303);
        const after = await reload(h, c);
        expect(after.accessLevel).to.equal('send');
        expect(after.manageSettings).to.equal(true);
        const event = await h.db.models.AuditEvent.findOne({ where: { collaboratorId: c.id, action: 'access.changed' } });
        expect(JSON.parse(event!.detail as string)).to.include({ from: 'mail_clients', to: 'send' });
      });

      it('should refuse an unknown level with 422 and a deactivated account with 409', async function () {
        const c = await add();
        await owner.get(`/settings/collaborations/${c.id}`);
        expect((await owner.post(`/settings/collaborations/${c.id}/access`, { accessLevel: 'root' })).status).to.equal(422);
        await owner.post(`/settings/collaborations/${c.id}/deactivation`);
        expect((await owner.post(`/settings/collaborations/${c.id}/access`, { accessLevel: 'read' })).status).to.equal(409);
        expect((await reload(h, c)).accessLevel).to.equal('mail_clients');
      });
    });

    describe('GET /settings/collaborations/:id', function () {
      it('should show data, link state, emails and activity', async function () {
        const t = translator('it');
        const date = (d: Date | null) => formatDate('it', d);
        const minute = () => h.clock.advance(60_000);
        const c = await add();
        const created = h.clock.now();
        const token = await latestLinkToken(h, c);
        expect(await h.drain(), 'the invitation').to.equal(1);
        minute();
        expect((await setPasswordByLink(h, token)).res.status).to.equal(200);
        const activated = h.clock.now();
        minute();
        expect((await owner.post(`/settings/collaborations/${c.id}/password-reset`)).status).to.equal(303);
        const reset = h.clock.now();
        minute();
        expect((await owner.post(`/settings/collaborations/${c.id}/password-link`)).status).to.equal(303);
        const resent = h.clock.now();

        const page = async () => {
          const res = await owner.get(`/settings/collaborations/${c.id}`);
          expect(res.status).to.equal(200);
          return res.text;
        };
        const links = async () => (await page().then((html) => tableRows(html, t('details.links')))).map((row) => row.slice(0, 4));
        const html = await page();
        expect(facts(html, t('details.data'))).to.deep.equal({
          [t('collaborations.name')]: 'Mario Rossi',
          [t('collaborations.username')]: `mario.rossi/${MAILBOX}`,
          [t('collaborations.referenceEmail')]: 'mario@example.com',
          [t('details.createdAt')]: date(created),
          [t('twoStep.title')]: t('twoStep.off'),
        });
        // Shown once: by the form that changes them.
        expect(facts(html, t('details.permissions'))).to.deep.equal({});
        expect(html).to.match(/name="accessLevel" value="mail_clients" checked/);
        expect(html).to.match(/name="manageSettings" value="on" >/);

        // Newest first; the state as of the domain's clock, with the moment a link was used or revoked.
        const hours = (n: number, from: Date) => new Date(from.getTime() + n * 3600_000);
        const [resentLink, resetLink, invitation] = [
          [t('purpose.owner_reset'), date(resent), date(hours(72, resent))],
          [t('purpose.owner_reset'), date(reset), date(hours(72, reset))],
          [t('purpose.invitation'), date(created), date(hours(7 * 24, created))],
        ];
        const revoked = `${t('linkState.revoked')} · ${date(resent)}`;
        const used = `${t('linkState.used')} · ${date(activated)}`;
        expect(await links()).to.deep.equal([[...resentLink, t('linkState.live')], [...resetLink, revoked], [...invitation, used]]);
        h.clock.advance(72 * 3600_000 - 1);
        expect((await links())[0], 'a millisecond before expiry').to.deep.equal([...resentLink, t('linkState.live')]);
        h.clock.advance(1);
        expect(await links(), 'at expiry').to.deep.equal([[...resentLink, t('linkState.expired')], [...resetLink, revoked], [...invitation, used]]);

        const email = (template: string, at: Date, status: string, attempts: number, sentAt: Date | null) =>
          [`${t(`template.${template}`)} ${date(at)}`, t(`delivery.${status}`), String(attempts), date(sentAt), ''];
        expect(tableRows(html, t('details.emails'))).to.deep.equal([
          email('owner_reset', resent, 'queued', 0, null),
          email('owner_reset', reset, 'queued', 0, null),
          email('password_set', activated, 'queued', 0, null),
          email('invitation', created, 'sent', 1, created),
        ]);

        // One event for the addition, its invitation included; sentences, with the place in words.
        const until = (from: Date, hours: number) => t('activity.detail.linkUntil', { date: date(new Date(from.getTime() + hours * 3600_000)) });
        const place = t('activity.place.local');
        expect(tableRows(html, t('details.activity'))).to.deep.equal([
          [date(resent), `Hai inviato di nuovo a Mario Rossi il link per impostare la password ${until(resent, 72)}`, place],
          [date(reset), `Hai inviato a Mario Rossi il link per la nuova password ${until(reset, 72)}`, place],
          [date(reset), 'Hai reimpostato la password di Mario Rossi', place],
          [date(activated), 'Mario Rossi ha impostato la password', place],
          [date(created), `Hai aggiunto Mario Rossi Accesso: Programmi di posta · ${until(created, 7 * 24)}`, place],
        ]);
      });

      it('should answer 404 for another mailbox’s collaborator, on every route', async function () {
        const c = await add();
        await h.mailbox('other@pec.example.it').catch(() => undefined);
        const stranger = new Browser(h.app);
        await stranger.signIn('other@pec.example.it', OWNER_PASSWORD);
        await stranger.get('/settings/collaborations');
        for (const path of ['', '/password-reset', '/deactivation', '/removal']) {
          expect((await stranger.get(`/settings/collaborations/${c.id}${path}`)).status, `GET ${path}`).to.equal(404);
        }
        for (const path of ['/password-reset', '/password-link', '/deactivation']) {
          expect((await stranger.post(`/settings/collaborations/${c.id}${path}`)).status, `POST ${path}`).to.equal(404);
        }
        expect((await stranger.htmx('delete', `/settings/collaborations/${c.id}`)).status).to.equal(404);
        expect((await reload(h, c)).status).to.equal('pending');
      });

      it('should answer 404 to a collaborator session', async function () {
        const c = await add();
        await activate(h, c);
        const collaborator = new Browser(h.app);
        await collaborator.signIn(c.username, GOOD_PASSWORD);
        expect((await collaborator.get('/settings/collaborations')).status).to.equal(404);
      });
    });

    describe('links', function () {
      it('should keep no raw token in the database', async function () {
        const c = await add();
        const token = await latestLinkToken(h, c);
        const [rows] = await h.db.sequelize.query('SELECT * FROM links');
        const [outbox] = await h.db.sequelize.query('SELECT * FROM outbox_messages');
        expect(JSON.stringify(rows)).not.to.include(token);
        expect(JSON.stringify(outbox)).not.to.include(token);
      });

      it('should build link URLs from BASE_URL whatever the Host header says', async function () {
        const res = await owner.agent
          .post('/settings/collaborations')
          .set({ Host: 'evil.example', 'X-Forwarded-Host': 'evil.example' })
          .type('form')
          .send({ _csrf: owner.csrf, ...newCollaborator() });
        expect(res.status).to.equal(303);
        const c = (await h.db.models.Collaborator.findOne()) as Collaborator;
        const [link] = await emailedLinks(h, c);
        expect(link.startsWith('http://webmail.pec.test/password/')).to.equal(true);
      });

      it('should work until the last millisecond before expiry, and not at expiry', async function () {
        const c = await add();
        const token = await latestLinkToken(h, c);
        h.clock.advance(7 * 24 * 3600 * 1000 - 1);
        const browser = new Browser(h.app);
        await browser.get(`/password/${token}`);
        expect((await browser.get('/password/new')).status).to.equal(200);
        h.clock.advance(1);
        const res = await browser.post('/password/new', { password: GOOD_PASSWORD, passwordConfirmation: GOOD_PASSWORD });
        expect(res.status).to.equal(410);
        expect((await reload(h, c)).status).to.equal('pending');
      });

      it('should not be usable twice', async function () {
        const c = await add();
        const token = await latestLinkToken(h, c);
        expect((await setPasswordByLink(h, token)).res.status).to.equal(200);
        const replay = await setPasswordByLink(h, token, 'a third long password for replay');
        expect(replay.form.status).to.equal(410);
        expect(replay.form.text).not.to.include('name="password"');
        expect((await new Browser(h.app).signIn(c.username, GOOD_PASSWORD)).status).to.equal(303);
      });

      it('should move the token into the session: no-store, no-referrer, no token in the URL', async function () {
        const c = await add();
        const token = await latestLinkToken(h, c);
        const browser = new Browser(h.app);
        const first = await browser.get(`/password/${token}`);
        expect(first.headers['referrer-policy']).to.equal('no-referrer');
        expect(first.headers['cache-control']).to.equal('no-store');
        const form = await browser.get('/password/new');
        expect(form.headers['referrer-policy']).to.equal('no-referrer');
        expect(form.headers['cache-control']).to.equal('no-store');
        expect(form.text).not.to.include(token);
        expect((await reload(h, c)).status, 'a GET consumes nothing').to.equal('pending');
      });

      it('should refuse a short, a too long and a mismatched password, explained, and keep the link', async function () {
        const c = await add();
        const token = await latestLinkToken(h, c);
        const browser = new Browser(h.app);
        await browser.get(`/password/${token}`);
        await browser.get('/password/new');
        for (const [password, confirmation, field] of [
          ['fourteen chars', 'fourteen chars', 'password'],
          ['é'.repeat(37), 'é'.repeat(37), 'password'],
          [GOOD_PASSWORD, `${GOOD_PASSWORD}!`, 'passwordConfirmation'],
        ] as const) {
          const res = await browser.post('/password/new', { password, passwordConfirmation: confirmation });
          expect(res.status).to.equal(422);
          expect(res.text).to.include(`id="${field}-error"`);
        }
        expect((await browser.post('/password/new', { password: GOOD_PASSWORD, passwordConfirmation: GOOD_PASSWORD })).status).to.equal(200);
      });

      it('should let exactly one of 16 simultaneous redemptions win', async function () {
        const c = await add();
        const token = await latestLinkToken(h, c);
        const browsers = await Promise.all(
          Array.from({ length: 16 }, async (_, i) => {
            const b = new Browser(h.app);
            await b.get(`/password/${token}`);
            await b.get('/password/new');
            return { b, password: `${GOOD_PASSWORD} number ${i}` };
          }),
        );
        const results = await Promise.all(browsers.map(({ b, password }) => b.post('/password/new', { password, passwordConfirmation: password })));
        const statuses = results.map((r) => r.status);
        expect(statuses.filter((s) => s === 200)).to.have.length(1);
        expect(statuses.filter((s) => s === 410)).to.have.length(15);
        const winner = browsers[statuses.indexOf(200)]!;
        expect((await new Browser(h.app).signIn(c.username, winner.password)).status).to.equal(303);
        expect(await h.db.models.OutboxMessage.count({ where: { collaboratorId: c.id, template: 'password_set' } })).to.equal(1);
      });
    });

    describe('POST /login', function () {
      it('should refuse a wrong password with the same answer as an unknown user', async function () {
        const wrong = await new Browser(h.app).signIn(MAILBOX, 'not the owner password at all');
        const unknown = await new Browser(h.app).signIn('nobody@pec.example.it', 'not the owner password at all');
        expect(wrong.status).to.equal(422);
        expect(unknown.status).to.equal(422);
      });

      it('should give a new session id at sign-in', async function () {
        const browser = new Browser(h.app);
        await browser.get('/login');
        const sid = (res: { headers: Record<string, unknown> }) => ((res.headers['set-cookie'] as string[] | undefined) ?? []).find((c) => c.startsWith('sid='))?.split(';')[0];
        const before = sid(await browser.post('/settings/language', { locale: 'it', back: '/login' }));
        const after = sid(await browser.post('/login', { username: MAILBOX, password: OWNER_PASSWORD }));
        expect(before).to.match(/^sid=/);
        expect(after).to.match(/^sid=/).and.not.equal(before);
      });
    });
  });
}
