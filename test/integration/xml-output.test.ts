/**
 * Every XML document the app writes (Apple profile, Thunderbird autoconfig, Autodiscover) parses in a
 * real XML parser, whatever text reaches it: a name written before names were checked, or settings
 * with characters XML forbids. What XML 1.0 forbids does not depend on the database: SQLite only.
 */
import { expect } from 'chai';
import request from 'supertest';
import { DATABASES, type TestDatabase } from '../support/databases';
import { Browser, GOOD_PASSWORD, startHarness, type Harness } from '../support/harness';
import { XmlParser } from '../support/xml';
import { hashPassword } from '../../src/domain/passwords';
import { autodiscoverResponse, parseMailAddress, thunderbirdConfig, type AutoconfigSettings } from '../../src/mail/autoconfig';

const MAILBOX = 'studio.gialli@pec.example.it';
const sqlite = DATABASES.find((d) => d.name === 'SQLite') as (typeof DATABASES)[number];

describe('XML documents in a real XML parser (Chromium)', function () {
  this.timeout(60_000);
  let database: TestDatabase;
  let h: Harness;
  let parser: XmlParser;

  before(async function () {
    database = await sqlite.create();
    h = await startHarness(database.url, { IMAP_HOST: 'imap.pec.example.it', SUBMISSION_HOST: 'smtp.pec.example.it' });
    await h.mailbox(MAILBOX);
    parser = await XmlParser.start();
  });

  after(async function () {
    await parser?.close();
    await h?.close();
    await database?.drop();
  });

  it('should write a .mobileconfig that parses when the name holds U+FFFF and a C0 control (a row from before the check)', async function () {
    const mailbox = await h.db.models.Mailbox.findOne({ where: { address: MAILBOX } });
    // Written straight into the table, as rows created before names were checked may be.
    const c = await h.db.models.Collaborator.create({
      mailboxId: mailbox!.id,
      firstName: 'Mario\uFFFF',
      lastName: 'Ros\u0001si',
      username: `mario/${MAILBOX}`,
      referenceEmail: 'mario@example.com',
      accessLevel: 'mail_clients',
      manageSettings: false,
      status: 'active',
      passwordHash: await hashPassword(GOOD_PASSWORD, 4),
      deactivatedAt: null,
    });
    const browser = new Browser(h.app);
    expect((await browser.signIn(c.username, GOOD_PASSWORD)).status).to.equal(303);
    const res = await browser.get('/account/mail-profile.mobileconfig');
    expect(res.status).to.equal(200);
    const xml = res.text || String(res.body);
    expect(await parser.error(xml)).to.equal(null);
    expect(await parser.texts(xml, 'string')).to.include('Mario\uFFFD Ros\uFFFDsi');
  });

  it('should write autoconfig and Autodiscover answers that parse whatever characters the settings hold', async function () {
    const settings: AutoconfigSettings = {
      imap: { host: 'imap.pec.example.it', port: 993, security: 'ssl' },
      pop3: { host: 'imap.pec.example.it', port: 995, security: 'ssl' },
      submission: { host: 'smtp.pec.example.it', port: 465, security: 'ssl' },
      providerName: 'PEC \uFFFF Provider\u0000 <&>',
    };
    const address = parseMailAddress(`mario/${MAILBOX}`)!;
    for (const xml of [thunderbirdConfig(settings, null, ['pec.example.it']), thunderbirdConfig(settings, address, []), autodiscoverResponse(settings, address)]) {
      expect(await parser.error(xml)).to.equal(null);
    }
    expect(await parser.texts(thunderbirdConfig(settings, address, []), 'displayName')).to.deep.equal(['PEC \uFFFD Provider\uFFFD <&>']);
  });

  it('should serve autoconfig and Autodiscover documents that parse', async function () {
    const autoconfig = await request(h.app).get('/mail/config-v1.1.xml').query({ emailaddress: `mario/${MAILBOX}` });
    expect(await parser.error(autoconfig.text)).to.equal(null);
    const body = `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>${MAILBOX}</EMailAddress></Request></Autodiscover>`;
    const autodiscover = await request(h.app).post('/autodiscover/autodiscover.xml').set('Content-Type', 'text/xml').send(body);
    expect(autodiscover.status).to.equal(200);
    expect(await parser.error(autodiscover.text)).to.equal(null);
  });
});
