import { expect } from 'chai';
import { DATABASES } from '../support/databases';
import { harnessWithOwner, type Browser, type Harness } from '../support/harness';
import { collaboratorIn, reload } from '../support/accounts';
import { system } from '../../src/domain/actor';
import type { NewCollaborator } from '../../src/domain/collaborators';
import type { Mailbox } from '../../src/models';

const MAILBOX = 'studio.rossi@pec.example.it';
const OTHER = 'altro.studio@pec.example.it';

/** The ids of the rows a list page shows, in order. */
const rowIds = (html: string) => [...html.matchAll(/<tr id="collaborator-(\d+)"/g)].map((m) => Number(m[1]));
const linkOf = (html: string, rel: 'next' | 'prev') => /<a rel="(?:next|prev)" href="([^"]+)"/g.exec(html.slice(html.indexOf(`rel="${rel}"`) - 3))?.[1]?.replace(/&amp;/g, '&');

const person = (firstName: string, lastName: string, username: string, referenceEmail = `${username}@example.org`): NewCollaborator => ({
  firstName,
  lastName,
  username,
  referenceEmail,
  accessLevel: 'mail_clients',
  manageSettings: '',
});

for (const { name, create } of DATABASES) {
  describe(`The Collaborations list at any size (${name})`, function () {
    let h: Harness;
    let owner: Browser;
    let mailbox: Mailbox;

    harnessWithOwner(
      create,
      { mailboxes: [MAILBOX, OTHER] },
      (harness) => (h = harness),
      (signedIn) => (owner = signedIn),
    );
    const mailboxOf = async (address: string) => (await h.db.models.Mailbox.findOne({ where: { address } })) as Mailbox;
    beforeEach(async function () {
      mailbox = await mailboxOf(MAILBOX);
    });

    describe('GET /settings/collaborations?q=', function () {
      it('should find the start of any word of the name, username or reference email, with or without accents', async function () {
        const niccolo = await h.domain.collaborations.create(mailbox, person('Niccolò', "D'Angelo", 'n.dangelo', 'nicco@studio-legale.it'), { actor: system });
        const mario = await h.domain.collaborations.create(mailbox, person('Mario', 'Rossi', 'mario.rossi'), { actor: system });
        const other = await mailboxOf(OTHER);
        const stranger = await h.domain.collaborations.create(other, person('Niccolò', 'Bianchi', 'nicco'), { actor: system });
        const found = async (q: string) => rowIds((await owner.get(`/settings/collaborations?q=${encodeURIComponent(q)}`)).text);
        for (const q of ['nicc', 'Niccolò', 'NICCOLO', 'dange', "d'angelo", 'angelo', 'studio-leg', 'nicco@studio', `n.dangelo/${MAILBOX}`]) {
          expect(await found(q), q).to.deep.equal([niccolo.id]);
        }
        expect(await found('rossi mario'), 'every word must match').to.deep.equal([mario.id]);
        expect(await found('mario niccolo'), 'nobody has both').to.deep.equal([]);
        expect(await found('olò'), 'the middle of a word is not the start of one').to.deep.equal([]);
        expect(await found('...'), 'punctuation alone finds nobody').to.deep.equal([]);
        expect(await found('bianchi'), "another mailbox's collaborators are never found").to.deep.equal([]);
        expect(stranger.id).to.be.above(0);
      });

      it('should say how many match, and page through them', async function () {
        for (let i = 0; i < 55; i++) await h.domain.collaborations.create(mailbox, person('Anna', `Neri ${i}`, `anna${i}`), { actor: system });
        await h.domain.collaborations.create(mailbox, person('Mario', 'Rossi', 'mario.rossi'), { actor: system });
        const first = (await owner.get('/settings/collaborations?q=neri')).text;
        expect(first).to.match(/Collaboratori: 55/);
        expect(rowIds(first)).to.have.length(50);
        const second = (await owner.get(linkOf(first, 'next') as string)).text;
        expect(rowIds(second)).to.have.length(5);
        expect(linkOf(second, 'next')).to.equal(undefined);
      });
    });

    describe('paging', function () {
      it('should give the same rows following its links as by page number, each collaborator once, in name order', async function () {
        // Same names on purpose: the order must still be total (last name, first name, then id).
        const people = Array.from({ length: 123 }, (_, i) => person(i % 3 === 0 ? 'Mario' : 'Anna', i % 2 === 0 ? 'Rossi' : 'Bianchi', `persona${i}`));
        for (const p of people) await h.domain.collaborations.create(mailbox, p, { actor: system });
        const byName = await h.db.models.Collaborator.findAll({ where: { mailboxId: mailbox.id }, order: [['lastName', 'ASC'], ['firstName', 'ASC'], ['id', 'ASC']] });

        const pages: number[][] = [];
        let html = (await owner.get('/settings/collaborations')).text;
        pages.push(rowIds(html));
        for (let next = linkOf(html, 'next'); next; next = linkOf(html, 'next')) {
          expect(next).to.match(/after=\d+/);
          html = (await owner.get(next)).text;
          pages.push(rowIds(html));
        }
        expect(pages.map((p) => p.length)).to.deep.equal([50, 50, 23]);
        expect(pages.flat()).to.deep.equal(byName.map((c) => c.id));
        for (const [i, ids] of pages.entries()) {
          expect(rowIds((await owner.get(`/settings/collaborations?page=${i + 1}`)).text), `page ${i + 1} by number`).to.deep.equal(ids);
        }
        // And back, through the "previous" links.
        const previous = linkOf(html, 'prev') as string;
        expect(previous).to.match(/before=\d+/);
        expect(rowIds((await owner.get(previous)).text)).to.deep.equal(pages[1]);
      });

      it('should show the page by its number when the rows after its cursor were removed meanwhile', async function () {
        const people = Array.from({ length: 55 }, (_, i) => person('Anna', `Neri ${String(i).padStart(2, '0')}`, `anna${i}`));
        const made = [];
        for (const p of people) made.push(await h.domain.collaborations.create(mailbox, p, { actor: system }));
        const first = (await owner.get('/settings/collaborations')).text;
        const next = linkOf(first, 'next') as string;
        for (const c of made.slice(50)) await h.domain.collaborations.remove(await h.domain.collaborations.deactivate(c, { actor: system }), { actor: system });
        const page = (await owner.get(next)).text;
        expect(rowIds(page), 'page 1 again: there is no page 2 any more').to.deep.equal(rowIds(first));
        expect(page).not.to.match(/Non ci sono ancora collaboratori/);
      });

      it("should ignore a cursor that is not a row of the owner's mailbox", async function () {
        const other = await mailboxOf(OTHER);
        const stranger = await h.domain.collaborations.create(other, person('Zeno', 'Zanetti', 'zeno'), { actor: system });
        const mine = await h.domain.collaborations.create(mailbox, person('Anna', 'Bianchi', 'anna'), { actor: system });
        for (const cursor of [`after=${stranger.id}`, `before=${stranger.id}`, 'after=0', 'after=1e3', 'before=x']) {
          expect(rowIds((await owner.get(`/settings/collaborations?${cursor}`)).text), cursor).to.deep.equal([mine.id]);
        }
      });
    });

    describe('rendered lists reused between requests', function () {
      /** The list as the owner sees it now, and the same page read again. */
      const list = async () => (await owner.get('/settings/collaborations')).text;

      it('should show every change of what a row shows at the next request, whoever made it', async function () {
        const c = await collaboratorIn(h, mailbox, 'active', person('Giulia', 'Bianchi', 'giulia'));
        await h.drain();
        const changes: Array<[string, () => Promise<unknown>, RegExp]> = [
          ['a second factor added', async () => h.domain.twoStep.addFactor({ type: 'collaborator', collaborator: await reload(h, c), mailbox }, { kind: 'totp', name: null, secret: 'x' }), /Verifica in due passaggi attiva|two-step verification on/i],
          ['an app password added', async () => h.domain.appPasswords.create(await reload(h, c), { name: 'Telefono', scope: 'read_send' }, { actor: system }), /1 password per le app/],
          ['the email delivered by the worker', () => h.drain(), /delivery-sent/],
          ['an email queued', async () => h.domain.collaborations.resetPassword(await reload(h, c), { actor: system }), /delivery-queued/],
          ['the email failing for now', async () => h.domain.outbox.runOnce(async () => { throw new Error('SMTP down'); }), /delivery-retrying/],
          ['a status changed', async () => h.domain.collaborations.deactivate(await reload(h, c), { actor: system }), /badge-deactivated/],
        ];
        for (const [what, change, expected] of changes) {
          const before = await list();
          expect(before, `before ${what}`).not.to.match(expected);
          expect(await list(), 'read twice, unchanged').to.equal(before);
          await change();
          expect(await list(), what).to.match(expected);
        }
      });

      it("should show the mailbox's two-step rule and a count kept with every addition and removal", async function () {
        const c = await collaboratorIn(h, mailbox, 'active', person('Giulia', 'Bianchi', 'giulia'));
        expect(await list()).to.match(/Collaboratori: 1</);
        expect(await list()).not.to.match(/da configurare/);
        await h.domain.twoStep.setPolicy(mailbox, true, system);
        expect(await list()).to.match(/Verifica in due passaggi da configurare/);
        await h.domain.collaborations.create(mailbox, person('Anna', 'Neri', 'anna'), { actor: system });
        expect(await list()).to.match(/Collaboratori: 2</);
        await h.domain.collaborations.remove(await h.domain.collaborations.deactivate(c, { actor: system }), { actor: system });
        expect(await list()).to.match(/Collaboratori: 1</);
      });

      it('should keep a rendered list for one language only', async function () {
        await collaboratorIn(h, mailbox, 'pending', person('Giulia', 'Bianchi', 'giulia'));
        expect(await list()).to.match(/In attesa/);
        // Not a change of the list: the version stays, the language is in the key.
        await h.db.models.Mailbox.update({ locale: 'en' }, { where: { id: mailbox.id } });
        expect(await list()).to.match(/Pending/);
      });

      it("should count a mailbox's collaborators at its first list when a host made its record", async function () {
        await collaboratorIn(h, mailbox, 'pending', person('Giulia', 'Bianchi', 'giulia'));
        await collaboratorIn(h, mailbox, 'active', person('Anna', 'Neri', 'anna'));
        // As a host webmail's own mailbox records come: no list row yet.
        await h.db.sequelize.query('DELETE FROM collaborator_lists WHERE mailbox_id = ?', { replacements: [mailbox.id] });
        expect(await list()).to.match(/Collaboratori: 2</);
        await h.domain.collaborations.create(mailbox, person('Luca', 'Verdi', 'luca'), { actor: system });
        expect(await list()).to.match(/Collaboratori: 3</);
      });

      it('should keep the versions without database triggers', async function () {
        // On Galera, MariaDB 10.11 now and then failed to load a table's triggers, and then refused
        // every write to that table on that node: the app raises the versions itself.
        const sql = h.db.dialect === 'sqlite' ? "SELECT name FROM sqlite_master WHERE type = 'trigger'" : 'SELECT trigger_name FROM information_schema.triggers WHERE trigger_schema = DATABASE()';
        const [triggers] = await h.db.sequelize.query(sql);
        expect(triggers).to.deep.equal([]);
      });
    });
  });
}
