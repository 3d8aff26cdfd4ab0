import { expect } from 'chai';
import express, { type ErrorRequestHandler } from 'express';
import request from 'supertest';
import { autoconfigRouter, type ServedDomains } from '../../src/shell/routes/autoconfig';
import { emailAddressFromAutodiscover, type AutoconfigSettings } from '../../src/mail/autoconfig';

const SETTINGS: AutoconfigSettings = {
  imap: { host: 'imap.pec.example.it', port: 993, security: 'ssl' },
  pop3: { host: 'imap.pec.example.it', port: 995, security: 'ssl' },
  submission: { host: 'smtp.pec.example.it', port: 587, security: 'starttls' },
};
const USERNAME = 'mario.rossi/studio.rossi@pec.example.it';

/** A fixed list of served domains; the database-backed one is tested in mail-setup.test.ts. */
function servedDomains(domains: string[]): ServedDomains {
  return { serves: async (domain) => domains.includes(domain), list: async () => domains };
}

/** An app like the real one: the router first, then a handler that would show a stack trace. */
function app(settings: AutoconfigSettings = SETTINGS, domains: string[] = ['pec.example.it']) {
  const server = express();
  server.use(autoconfigRouter(settings, servedDomains(domains)));
  const leaky: ErrorRequestHandler = (error: Error, _req, res, _next) => {
    res.status(500).type('text').send(error.stack ?? String(error));
  };
  server.use(leaky);
  return server;
}

