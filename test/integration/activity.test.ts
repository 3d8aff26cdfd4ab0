import { expect } from 'chai';
import { DATABASES } from '../support/databases';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, harnessWithOwner, type Harness } from '../support/harness';
import { activate, addCollaborator } from '../support/accounts';
import { createLogger } from '../../src/lib/logger';
import { startWorker } from '../../src/mail/worker';
import { Maintenance, retentionCutoff } from '../../src/domain/maintenance';
import { AccessHistory } from '../../src/domain/access-history';
import { Audit } from '../../src/domain/audit';
import { translator } from '../../src/i18n';

const MAILBOX = 'studio.rossi@pec.example.it';
const OTHER = 'studio.verdi@pec.example.it';
const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

/** The rows of a CSV answer (after the BOM), each split into its unquoted cells. */
function csvRows(text: string): string[][] {
  return text
    .replace(/^\uFEFF/, '')
    .split('\r\n')
    .filter((line) => line !== '')
    .map((line) => [...line.matchAll(/"((?:[^"]|"")*)"(?:,|$)/g)].map((m) => (m[1] as string).replace(/""/g, '"')));
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
      it('should list every action on collaborators with actor, action, collaborator and client IP', async function () {
        const c = await addCollaborator(h, owner, MAILBOX);
        await owner.post(`/settings/collaborations/${c.id}/password-link`);
        await owner.post(`/settings/collaborations/${c.id}/deactivation`);
        const res = await owner.get('/settings/activity');
        expect(res.status).to.equal(200);
        expect(res.text).to.include('aria-current="page"');
        const table = res.text.slice(res.text.indexOf('id="activity-table"'));
        for (const action of ['collaborator.created', 'link.sent', 'link.resent', 'collaborator.deactivated']) {
          expect(table, action).to.include(translator('it')(`audit.${action}`));
        }
        expect(table).to.include(c.username);
        expect(table).to.include(MAILBOX);
        expect(table).to.match(/<td>(::ffff:)?127\.0\.0\.1<\/td>/);
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
        const annaTable = onlyAnna.text.slice(onlyAnna.text.indexOf('id="activity-table"'));
        expect(annaTable).to.include(anna.username);
        expect(annaTable).not.to.include(mario.username);
        expect(onlyAnna.text).to.match(new RegExp(`<option value="${anna.id}" selected>`));

        const deactivations = await owner.get('/settings/activity?action=collaborator.deactivated', { 'HX-Request': 'true', 'HX-Request-Type': 'partial' });
        expect(deactivations.text).to.match(/^<div id="activity-table">/);
        expect(deactivations.text).not.to.include('<html');
        expect(deactivations.text).to.include(anna.username);
        expect(deactivations.text).not.to.include(mario.username);
        expect(deactivations.text).to.include('1 evento<');

        const unknownAction = await owner.get('/settings/activity?action=drop%20table&collaborator=abc');
        expect(unknownAction.status).to.equal(200);
        expect(unknownAction.text).to.include('5 eventi');
      });

      it('should page the log 50 events at a time', async function () {
        const c = await addCollaborator(h, owner, MAILBOX);
        for (let i = 0; i < 55; i += 1) await owner.post(`/settings/collaborations/${c.id}/password-link`);
        const first = await owner.get('/settings/activity');
        expect(first.text).to.include('57 eventi');
        expect((first.text.match(/<time /g) ?? []).length).to.equal(50);
        expect(first.text).to.include('href="/settings/activity?page=2"');
        const second = await owner.get('/settings/activity?page=2');
        expect((second.text.match(/<time /g) ?? []).length).to.equal(7);
      });

      it('should never show another mailbox\'s events, even when asked for its collaborator', async function () {
        const other = new Browser(h.app);
        await other.signIn(OTHER, OWNER_PASSWORD);
        await other.get('/settings/collaborations');
        const theirs = await addCollaborator(h, other, OTHER, { username: 'spy' });
        const res = await owner.get(`/settings/activity?collaborator=${theirs.id}`);
        expect(res.status).to.equal(200);
        expect(res.text).not.to.include(theirs.username);
        expect(res.text).to.include('0 eventi');
      });
    });

    describe('GET /settings/activity.csv', function () {
      it('should export the filtered log as an Excel-ready attachment', async function () {
        const c = await addCollaborator(h, owner, MAILBOX, { firstName: 'Niccolò' });
        await owner.post(`/settings/collaborations/${c.id}/deactivation`);
        const res = await owner.agent.get('/settings/activity.csv?action=collaborator.deactivated').buffer(true).parse((r, done) => {
          const chunks: Buffer[] = [];
          r.on('data', (chunk: Buffer) => chunks.push(chunk));
          r.on('end', () => done(null, Buffer.concat(chunks).toString('utf8')));
        });
        expect(res.status).to.equal(200);
        expect(res.headers['content-type']).to.equal('text/csv; charset=utf-8');
        expect(res.headers['content-disposition']).to.match(/^attachment; filename="?activity-\d{4}-\d{2}-\d{2}\.csv"?$/);
        expect(res.headers['cache-control']).to.equal('no-store');
        const body = res.body as string;
        expect(body.startsWith('\uFEFF')).to.equal(true);
        const rows = csvRows(body);
        expect(rows[0]).to.deep.equal(['utc', 'europe_rome', 'actor', 'actor_type', 'action', 'action_code', 'collaborator', 'collaborator_name', 'ip', 'detail']);
        expect(rows).to.have.length(2);
        expect(rows[1]?.[0]).to.equal('2026-03-02T09:00:00.000Z');
        expect(rows[1]?.[1]).to.equal('2 mar 2026, 10:00 GMT+1');
        expect(rows[1]?.slice(2, 8)).to.deep.equal([MAILBOX, 'owner', 'ha disattivato l’account', 'collaborator.deactivated', c.username, 'Niccolò Rossi']);
      });

      it('should defuse formulas and keep quotes, commas, line breaks and markup inside their cell', async function () {
        // Names are typed by the owner; the other values are forced here to reach every column.
        const c = await addCollaborator(h, owner, MAILBOX, { firstName: '=HYPERLINK("http://evil.test","x")', lastName: '+1, "two"; <b>' });
        const d = await addCollaborator(h, owner, MAILBOX, { firstName: '-2+3', lastName: 'Neri', username: 'anna', referenceEmail: 'anna@example.org' });
        await h.db.models.AuditEvent.update({ actorName: '@SUM(1+1)*cmd|\' /C calc\'!A0', ip: '-2+3' }, { where: { collaboratorId: c.id } });
        await h.db.models.AuditEvent.create({
          mailboxId: c.mailboxId, collaboratorId: c.id, subject: '<script>alert(1)</script>', actorType: 'collaborator', actorId: c.id,
          actorName: `${c.firstName} ${c.lastName}`, action: 'password.changed', ip: '127.0.0.1', detail: '{"note":"line\r\nbreak"}', createdAt: h.clock.now(),
        });
        const res = await owner.agent.get('/settings/activity.csv').buffer(true).parse((r, done) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (chunk: string) => (text += chunk));
          r.on('end', () => done(null, text));
        });
        const body = res.body as string;
        expect(body).to.include('"\'@SUM(1+1)*cmd|\' /C calc\'!A0"');
        expect(body).to.include('"\'-2+3"');
        expect(body).to.include('"\'=HYPERLINK(""http://evil.test"",""x"") +1, ""two""; <b>"');
        expect(body).to.include('"<script>alert(1)</script>"');
        expect(body).to.include('"{""note"":""line\r\nbreak""}"');
        expect(body).to.include('"\'-2+3 Neri"');
        expect(body).to.include(`"${d.username}"`);
        // Every cell that a spreadsheet would read as a formula starts with the apostrophe instead.
        for (const line of body.replace(/^\uFEFF/, '').split('\r\n')) {
          for (const cell of line.split('","')) expect(cell.replace(/^"/, ''), line).not.to.match(/^[=+\-@]/);
        }
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
        expect(await events()).to.deep.equal([3, 3]);

        const maintenance = new Maintenance(h.clock, new Audit(h.db, h.clock), new AccessHistory(h.db, h.clock));
        h.clock.set(new Date('2026-09-02T09:00:00.000Z'));
        expect(await maintenance.runIfDue(), 'exactly six months old is still kept').to.deep.equal({ auditEvents: 0, accessEvents: 0 });
        h.clock.advance(HOUR - 1);
        expect(await maintenance.runIfDue(), 'not again within the hour').to.equal(null);
        h.clock.advance(1);
        expect(await maintenance.runIfDue()).to.deep.equal({ auditEvents: 2, accessEvents: 2 });
        expect(await events()).to.deep.equal([1, 1]);
        expect((await h.db.models.AuditEvent.findOne())?.action).to.equal('link.resent');
        h.clock.set(start);
      });

      it('should be run by the outbox worker', async function () {
        await addCollaborator(h, owner, MAILBOX);
        expect(await h.db.models.AuditEvent.count()).to.equal(2);
        h.clock.advance(190 * DAY);
        const maintenance = new Maintenance(h.clock, new Audit(h.db, h.clock), new AccessHistory(h.db, h.clock));
        const worker = startWorker(h.domain.outbox, h.deliver, createLogger('silent'), 3_600_000, maintenance);
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
