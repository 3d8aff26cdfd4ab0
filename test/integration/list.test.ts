import { expect } from 'chai';
import { QueryTypes } from 'sequelize';
import { DATABASES } from '../support/databases';
import { Browser, GOOD_PASSWORD, harnessWithOwner, type Harness } from '../support/harness';
import { collaboratorIn, reload, person } from '../support/accounts';
import { system } from '../../src/domain/actor';
import type { Collaborator, Mailbox, Status } from '../../src/models';
import { PAGE_SIZE, type ListQuery } from '../../src/domain/directory';
import { retentionCutoff } from '../../src/domain/maintenance';

const MAILBOX = 'studio.rossi@pec.example.it';
const OTHER = 'altro.studio@pec.example.it';

/** The ids of the rows a list page shows, in order. */
const rowIds = (html: string) => [...html.matchAll(/<tr id="collaborator-(\d+)"/g)].map((m) => Number(m[1]));
/** The statuses of the rows a list page shows, in order. */
const rowStatuses = (html: string) => [...html.matchAll(/<tr id="collaborator-\d+" class="status-(\w+)"/g)].map((m) => m[1]);
/** The markup of one row. */
const rowHtml = (html: string, id: number) => html.slice(html.indexOf(`<tr id="collaborator-${id}"`), html.indexOf('</tr>', html.indexOf(`<tr id="collaborator-${id}"`)));
const DAY = 24 * 3600 * 1000;
/** How many times each query block of an `ANALYZE FORMAT=JSON` ran (`r_loops`) that reads the table named `table` (its alias). */
function loopsReading(table: string, analyzed: unknown): number[] {
  if (typeof analyzed !== 'object' || analyzed === null) return [];
  const node = analyzed as { query_block?: { r_loops?: number; nested_loop?: Array<{ table?: { table_name?: string } }> } };
  const own = node.query_block?.nested_loop?.some((step) => step.table?.table_name === table) ? [node.query_block.r_loops ?? 0] : [];
  return [...own, ...Object.values(analyzed).flatMap((value) => loopsReading(table, value))];
}
const linkOf = (html: string, rel: 'next' | 'prev') => /<a rel="(?:next|prev)" href="([^"]+)"/g.exec(html.slice(html.indexOf(`rel="${rel}"`) - 3))?.[1]?.replace(/&amp;/g, '&');


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
      it("should count a search or a status once for each version of the list, again after any change", async function () {
        const anna = await collaboratorIn(h, mailbox, 'active', person('Anna', 'Neri', 'anna'));
        await h.domain.collaborations.create(mailbox, person('Bruno', 'Neri', 'bruno'), { actor: system });
        const total = async (query: ListQuery) => (await h.domain.directory.list(await mailboxOf(MAILBOX), query)).total;
        expect(await total({ query: 'neri' })).to.equal(2);
        expect(await total({ status: 'active' })).to.equal(1);
        // Written behind the domain's back, the list's version left as it was: the counts kept for it stay.
        await h.db.sequelize.query('DELETE FROM collaborator_search_keys WHERE collaborator_id = ?', { replacements: [anna.id] });
        await h.db.sequelize.query("UPDATE collaborators SET status = 'suspended' WHERE id = ?", { replacements: [anna.id] });
        expect(await total({ query: 'neri' }), 'kept').to.equal(2);
        expect(await total({ status: 'active' }), 'kept').to.equal(1);
        // Any change through the domain raises the version: counted again.
        await h.domain.collaborations.create(mailbox, person('Carla', 'Neri', 'carla'), { actor: system });
        expect(await total({ query: 'neri' }), 'counted again').to.equal(2);
        expect(await total({ status: 'active' }), 'counted again').to.equal(0);
      });
    });

    describe('GET /settings/collaborations?q= with a word shorter than a search key', function () {
      it('should find, count and page its matches in name order, each once, alone or with another word', async function () {
        for (let i = 0; i < 55; i++) await h.domain.collaborations.create(mailbox, person('Anna', `Neri ${i}`, `anna${i}`), { actor: system });
        // A word shorter than a key is filed under itself; a longer one under its first 4 code points.
        const ugo = await h.domain.collaborations.create(mailbox, person('Ugo', 'Ne', 'ugo'), { actor: system });
        const nerone = await h.domain.collaborations.create(mailbox, person('Bruno', 'Nerone', 'bruno'), { actor: system });
        await h.domain.collaborations.create(mailbox, person('Mario', 'Rossi', 'mario.rossi'), { actor: system });
        const byName = await h.db.models.Collaborator.findAll({ where: { mailboxId: mailbox.id }, order: [['lastName', 'ASC'], ['firstName', 'ASC'], ['id', 'ASC']] });
        const expected = byName.filter((c) => c.lastName.startsWith('Ne')).map((c) => c.id);
        const first = (await owner.get('/settings/collaborations?q=ne')).text;
        expect(first).to.match(/Collaboratori: 57/);
        const second = (await owner.get(linkOf(first, 'next') as string)).text;
        expect([...rowIds(first), ...rowIds(second)]).to.deep.equal(expected);
        const found = async (q: string) => rowIds((await owner.get(`/settings/collaborations?q=${encodeURIComponent(q)}`)).text);
        expect(await found('ne ugo')).to.deep.equal([ugo.id]);
        expect(await found('bru nero')).to.deep.equal([nerone.id]);
        expect(await found('n ma'), 'every word must match').to.deep.equal([]);
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

    /** Every row of the list asked for by `query`, following its "next" links; each page's `next` link. */
    async function allPages(query: string): Promise<{ ids: number[]; links: string[] }> {
      const ids: number[] = [];
      const links: string[] = [];
      let html = (await owner.get(`/settings/collaborations?${query}`)).text;
      ids.push(...rowIds(html));
      for (let next = linkOf(html, 'next'); next; next = linkOf(html, 'next')) {
        links.push(next);
        html = (await owner.get(next)).text;
        ids.push(...rowIds(html));
      }
      return { ids, links };
    }

    describe('GET /settings/collaborations?status=&sort=&dir=', function () {
      it('should keep the rows in one status, with the search, counted, and page through them keeping both', async function () {
        const active: Collaborator[] = [];
        for (let i = 0; i < PAGE_SIZE + 3; i++) active.push(await collaboratorIn(h, mailbox, 'active', person('Anna', `Neri ${String(i).padStart(2, '0')}`, `anna${i}`)));
        await collaboratorIn(h, mailbox, 'pending', person('Bruno', 'Neri', 'bruno'));
        await collaboratorIn(h, mailbox, 'active', person('Mario', 'Rossi', 'mario.rossi'));
        const first = (await owner.get('/settings/collaborations?q=neri&status=active')).text;
        expect(first).to.match(/Collaboratori: 53</);
        expect(new Set(rowStatuses(first))).to.deep.equal(new Set(['active']));
        const { ids, links } = await allPages('q=neri&status=active');
        expect(ids).to.deep.equal(active.map((c) => c.id));
        expect(links[0]).to.match(/q=neri/).and.to.match(/status=active/).and.to.match(/after=\d+/);

        const pending = (await owner.get('/settings/collaborations?status=pending')).text;
        expect(pending).to.match(/Collaboratori: 1</);
        expect(rowStatuses(pending)).to.deep.equal(['pending']);
        const none = (await owner.get('/settings/collaborations?status=deactivated')).text;
        expect(rowIds(none)).to.deep.equal([]);
        expect(none).to.include('Nessun collaboratore nello stato «Disattivato».');
      });

      it('should sort by name, username, status and last access, both ways, each collaborator once across the pages', async function () {
        const statuses: Status[] = ['active', 'pending', 'suspended', 'deactivated'];
        const made: Collaborator[] = [];
        for (let i = 0; i < PAGE_SIZE + 6; i++) {
          // Usernames in the opposite order of the names; statuses in turn.
          made.push(await collaboratorIn(h, mailbox, statuses[i % 4] as Status, person('Anna', `Neri ${String(i).padStart(2, '0')}`, `user${String(99 - i).padStart(2, '0')}`)));
        }
        // Some sign in, on different days; the others never did.
        const signedIn = [made[8], made[4], made[12], made[0]] as Collaborator[];
        for (const c of signedIn) {
          h.clock.advance(DAY);
          await h.domain.accessHistory.recordMailSignIn(c.username, true, { channel: 'imap', ip: '192.0.2.1', clientName: null });
        }
        await h.domain.accessHistory.recordMailSignIn(made[16]!.username, false, { channel: 'imap', ip: '192.0.2.1', clientName: null });
        const ids = (list: Collaborator[]) => list.map((c) => c.id);
        const byName = [...made];
        const rank = (c: Collaborator) => ['pending', 'active', 'suspended', 'deactivated'].indexOf(statuses[made.indexOf(c) % 4] as string);
        const byStatus = [...made].sort((a, b) => rank(a) - rank(b) || made.indexOf(a) - made.indexOf(b));
        const byStatusDesc = [...made].sort((a, b) => rank(b) - rank(a) || made.indexOf(a) - made.indexOf(b));
        const never = made.filter((c) => !signedIn.includes(c));
        const expected: Array<[string, number[]]> = [
          ['sort=name&dir=desc', ids([...byName].reverse())],
          ['sort=username', ids([...made].reverse())],
          ['sort=username&dir=desc', ids(made)],
          ['sort=status', ids(byStatus)],
          ['sort=status&dir=desc', ids(byStatusDesc)],
          ['sort=lastAccess&dir=desc', ids([...[...signedIn].reverse(), ...never])],
          ['sort=lastAccess', ids([...signedIn, ...never])],
        ];
        for (const [query, order] of expected) {
          const { ids: shown, links } = await allPages(query);
          expect(shown, query).to.deep.equal(order);
          // Pages by number: the name order alone is read next to a row.
          expect(links, query).to.have.length(1);
          expect(links[0], query).not.to.match(/after=/);
          for (const part of query.split('&').filter((p) => p !== 'sort=name')) expect(links[0], query).to.include(part);
        }
      });
    });

    describe('what a row says of its status', function () {
      it('should say what a pending or suspended account waits for', async function () {
        const pending = await collaboratorIn(h, mailbox, 'pending', person('Anna', 'Bianchi', 'anna'));
        const suspended = await collaboratorIn(h, mailbox, 'suspended', person('Mario', 'Rossi', 'mario'));
        const html = (await owner.get('/settings/collaborations')).text;
        expect(rowHtml(html, pending.id)).to.include('invito non ancora accettato').and.to.include('Link valido fino al');
        expect(rowHtml(html, suspended.id)).to.include('in attesa della nuova password');
        expect(rowHtml(html, pending.id), 'no resend button while the link works').not.to.include('row-resend');
      });

      it('should show a link as expired from the moment it expires, with the resend button, whatever was rendered before', async function () {
        const c = await collaboratorIn(h, mailbox, 'pending', person('Anna', 'Bianchi', 'anna'));
        const list = async () => (await owner.get('/settings/collaborations')).text;
        const { version } = await h.domain.directory.listState(mailbox);
        h.clock.advance(7 * DAY - 1000);
        const before = await list();
        expect(before).to.equal(await list());
        expect(rowHtml(before, c.id)).not.to.match(/Link scaduto|row-resend/);
        h.clock.advance(1000);
        const after = rowHtml(await list(), c.id);
        expect((await h.domain.directory.listState(mailbox)).version, 'nothing was written').to.equal(version);
        expect(after).to.include('Link scaduto il').and.to.include('row-resend');
        await owner.post(`/settings/collaborations/${c.id}/password-link`);
        expect(rowHtml(await list(), c.id)).not.to.match(/Link scaduto|row-resend/);
      });

      it('should ask for the row again while its email is on its way, and stop once it is delivered', async function () {
        const c = await collaboratorIn(h, mailbox, 'pending', person('Anna', 'Bianchi', 'anna'));
        const fragment = { 'HX-Request': 'true', 'HX-Request-Type': 'partial' };
        const queued = (await owner.get(`/settings/collaborations/${c.id}/row`, fragment)).text;
        expect(queued).to.match(new RegExp(`^<tr id="collaborator-${c.id}"[^>]* hx-get="/settings/collaborations/${c.id}/row" hx-trigger="every \\d+s"`));
        await h.drain();
        const sent = (await owner.get(`/settings/collaborations/${c.id}/row`, fragment)).text;
        expect(sent).to.include('delivery-sent').and.not.to.include('hx-trigger');
        expect((await owner.get(`/settings/collaborations/${c.id}/row`)).status, 'not a page of its own').to.equal(303);
      });

      if (name === 'MariaDB') {
        it("should look up each row's last email once", async function () {
          for (const first of ['Anna', 'Bruno', 'Carla', 'Dario']) await collaboratorIn(h, mailbox, 'pending', person(first, 'Neri', first.toLowerCase()));
          const statements: Array<{ sql: string; bind: unknown[] }> = [];
          h.db.sequelize.addHook('beforeQuery', 'list-sql', (options, query) => {
            const { sql } = query as unknown as { sql?: string };
            if (sql?.includes('row_facts')) statements.push({ sql, bind: (options as { bind?: unknown[] }).bind ?? [] });
          });
          try {
            await h.domain.directory.list(mailbox);
            await h.domain.directory.list(mailbox, { sort: 'status' });
          } finally {
            h.db.sequelize.removeHook('beforeQuery', 'list-sql');
          }
          expect(statements).to.have.length(2);
          for (const { sql, bind } of statements) {
            const text = sql.replace(/\$(\d+)/g, (_, n: string) => h.db.sequelize.escape(bind[Number(n) - 1] as string));
            const [analyzed] = await h.db.sequelize.query<{ ANALYZE: string }>(`ANALYZE FORMAT=JSON ${text}`, { type: QueryTypes.SELECT });
            expect(loopsReading('o', JSON.parse(analyzed?.ANALYZE as string)), sql).to.deep.equal([4]);
          }
        });
      }
    });

    describe('last access', function () {
      it('should show the day of the latest web or mail-program sign-in, raising the version once a day', async function () {
        const c = await collaboratorIn(h, mailbox, 'active', person('Anna', 'Bianchi', 'anna'));
        const lastAccess = async () => /class="last-access">([^<]*(?:<time[^>]*>[^<]*<\/time>)?)/.exec(rowHtml((await owner.get('/settings/collaborations')).text, c.id))?.[1];
        expect(await lastAccess()).to.equal('Mai');
        await h.domain.accessHistory.recordMailSignIn(c.username, false, { channel: 'imap', ip: '192.0.2.1', clientName: null });
        expect(await lastAccess(), 'a failure is no access').to.equal('Mai');
        h.clock.set(new Date('2026-04-10T08:00:00Z'));
        await h.domain.accessHistory.recordMailSignIn(c.username, true, { channel: 'imap', ip: '192.0.2.1', clientName: null });
        expect(await lastAccess()).to.match(/10 apr 2026/);
        const { version } = await h.domain.directory.listState(mailbox);
        h.clock.advance(3600 * 1000);
        await new Browser(h.app).signIn(c.username, GOOD_PASSWORD);
        expect((await h.domain.directory.listState(mailbox)).version, 'the same day: the row reads the same').to.equal(version);
        // 22:30 UTC is 00:30 the next day in Rome (summer time).
        h.clock.set(new Date('2026-04-10T22:30:00Z'));
        await new Browser(h.app).signIn(c.username, GOOD_PASSWORD);
        expect(await lastAccess()).to.match(/11 apr 2026/);
        // Once the history of those days is pruned, never again.
        h.clock.set(new Date('2026-11-01T08:00:00Z'));
        await h.domain.accessHistory.prune(retentionCutoff(h.clock.now()));
        expect(await lastAccess()).to.equal('Mai');
      });
    });

    describe('after adding and removing', function () {
      it('should send the owner to the page of the list that shows the new collaborator, at its row', async function () {
        for (let i = 0; i < PAGE_SIZE + 5; i++) await h.domain.collaborations.create(mailbox, person('Anna', `Neri ${String(i).padStart(2, '0')}`, `anna${i}`), { actor: system });
        await owner.get('/settings/collaborations/new');
        const res = await owner.post('/settings/collaborations', { firstName: 'Zeno', lastName: 'Zucchi', username: 'zeno', referenceEmail: 'zeno@example.org', accessLevel: 'read' });
        const zeno = (await h.db.models.Collaborator.findOne({ where: { username: `zeno/${MAILBOX}` } })) as Collaborator;
        expect(res.status).to.equal(303);
        expect(res.headers.location).to.equal(`/settings/collaborations?page=2#collaborator-${zeno.id}`);
        expect(rowIds((await owner.get('/settings/collaborations?page=2')).text)).to.include(zeno.id);
        const first = await owner.post('/settings/collaborations', { firstName: 'Aldo', lastName: 'Abate', username: 'aldo', referenceEmail: 'aldo@example.org', accessLevel: 'read' });
        expect(first.headers.location).to.match(/^\/settings\/collaborations#collaborator-\d+$/);
      });

      it('should answer an htmx removal with the notice and the list the owner was looking at, counted again', async function () {
        const gone = await collaboratorIn(h, mailbox, 'deactivated', person('Mario', 'Rossi', 'mario'));
        const kept = await collaboratorIn(h, mailbox, 'deactivated', person('Anna', 'Neri', 'anna'));
        await collaboratorIn(h, mailbox, 'active', person('Zeno', 'Verdi', 'zeno'));
        await owner.get('/settings/collaborations');
        const res = await owner.agent
          .delete(`/settings/collaborations/${gone.id}`)
          .set({ 'HX-Request': 'true', 'HX-Request-Type': 'partial', 'X-CSRF-Token': owner.csrf, 'HX-Current-URL': 'http://webmail.pec.test/settings/collaborations?status=deactivated' });
        expect(res.status).to.equal(200);
        expect(res.text).to.match(/<hx-partial hx-target="#list-announcement"[^>]*><p class="notice">L’account di Mario Rossi è stato eliminato.<\/p><\/hx-partial>/);
        const list = /<hx-partial hx-target="#collaborator-list" hx-swap="outerHTML">([\s\S]*)<\/hx-partial>/.exec(res.text)?.[1] ?? '';
        expect(list).to.match(/Collaboratori: 1</);
        expect(rowIds(list)).to.deep.equal([kept.id]);
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

      it('should keep a rendered list for one search, status, order and page only', async function () {
        const anna = await collaboratorIn(h, mailbox, 'active', person('Anna', 'Bianchi', 'anna'));
        const zeno = await collaboratorIn(h, mailbox, 'pending', person('Zeno', 'Verdi', 'zeno'));
        const ids = async (query: string) => rowIds((await owner.get(`/settings/collaborations?${query}`)).text);
        for (let round = 0; round < 2; round++) {
          expect(await ids(''), 'all').to.deep.equal([anna.id, zeno.id]);
          expect(await ids('status=pending'), 'pending').to.deep.equal([zeno.id]);
          expect(await ids('status=active'), 'active').to.deep.equal([anna.id]);
          expect(await ids('dir=desc'), 'Z to A').to.deep.equal([zeno.id, anna.id]);
          expect(await ids('sort=status&dir=desc'), 'by status').to.deep.equal([anna.id, zeno.id]);
          expect(await ids('sort=status'), 'by status, pending first').to.deep.equal([zeno.id, anna.id]);
        }
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
