import { expect } from 'chai';
import { DATABASES } from '../support/databases';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, harnessWithOwner, type Harness } from '../support/harness';
import { activate, addCollaborator, latestLinkToken, openLink } from '../support/accounts';
import type { Collaborator } from '../../src/models';
import { createLogger } from '../../src/lib/logger';
import { startWorker } from '../../src/mail/worker';
import { Maintenance, retentionCutoff } from '../../src/domain/maintenance';
import { AccessHistory } from '../../src/domain/access-history';
import { Audit } from '../../src/domain/audit';
import { translator } from '../../src/i18n';
import { textOf } from '../support/html';
import type request from 'supertest';

const MAILBOX = 'studio.rossi@pec.example.it';
const OTHER = 'studio.verdi@pec.example.it';
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

const CHROME_ON_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
const SAFARI_ON_IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';
const FIREFOX_ON_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';

/**
 * The records of a CSV answer (after the BOM), as a spreadsheet splits them on `separator`: quoted
 * cells may hold the separator, doubled quotes and line breaks.
 */
function csvRows(text: string, separator: ';' | ','): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const body = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < body.length; i += 1) {
    const c = body[i] as string;
    if (quoted) {
      if (c === '"' && body[i + 1] === '"') (cell += '"'), (i += 1);
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === separator) row.push(cell), (cell = '');
    else if (c === '\r' && body[i + 1] === '\n') row.push(cell), rows.push(row), (row = []), (cell = ''), (i += 1);
    else cell += c;
  }
  return rows;
}

/** The text of a streamed CSV answer. */
async function csvOf(browser: Browser, url: string): Promise<{ res: request.Response; body: string }> {
  const res = await browser.agent.get(url).buffer(true).parse((r, done) => {
    const chunks: Buffer[] = [];
    r.on('data', (chunk: Buffer) => chunks.push(chunk));
    r.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
  });
  return { res, body: res.body as string };
}

/** The activity table's markup, the break opportunities in long values (<wbr>) left out. */
function activityTable(html: string): string {
  return html.slice(html.indexOf('id="activity-table"')).replace(/<wbr>/g, '');
}

/** The activity table's rows as the owner reads them: each row's cells, as text. */
function activityRows(html: string): string[][] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(activityTable(html))?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map(([, row]) => [...(row as string).matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map(([, cell]) => textOf(cell as string)));
}