/** The text of every `<name>` element (namespace prefixes ignored), entities left as they are. */
function texts(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<(?:\\w+:)?${name}(?:\\s[^>]*)?>([^<]*)</(?:\\w+:)?${name}>`, 'g'))].map((m) => m[1]);
}

/** The blocks of every `<name ...>…</name>` element. */
function blocks(xml: string, name: string): string[] {
  return [...xml.matchAll(new RegExp(`<${name}(?:\\s[^>]*)?>[\\s\\S]*?</${name}>`, 'g'))].map((m) => m[0]);
}

function expectNoStack(text: string): void {
  expect(text).to.not.match(/\n\s+at |node_modules|Error:/);
}

function autodiscoverRequest(address: string, prefix = ''): string {
  const p = prefix ? `${prefix}:` : '';
  return `<?xml version="1.0" encoding="utf-8"?>
<${p}Autodiscover xmlns${prefix ? `:${prefix}` : ''}="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <!-- sent by Outlook -->
  <${p}Request>
    <${p}EMailAddress>${address}</${p}EMailAddress>
    <${p}AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</${p}AcceptableResponseSchema>
  </${p}Request>
</${p}Autodiscover>`;
}

describe('Mail program autoconfiguration', () => {
  describe('Thunderbird autoconfig', () => {
    it('answers the configured servers with %EMAILADDRESS% when no address is given', async () => {
      const res = await request(app()).get('/.well-known/autoconfig/mail/config-v1.1.xml').expect(200);
      expect(res.type).to.equal('application/xml');
      expect(res.text).to.match(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<clientConfig version="1.1">/);
      const [incoming, pop3] = blocks(res.text, 'incomingServer');
      const [outgoing] = blocks(res.text, 'outgoingServer');
      expect(incoming).to.include('type="imap"');
      expect(texts(incoming, 'hostname')).to.deep.equal(['imap.pec.example.it']);
      expect(texts(incoming, 'port')).to.deep.equal(['993']);
      expect(texts(incoming, 'socketType')).to.deep.equal(['SSL']);
      expect(texts(incoming, 'username')).to.deep.equal(['%EMAILADDRESS%']);
      expect(pop3).to.include('type="pop3"');
      expect(texts(pop3, 'port')).to.deep.equal(['995']);
      expect(texts(pop3, 'socketType')).to.deep.equal(['SSL']);
      expect(outgoing).to.include('type="smtp"');
      expect(texts(outgoing, 'hostname')).to.deep.equal(['smtp.pec.example.it']);
      expect(texts(outgoing, 'port')).to.deep.equal(['587']);
      expect(texts(outgoing, 'socketType')).to.deep.equal(['STARTTLS']);
      expect(texts(outgoing, 'authentication')).to.deep.equal(['password-cleartext']);
    });

    it("names a collaborator's username, from either path", async () => {
      for (const path of ['/mail/config-v1.1.xml', '/.well-known/autoconfig/mail/config-v1.1.xml']) {
        const res = await request(app()).get(path).query({ emailaddress: USERNAME }).expect(200);
        expect(texts(res.text, 'username')).to.deep.equal([USERNAME, USERNAME, USERNAME]);
        expect(texts(res.text, 'domain')).to.deep.equal(['pec.example.it']);
      }
    });

    it('names a mailbox address as the username, in lower case', async () => {
      const res = await request(app()).get('/mail/config-v1.1.xml').query({ emailaddress: ' Studio.Rossi@PEC.example.it ' }).expect(200);
      expect(texts(res.text, 'username')).to.deep.equal(Array(3).fill('studio.rossi@pec.example.it'));
    });

    it('states the configured security, whatever the port: STARTTLS on 1143, implicit TLS on 2465', async () => {
      const settings: AutoconfigSettings = { ...SETTINGS, imap: { ...SETTINGS.imap, port: 1143, security: 'starttls' }, submission: { ...SETTINGS.submission, port: 2465, security: 'ssl' } };
      const res = await request(app(settings)).get('/mail/config-v1.1.xml').expect(200);
      expect(texts(blocks(res.text, 'incomingServer')[0], 'socketType')).to.deep.equal(['STARTTLS']);
      expect(texts(blocks(res.text, 'outgoingServer')[0], 'socketType')).to.deep.equal(['SSL']);
    });

    it('escapes what it puts in the XML', async () => {
      const res = await request(app({ ...SETTINGS, providerName: 'Studio "Rossi" & <Partners>' }))
        .get('/mail/config-v1.1.xml')
        .expect(200);
      expect(texts(res.text, 'displayName')).to.deep.equal(['Studio &#34;Rossi&#34; &#38; &#60;Partners&#62;']);
    });

    it('refuses an address of neither shape with a clean 400', async () => {
      for (const emailaddress of ['<script>alert(1)</script>@x.it', 'no-at-sign', 'ab/studio.rossi@pec.example.it', 'x/y/z@pec.example.it', `${'a'.repeat(330)}@x.it`]) {
        const res = await request(app()).get('/mail/config-v1.1.xml').query({ emailaddress }).expect(400);
        expect(res.type).to.equal('text/plain');
        expect(res.text).to.not.include('<script>');
        expectNoStack(res.text);
      }
    });

    it('refuses a repeated emailaddress parameter with a clean 400', async () => {
      const res = await request(app()).get(`/mail/config-v1.1.xml?emailaddress=a@b.it&emailaddress=c@d.it`).expect(400);
      expectNoStack(res.text);
    });

    it('answers 404 for a domain it does not serve', async () => {
      const server = app();
      await request(server).get('/mail/config-v1.1.xml').query({ emailaddress: 'someone@elsewhere.example' }).expect(404);
      const res = await request(server).get('/mail/config-v1.1.xml').expect(200);
      expect(texts(res.text, 'domain')).to.deep.equal(['pec.example.it']);
    });
  });

  describe('Microsoft Autodiscover (POX)', () => {
    it('answers IMAP, POP3 and SMTP settings for the address in the request, the mailbox as its address', async () => {
      const res = await request(app())
        .post('/autodiscover/autodiscover.xml')
        .set('Content-Type', 'text/xml; charset=utf-8')
        .send(autodiscoverRequest(USERNAME))
        .expect(200);
      expect(res.type).to.equal('application/xml');
      expect(res.text).to.include('<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">');
      expect(texts(res.text, 'Action')).to.deep.equal(['settings']);
      const [imap, pop3, smtp] = blocks(res.text, 'Protocol');
      expect(texts(res.text, 'AutoDiscoverSMTPAddress')).to.deep.equal(['studio.rossi@pec.example.it']);
      expect(texts(pop3, 'Type')).to.deep.equal(['POP3']);
      expect(texts(pop3, 'Port')).to.deep.equal(['995']);
      expect(texts(pop3, 'LoginName')).to.deep.equal([USERNAME]);
      expect(texts(imap, 'Type')).to.deep.equal(['IMAP']);
      expect(texts(imap, 'Server')).to.deep.equal(['imap.pec.example.it']);
      expect(texts(imap, 'Port')).to.deep.equal(['993']);
      expect(texts(imap, 'Encryption')).to.deep.equal(['SSL']);
      expect(texts(imap, 'LoginName')).to.deep.equal([USERNAME]);
      expect(texts(smtp, 'Type')).to.deep.equal(['SMTP']);
      expect(texts(smtp, 'Server')).to.deep.equal(['smtp.pec.example.it']);
      expect(texts(smtp, 'Port')).to.deep.equal(['587']);
      expect(texts(smtp, 'Encryption')).to.deep.equal(['TLS']);
      expect(texts(smtp, 'LoginName')).to.deep.equal([USERNAME]);
    });

    it('reads a request with namespace prefixes, as application/xml, on the capitalised path', async () => {
      const res = await request(app())
        .post('/Autodiscover/Autodiscover.xml')
        .set('Content-Type', 'application/xml')
        .send(autodiscoverRequest('Studio.Rossi@pec.example.it', 'a'))
        .expect(200);
      expect(texts(res.text, 'LoginName')).to.deep.equal(Array(3).fill('studio.rossi@pec.example.it'));
    });

    const refused: Array<[title: string, body: string]> = [
      ['malformed XML', '<Autodiscover><Request><EMailAddress>a@b.it</Request></Autodiscover>'],
      ['an unclosed document', autodiscoverRequest(USERNAME).replace(/<\/Autodiscover>$/, '')],
      ['text that is not XML', 'hello'],
      ['an empty body', ''],
      ['a request without EMailAddress', '<Autodiscover><Request></Request></Autodiscover>'],
      ['two EMailAddress elements', '<Autodiscover><Request><EMailAddress>a@b.it</EMailAddress><EMailAddress>c@d.it</EMailAddress></Request></Autodiscover>'],
      ['another root element', '<Other><Request><EMailAddress>a@b.it</EMailAddress></Request></Other>'],
      ['a DTD with an entity', `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${autodiscoverRequest('&e;')}`],
      ['an unknown entity', autodiscoverRequest('a&nbsp;@b.it')],
      ['a CDATA section (not needed for an address)', autodiscoverRequest('<![CDATA[a@b.it]]>')],
      ['text after the root element', `${autodiscoverRequest(USERNAME)}trailing`],
      ['an address of neither shape', autodiscoverRequest('not an address')],
    ];
    for (const [title, body] of refused) {
      it(`answers ${title} with a clean 400`, async () => {
        const res = await request(app()).post('/autodiscover/autodiscover.xml').set('Content-Type', 'text/xml').send(body).expect(400);
        expect(res.type).to.equal('application/xml');
        expect(texts(res.text, 'ErrorCode')).to.deep.equal(['600']);
        expectNoStack(res.text);
      });
    }

    it('answers another content type with 415', async () => {
      const res = await request(app()).post('/autodiscover/autodiscover.xml').set('Content-Type', 'application/json').send('{"a":1}').expect(415);
      expectNoStack(res.text);
    });

    it('answers a body over 16 kB with 413, without a stack trace', async () => {
      const res = await request(app())
        .post('/autodiscover/autodiscover.xml')
        .set('Content-Type', 'text/xml')
        .send(autodiscoverRequest(USERNAME).replace('<!-- sent by Outlook -->', `<!-- ${'x'.repeat(17 * 1024)} -->`))
        .expect(413);
      expectNoStack(res.text);
    });

    it('answers a GET with 405 and Allow: POST', async () => {
      const res = await request(app()).get('/autodiscover/autodiscover.xml').expect(405);
      expect(res.headers.allow).to.equal('POST');
    });

    it('decodes the entities of the address before checking it', () => {
      expect(emailAddressFromAutodiscover(autodiscoverRequest('a&amp;b@x.it'))).to.deep.equal({ address: 'a&b@x.it' });
      expect(emailAddressFromAutodiscover(autodiscoverRequest('mario&#47;x@y.it'))).to.deep.equal({ address: 'mario/x@y.it' });
    });
  });
});
