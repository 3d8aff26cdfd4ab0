import { expect } from 'chai';
import { Browser, GOOD_PASSWORD, OWNER_PASSWORD, startHarness, type Harness } from '../support/harness';
import { DATABASES, type TestDatabase } from '../support/databases';
import { activate, addCollaborator } from '../support/accounts';

const MAILBOX = 'studio.gialli@pec.example.it';

describe('GET /account/mail-profile.mobileconfig', function () {
  const sqlite = DATABASES[0]!;
  let database: TestDatabase;
  let h: Harness;

  before(async function () {
    database = await sqlite.create();
    h = await startHarness(database.url, { IMAP_HOST: 'imap.pec.example.it', IMAP_PORT: '993', IMAP_SECURITY: 'ssl', SUBMISSION_HOST: 'smtp.pec.example.it', SUBMISSION_PORT: '465', SUBMISSION_SECURITY: 'ssl' });
    await h.mailbox(MAILBOX);
  });

  after(async function () {
    await h.close();
    await database.drop();
  });

  async function collaboratorSignedIn(overrides: Record<string, string>): Promise<Browser> {
    const owner = new Browser(h.app);
    await owner.signIn(MAILBOX, OWNER_PASSWORD);
    await owner.get('/settings/collaborations/new');
    const c = await addCollaborator(h, owner, MAILBOX, overrides);
    await activate(h, c);
    const browser = new Browser(h.app);
    await browser.signIn(c.username, GOOD_PASSWORD);
    return browser;
  }

  it('should give a collaborator with mail-program access an IMAP profile without password', async function () {
    const browser = await collaboratorSignedIn({ username: 'anna', firstName: 'Anna <b>' });
    const account = await browser.get('/account');
    expect(account.text).to.include('/account/mail-profile.mobileconfig');
    const res = await browser.get('/account/mail-profile.mobileconfig');
    expect(res.status).to.equal(200);
    expect(res.headers['content-type']).to.match(/application\/x-apple-aspen-config/);
    const body = res.text || String(res.body);
    expect(body).to.include(`<key>IncomingMailServerUsername</key><string>anna/${MAILBOX}</string>`);
    expect(body).to.include('<key>IncomingMailServerHostName</key><string>imap.pec.example.it</string>');
    expect(body).to.include('<key>OutgoingMailServerPortNumber</key><integer>465</integer>');
    expect(body).to.include('Anna &#60;b&#62;');
    expect(body).not.to.include(GOOD_PASSWORD);
    expect(body).not.to.match(/<key>\w*Password<\/key><string>/);
  });

  it('should answer 404 below mail-program access', async function () {
    const browser = await collaboratorSignedIn({ username: 'bruno', accessLevel: 'send' });
    expect((await browser.get('/account/mail-profile.mobileconfig')).status).to.equal(404);
  });
});