for (const { name, create } of DATABASES) {
  describe(`Activity log and access history (${name})`, function () {
    let h: Harness;
    let owner: Browser;

    harnessWithOwner(
      create,
      { mailboxes: [MAILBOX, OTHER] },
      (harness) => (h = harness),
      (signedIn) => (owner = signedIn),
    );

    describe('GET /settings/activity', function () {
      /** Giulia added by the owner on Chrome, her password set on her iPhone, a forgot-password request from Firefox, her deactivation. */
      async function giuliasStory(): Promise<Collaborator> {
        const giulia = await addCollaborator(h, owner, MAILBOX, { firstName: 'Giulia', lastName: 'Bianchi', username: 'giulia.bianchi', referenceEmail: 'giulia@example.org' }, { 'User-Agent': CHROME_ON_WINDOWS });
        const { browser } = await openLink(h, await latestLinkToken(h, giulia));
        expect((await browser.post('/password/new', { password: GOOD_PASSWORD, passwordConfirmation: GOOD_PASSWORD }, { 'User-Agent': SAFARI_ON_IPHONE })).status).to.equal(200);
        const stranger = new Browser(h.app);
        await stranger.get('/password/forgot');
        await stranger.post('/password/forgot', { username: giulia.username }, { 'User-Agent': FIREFOX_ON_LINUX });
        await h.domain.background.settled();
        await owner.post(`/settings/collaborations/${giulia.id}/deactivation`);
        return giulia;
      }

      it('should tell each event as a sentence the owner reads, with the device and the place in words, in it, en and es', async function () {
        const giulia = await giuliasStory();
        const expected = {
          it: [
            ['Hai disattivato l’account di Giulia Bianchi', 'rete locale'],
            ['Richiesta di recupero password per giulia.bianchi', 'Firefox su Linux · rete locale'],
            ['Giulia Bianchi ha impostato la password', 'Safari su iPhone · rete locale'],
            ['Hai aggiunto Giulia Bianchi', 'Chrome su Windows · rete locale'],
          ],
          en: [
            ['You deactivated the account of Giulia Bianchi', 'local network'],
            ['Password recovery requested for giulia.bianchi', 'Firefox on Linux · local network'],
            ['Giulia Bianchi set the password', 'Safari on iPhone · local network'],
            ['You added Giulia Bianchi', 'Chrome on Windows · local network'],
          ],
          es: [
            ['Has desactivado la cuenta de Giulia Bianchi', 'red local'],
            ['Solicitud de recuperación de contraseña para giulia.bianchi', 'Firefox en Linux · red local'],
            ['Giulia Bianchi ha establecido la contraseña', 'Safari en iPhone · red local'],
            ['Has añadido a Giulia Bianchi', 'Chrome en Windows · red local'],
          ],
        };
        for (const [language, events] of Object.entries(expected)) {
          await owner.post('/settings/language', { locale: language });
          const res = await owner.get('/settings/activity');
          expect(res.status).to.equal(200);
          const rows = activityRows(res.text);
          expect(rows.map(([, what, where]) => [(what as string).split(giulia.username)[0]?.trim(), where]), language).to.deep.equal(events);
          expect(rows.every(([, what]) => what?.includes(giulia.username)), 'each event names the account').to.equal(true);
          const table = res.text.slice(res.text.indexOf('id="activity-table"'));
          for (const raw of ['127.0.0.1', 'Mozilla/5.0', 'anonimo', 'anonymous', `>${MAILBOX}<`]) expect(table, language).not.to.include(raw);
        }
        await owner.post('/settings/language', { locale: 'it' });
      });

      it('should name a public address shortened, and no place when none is known', async function () {
        const giulia = await addCollaborator(h, owner, MAILBOX, { firstName: 'Giulia', lastName: 'Bianchi', username: 'giulia.bianchi', referenceEmail: 'giulia@example.org' });
        await owner.post(`/settings/collaborations/${giulia.id}/password-link`);
        await owner.post(`/settings/collaborations/${giulia.id}/deactivation`);
        const [deactivated, resent, added] = await h.db.models.AuditEvent.findAll({ order: [['id', 'DESC']] });
        await deactivated?.update({ ip: '203.0.113.7', userAgent: null });
        await resent?.update({ ip: '2001:db8:85a3:8d3:1319:8a2e:370:7348', userAgent: null });
        await added?.update({ ip: null, userAgent: null });
        const rows = activityRows((await owner.get('/settings/activity')).text);
        expect(rows.map(([, , where]) => where)).to.deep.equal(['indirizzo 203.0.113.7', 'indirizzo 2001:db8:85a3:8d3:…', '']);
      });

      it('should record one event for an addition, its invitation included', async function () {
        const c = await addCollaborator(h, owner, MAILBOX);
        const events = await h.db.models.AuditEvent.findAll({ where: { collaboratorId: c.id } });
        expect(events.map((e) => e.action)).to.deep.equal(['collaborator.created']);
        expect(JSON.parse(events[0]?.detail ?? '{}')).to.include({ accessLevel: 'mail_clients', purpose: 'invitation' });
        const res = await owner.get('/settings/activity');
        expect(res.text).to.include('1 evento<');
        const [[, what]] = activityRows(res.text) as [string[]];
        expect(what).to.match(/^Hai aggiunto Mario Rossi mario\.rossi\/studio\.rossi@pec\.example\.it Accesso: Programmi di posta · link valido fino al 9 mar 2026, 10:00 GMT\+1$/);
      });

      it('should show times in Europe/Rome in the reader\'s language while storing UTC', async function () {
        h.clock.set(new Date('2026-07-01T10:30:00.000Z'));
        await addCollaborator(h, owner, MAILBOX);
        const event = await h.db.models.AuditEvent.findOne();
        expect(event?.createdAt.toISOString()).to.equal('2026-07-01T10:30:00.000Z');
        const it = await owner.get('/settings/activity');
        expect(it.text).to.include('datetime="2026-07-01T10:30:00.000Z"');
        expect(it.text).to.include('1 lug 2026, 12:30');
        h.clock.set(new Date('2026-03-02T09:00:00.000Z'));
      });

      it('should filter by collaborator and by action, and give htmx only the table', async function () {
        const mario = await addCollaborator(h, owner, MAILBOX);
        const anna = await addCollaborator(h, owner, MAILBOX, { firstName: 'Anna', lastName: 'Neri', username: 'anna.neri', referenceEmail: 'anna@example.org' });
        await owner.post(`/settings/collaborations/${anna.id}/deactivation`);

        const onlyAnna = await owner.get(`/settings/activity?collaborator=${anna.id}`);
        const annaTable = activityTable(onlyAnna.text);
        expect(annaTable).to.include(anna.username);
        expect(annaTable).not.to.include(mario.username);
        expect(onlyAnna.text).to.match(new RegExp(`<option value="${anna.id}" selected>`));

        const deactivations = await owner.get('/settings/activity?action=collaborator.deactivated', { 'HX-Request': 'true', 'HX-Request-Type': 'partial' });
        expect(deactivations.text).to.match(/^<div id="activity-table">/);
        expect(deactivations.text).not.to.include('<html');
        expect(activityTable(deactivations.text)).to.include(anna.username);
        expect(activityTable(deactivations.text)).not.to.include(mario.username);
        expect(deactivations.text).to.include('1 evento<');

        const unknownAction = await owner.get('/settings/activity?action=drop%20table&collaborator=abc');
        expect(unknownAction.status).to.equal(200);
        expect(unknownAction.text).to.include('3 eventi');
      });

      it('should page the log 50 events at a time', async function () {
        const c = await addCollaborator(h, owner, MAILBOX);
        for (let i = 0; i < 55; i += 1) await owner.post(`/settings/collaborations/${c.id}/password-link`);
        const first = await owner.get('/settings/activity');
        expect(first.text).to.include('56 eventi');
        expect((first.text.match(/<time /g) ?? []).length).to.equal(50);
        expect(first.text).to.include('href="/settings/activity?page=2"');
        const second = await owner.get('/settings/activity?page=2');
        expect((second.text.match(/<time /g) ?? []).length).to.equal(6);
      });

      it('should never show another mailbox\'s events, even when asked for its collaborator', async function () {
        const other = new Browser(h.app);
        await other.signIn(OTHER, OWNER_PASSWORD);
        await other.get('/settings/collaborations');
        const theirs = await addCollaborator(h, other, OTHER, { username: 'spy' });
        const res = await owner.get(`/settings/activity?collaborator=${theirs.id}`);
        expect(res.status).to.equal(200);
        expect(activityTable(res.text)).not.to.include(theirs.username);
        expect(res.text).to.include('0 eventi');
      });
    });

    describe('GET /settings/activity.csv', function () {
      const HEADERS = {
        it: { separator: ';', headers: ['Data e ora (ora italiana)', 'Data e ora (UTC)', 'Attività', 'Dettagli', 'Nome utente', 'Dispositivo', 'Indirizzo IP'], deactivated: 'Il titolare ha disattivato l’account di Niccolò Rossi' },
        en: { separator: ',', headers: ['Date and time (Italian time)', 'Date and time (UTC)', 'Activity', 'Details', 'Username', 'Device', 'IP address'], deactivated: 'The owner deactivated the account of Niccolò Rossi' },
        es: { separator: ';', headers: ['Fecha y hora (hora de Italia)', 'Fecha y hora (UTC)', 'Actividad', 'Detalles', 'Nombre de usuario', 'Dispositivo', 'Dirección IP'], deactivated: 'El titular ha desactivado la cuenta de Niccolò Rossi' },
      } as const;

      for (const [language, expected] of Object.entries(HEADERS)) {
        it(`should export the filtered log for a spreadsheet in ${language}: its separator ('${expected.separator}'), headers, dates and sentences`, async function () {
          await owner.post('/settings/language', { locale: language });
          const c = await addCollaborator(h, owner, MAILBOX, { firstName: 'Niccolò' });
          await owner.post(`/settings/collaborations/${c.id}/access`, { accessLevel: 'send' }, { 'User-Agent': CHROME_ON_WINDOWS });
          await owner.post(`/settings/collaborations/${c.id}/deactivation`, {}, { 'User-Agent': CHROME_ON_WINDOWS });
          const { res, body } = await csvOf(owner, '/settings/activity.csv?action=collaborator.deactivated');
          await owner.post('/settings/language', { locale: 'it' });
          expect(res.status).to.equal(200);
          expect(res.headers['content-type']).to.equal('text/csv; charset=utf-8');
          expect(res.headers['content-disposition']).to.match(/^attachment; filename="?activity-\d{4}-\d{2}-\d{2}\.csv"?$/);
          expect(res.headers['cache-control']).to.equal('no-store');
          expect(body.startsWith('\uFEFF')).to.equal(true);
          const rows = csvRows(body, expected.separator);
          expect(rows[0]).to.deep.equal(expected.headers);
          expect(rows).to.have.length(2);
          // 09:00 UTC on 2 March is 10:00 in Rome: both as Excel reads a date and time, in every language.
          expect(rows[1]).to.deep.equal(['2026-03-02 10:00:00', '2026-03-02 09:00:00', expected.deactivated, '', c.username, translator(language as 'it')('account.deviceOn', { browser: 'Chrome', system: 'Windows' }), '127.0.0.1']);
          // The whole log, in Italian again.
          const all = csvRows((await csvOf(owner, '/settings/activity.csv')).body, ';');
          expect(all.map((row) => row.length), 'every record has all its cells').to.deep.equal([7, 7, 7, 7]);
          const accessChange = all.find((row) => row[2]?.includes('ha modificato l’accesso'));
          expect(accessChange?.[3], 'details in words').to.equal('Accesso: da Programmi di posta a Invio · Non può gestire le impostazioni');
          expect(body + all.flat().join(''), 'no JSON').not.to.match(/[{}]|"\w+":/);
        });
      }

      it('should defuse formulas and keep quotes, separators, line breaks and markup inside their cell', async function () {
        // Names are typed by the owner; the other values are forced here to reach every column.
        const c = await addCollaborator(h, owner, MAILBOX, { firstName: '=HYPERLINK("http://evil.test","x")', lastName: '+1, "two"; <b>' });
        await activate(h, c);
        const d = await addCollaborator(h, owner, MAILBOX, { firstName: '-2+3', lastName: 'Neri', username: 'anna', referenceEmail: 'anna@example.org' });
        await h.db.models.AuditEvent.update({ subject: '@SUM(1+1)*cmd|\' /C calc\'!A0', ip: '-2+3' }, { where: { collaboratorId: d.id } });
        await h.db.models.AuditEvent.create({
          mailboxId: c.mailboxId, collaboratorId: c.id, subject: '<script>alert(1)</script>', actorType: 'collaborator', actorId: c.id, userAgent: '=cmd|" /C calc"',
          actorName: c.username, action: 'app_password.created', ip: '127.0.0.1', detail: JSON.stringify({ name: 'line\r\nbreak; "quoted"', scope: 'read_only' }), createdAt: h.clock.now(),
        });
        const { res, body } = await csvOf(owner, '/settings/activity.csv');
        const rows = csvRows(body, ';');
        expect(rows.map((row) => row.length), 'no value split a record').to.deep.equal([7, 7, 7, 7, 7]);
        const [, app, dAdded, cSet, cAdded] = rows as string[][];
        expect(app?.slice(2, 5)).to.deep.equal(['\'=HYPERLINK("http://evil.test","x") +1, "two"; <b> ha creato una password per le app', '“line\r\nbreak; "quoted"” · Solo leggere (IMAP, POP3)', '<script>alert(1)</script>']);
        expect(cSet?.[2]).to.equal('\'=HYPERLINK("http://evil.test","x") +1, "two"; <b> ha impostato la password');
        expect(cAdded?.[2]).to.equal('Il titolare ha aggiunto =HYPERLINK("http://evil.test","x") +1, "two"; <b>');
        expect(dAdded?.slice(2)).to.deep.equal(['Il titolare ha aggiunto -2+3 Neri', 'Accesso: Programmi di posta · link valido fino al 9 mar 2026, 10:00 GMT+1', '\'@SUM(1+1)*cmd|\' /C calc\'!A0', '', '\'-2+3']);
        // Every cell that a spreadsheet would read as a formula starts with the apostrophe instead.
        for (const cell of rows.flat()) expect(cell).not.to.match(/^[=+\-@\t\r]/);
        expect(res.headers['x-content-type-options']).to.equal('nosniff');
      });

      it('should be the owner\'s only', async function () {
        const c = await addCollaborator(h, owner, MAILBOX, { manageSettings: 'on' });
        await activate(h, c);
        const collaborator = new Browser(h.app);
        await collaborator.signIn(c.username, GOOD_PASSWORD);
        expect((await collaborator.get('/settings/activity.csv')).status).to.equal(404);
        expect((await collaborator.get('/settings/activity')).status).to.equal(404);
        expect((await new Browser(h.app).get('/settings/activity.csv')).headers.location).to.equal('/login');
      });
    });

    describe('retention', function () {
      it('should cut off at the same moment six calendar months earlier', function () {
        expect(retentionCutoff(new Date('2026-09-02T09:00:00.000Z')).toISOString()).to.equal('2026-03-02T09:00:00.000Z');
        expect(retentionCutoff(new Date('2026-08-31T12:00:00.000Z')).toISOString()).to.equal('2026-02-28T12:00:00.000Z');
        expect(retentionCutoff(new Date('2027-01-15T00:00:00.000Z')).toISOString()).to.equal('2026-07-15T00:00:00.000Z');
      });

      it('should prune activity and sign-ins older than six months, at most once an hour', async function () {
        const start = new Date('2026-03-02T09:00:00.000Z');
        h.clock.set(start);
        const old = await addCollaborator(h, owner, MAILBOX);
        await new Browser(h.app).signIn(MAILBOX, 'a wrong password, recorded at the start');
        h.clock.set(new Date('2026-06-01T09:00:00.000Z'));
        await owner.post(`/settings/collaborations/${old.id}/password-link`);
        await new Browser(h.app).signIn(MAILBOX, 'another wrong password, three months later');
        const events = async () => [await h.db.models.AuditEvent.count(), await h.db.models.AccessEvent.count()];
        expect(await events()).to.deep.equal([2, 3]);

        const maintenance = new Maintenance(h.clock, new Audit(h.db, h.clock), new AccessHistory(h.db, h.clock));
        h.clock.set(new Date('2026-09-02T09:00:00.000Z'));
        expect(await maintenance.runIfDue(), 'exactly six months old is still kept').to.deep.equal({ auditEvents: 0, accessEvents: 0 });
        h.clock.advance(HOUR - 1);
        expect(await maintenance.runIfDue(), 'not again within the hour').to.equal(null);
        h.clock.advance(1);
        expect(await maintenance.runIfDue()).to.deep.equal({ auditEvents: 1, accessEvents: 2 });
        expect(await events()).to.deep.equal([1, 1]);
        expect((await h.db.models.AuditEvent.findOne())?.action).to.equal('link.resent');
        h.clock.set(start);
      });

      it('should be run by the outbox worker', async function () {
        await addCollaborator(h, owner, MAILBOX);
        expect(await h.db.models.AuditEvent.count()).to.equal(1);
        h.clock.advance(190 * DAY);
        const maintenance = new Maintenance(h.clock, new Audit(h.db, h.clock), new AccessHistory(h.db, h.clock));
        const worker = startWorker(h.domain.outbox, h.deliver, createLogger('silent'), 3_600_000, [maintenance]);
        worker.poke();
        await worker.stop();
        expect(await h.db.models.AuditEvent.count()).to.equal(0);
        expect(await h.db.models.AccessEvent.count()).to.equal(0);
        h.clock.set(new Date('2026-03-02T09:00:00.000Z'));
      });
    });

    describe('access history', function () {
      it('should record a successful sign-in with IP and user agent, for the owner and for a collaborator', async function () {
        const c = await addCollaborator(h, owner, MAILBOX);
        await activate(h, c);
        const collaborator = new Browser(h.app);
        await collaborator.get('/login');
        const res = await collaborator.post('/login', { username: c.username, password: GOOD_PASSWORD }, { 'User-Agent': 'Thunderbird-Test/1.0 (X11)' });
        expect(res.status).to.equal(303);
        const rows = await h.db.models.AccessEvent.findAll({ order: [['id', 'ASC']] });
        expect(rows.map((r) => [r.principalType, r.username, r.outcome, r.channel])).to.deep.equal([
          ['owner', MAILBOX, 'success', 'web'],
          ['collaborator', c.username, 'success', 'web'],
        ]);
        expect(rows[1]?.userAgent).to.equal('Thunderbird-Test/1.0 (X11)');
        expect(rows[1]?.ip).to.match(/^(::ffff:)?127\.0\.0\.1$/);
        expect(rows[1]?.mailboxId).to.equal(c.mailboxId);
        expect(rows[1]?.collaboratorId).to.equal(c.id);
      });

      it('should record failures: a wrong password against the account, an unknown name truncated, never the password', async function () {
        const c = await addCollaborator(h, owner, MAILBOX);
        await activate(h, c);
        const stranger = new Browser(h.app);
        const secret = 'the-typed-password-must-never-be-stored';
        await stranger.signIn(c.username, secret);
        await stranger.signIn(MAILBOX, secret);
        const long = `${'x'.repeat(100)}/${MAILBOX}`;
        await stranger.signIn(long, secret);
        await stranger.signIn('nobody@nowhere.test', secret);
        const failures = await h.db.models.AccessEvent.findAll({ where: { outcome: 'failure' }, order: [['id', 'ASC']] });
        expect(failures.map((r) => [r.principalType, r.mailboxId, r.collaboratorId, r.username])).to.deep.equal([
          ['collaborator', c.mailboxId, c.id, c.username],
          ['owner', c.mailboxId, null, MAILBOX],
          ['unknown', c.mailboxId, null, long.slice(0, 64)],
          ['unknown', null, null, 'nobody@nowhere.test'],
        ]);
        const [stored] = await h.db.sequelize.query('SELECT * FROM access_events');
        expect(JSON.stringify(stored)).not.to.include(secret);
      });

      it('should show the mailbox\'s sign-ins to its owner, say that mail programs are included, and page', async function () {
        for (let i = 0; i < 3; i += 1) await new Browser(h.app).signIn(MAILBOX, `wrong ${i}`);
        await h.db.models.AccessEvent.bulkCreate(
          Array.from({ length: 50 }, (_, i) => ({
            mailboxId: null, collaboratorId: null, principalType: 'unknown' as const, username: `x${i}`, channel: 'web' as const, outcome: 'failure' as const, ip: null, userAgent: null, createdAt: h.clock.now(),
          })),
        );
        const page = await owner.get('/settings/access-history');
        expect(page.status).to.equal(200);
        expect(page.text).to.include('4 accessi');
        expect(page.text).to.include('dai programmi di posta (IMAP, POP3, SMTP)');
        expect((page.text.match(/badge-failure/g) ?? []).length).to.equal(3);
        expect((page.text.match(/badge-success/g) ?? []).length).to.equal(1);
        expect(page.text).not.to.include('x49');
        const mailbox = await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } });
        await h.db.models.AccessEvent.update({ mailboxId: mailbox?.id ?? null }, { where: { principalType: 'unknown' } });
        const first = await owner.get('/settings/access-history');
        expect(first.text).to.include('href="/settings/access-history?page=2"');
        const second = await owner.get('/settings/access-history?page=2');
        expect((second.text.match(/<time /g) ?? []).length).to.equal(4);
      });

      it('should not show one mailbox\'s sign-ins to another\'s owner', async function () {
        await new Browser(h.app).signIn(OTHER, 'wrong guess at the other mailbox');
        const page = await owner.get('/settings/access-history');
        expect(page.text).not.to.include(OTHER);
      });
    });
  });
}
