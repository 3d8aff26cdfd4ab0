/**
 * `npm run check:mail -- <address>` as the operator runs it (src/cli.ts in a child process) against
 * real servers: an smtp-server that refuses at each step in turn or accepts everything over STARTTLS
 * or implicit TLS, and an HTTP server answering like doveadm. No secret may reach the output.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { echoingAuthServer, freePort } from '../support/faulty-smtp';
import { makeCertificate } from '../support/dovecot';
import { runToEnd } from '../support/processes';
import { SESSION_SECRET } from '../support/harness';

const USER = 'mailer@pec.example.it';
const PASSWORD = 'open sesame, 42 times';
const RECIPIENT = 'operator@example.org';
const API_KEY = 'doveadm key of the tests';

type Refusal = 'greeting' | 'login' | 'sender' | 'recipient' | 'data';

const refused = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });

/** A real SMTP server: TLS with the test certificate, AUTH with USER/PASSWORD, refusing at `refuse`. */
async function smtpServer(
  tls: { key: Buffer; cert: Buffer },
  { implicit = false, refuse, noStartTls = false, host = '127.0.0.1' }: { implicit?: boolean; refuse?: Refusal; noStartTls?: boolean; host?: string },
): Promise<{ port: number; received: number; close(): Promise<void> }> {
  const state: { port: number; received: number; close(): Promise<void> } = { port: 0, received: 0, close: async () => undefined };
  const options: SMTPServerOptions = {
    ...tls,
    secure: implicit,
    hideSTARTTLS: noStartTls,
    // Without STARTTLS a client may only log in in clear if the server allows it.
    allowInsecureAuth: noStartTls,
    logger: false,
    closeTimeout: 50,
    onConnect: (_session, callback) => callback(refuse === 'greeting' ? refused(554, '5.3.2 No service for you') : undefined),
    onAuth: (auth, _session, callback) =>
      refuse !== 'login' && auth.username === USER && auth.password === PASSWORD ? callback(null, { user: auth.username }) : callback(refused(535, '5.7.8 Authentication credentials invalid')),
    onMailFrom: (_address, _session, callback) => callback(refuse === 'sender' ? refused(550, '5.7.1 Sender address not allowed') : undefined),
    onRcptTo: (address, _session, callback) => callback(refuse === 'recipient' ? refused(550, `5.1.1 <${address.address}>: Recipient address rejected: User unknown`) : undefined),
    onData: (stream, _session, callback) => {
      stream.resume();
      stream.on('end', () => {
        if (refuse === 'data') return callback(refused(554, '5.6.0 Message content rejected'));
        state.received += 1;
        callback(null, 'Ok: queued as 4Xk2Lq0Zz9');
      });
    },
  };
  const server = new SMTPServer(options);
  // A client that gives up on the handshake resets the socket: that is its business.
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  state.port = (server.server.address() as AddressInfo).port;
  state.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}

/** Answers like doveadm's HTTP API: 401 unless the key is right, then 200 with the command list. */
async function doveadmServer(): Promise<{ url: string; close(): Promise<void> }> {
  const expected = `X-Dovecot-API ${Buffer.from(API_KEY).toString('base64')}`;
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== expected) return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="doveadm"' }).end();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('[{"command":"kick","parameters":[]}]');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/doveadm/v1`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('npm run check:mail', function () {
  this.timeout(60_000);
  let dir: string;
  let tls: { key: Buffer; cert: Buffer };
  let certFile: string;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'check-mail-'));
    const made = await makeCertificate(dir);
    certFile = made.certFile;
    tls = { key: fs.readFileSync(made.keyFile), cert: fs.readFileSync(made.certFile) };
  });

  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const userinfo = `${encodeURIComponent(USER)}:${encodeURIComponent(PASSWORD)}`;
  const base64 = (text: string) => Buffer.from(text).toString('base64');
  // What AUTH PLAIN and AUTH LOGIN send, base64, each also without its padding.
  const sent = [`\0${USER}\0${PASSWORD}`, `${USER}\0${USER}\0${PASSWORD}`, USER, PASSWORD, API_KEY].map(base64).flatMap((form) => [form, form.replace(/=+$/, '')]);
  const secrets = [PASSWORD, encodeURIComponent(PASSWORD), USER, encodeURIComponent(USER), userinfo, API_KEY, ...sent];

  /** The command's exit code and lines, the operator in English; checks that no secret was printed. */
  async function check(env: Record<string, string>, extra: Record<string, string> = {}): Promise<{ code: number | null; lines: string[] }> {
    const { code, output } = await runToEnd(['src/cli.ts', 'check:mail', RECIPIENT], {
      NODE_ENV: 'test',
      LANG: 'en_US.UTF-8',
      SESSION_SECRET,
      DATA_DIR: dir,
      DATABASE_URL: `sqlite:${path.join(dir, 'unused.sqlite')}`,
      ...env,
      ...extra,
    });
    const text = output.join('\n');
    for (const secret of secrets) expect(text, `the output shows a secret (${secret.length} characters)`).not.to.include(secret);
    return { code, lines: output };
  }

  const smtpUrl = (port: number, { implicit = false, verify = false } = {}) => `${implicit ? 'smtps' : 'smtp'}://${userinfo}@127.0.0.1:${port}${verify ? '' : '?tls.rejectUnauthorized=false'}`;

  describe('SMTP', function () {
    it('should list every step and exit 0 when the server accepts the message over STARTTLS, its self-signed certificate not trusted', async function () {
      const server = await smtpServer(tls, {});
      const { code, lines } = await check({ SMTP_URL: smtpUrl(server.port) });
      await server.close();
      expect(code).to.equal(0);
      expect(server.received).to.equal(1);
      expect(lines[0]).to.equal(`connection: 127.0.0.1 port ${server.port}, greeting 220`);
      expect(lines[1]).to.match(/^TLS: STARTTLS, TLSv1\.[23], certificate of localhost issued by localhost, valid from \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d, NOT trusted for 127\.0\.0\.1 \(DEPTH_ZERO_SELF_SIGNED_CERT\)$/);
      expect(lines.slice(2)).to.deep.equal([
        'login: PLAIN accepted (235 Authentication successful)',
        'sender accepted (MAIL FROM): 250 Accepted',
        'recipient accepted (RCPT TO): 250 Accepted',
        'message accepted (DATA): 250 Ok: queued as 4Xk2Lq0Zz9',
        'DOVEADM_URLS is not set: no mail server is notified, nothing to check',
        'all steps passed',
      ]);
    });

    it('should say the certificate is trusted for the host when its issuer is', async function () {
      const server = await smtpServer(tls, {});
      const { code, lines } = await check({ SMTP_URL: smtpUrl(server.port, { verify: true }) }, { NODE_EXTRA_CA_CERTS: certFile });
      await server.close();
      expect(code).to.equal(0);
      expect(lines[1]).to.match(/^TLS: STARTTLS, .*, trusted for 127\.0\.0\.1$/);
    });

    it('should report implicit TLS', async function () {
      const server = await smtpServer(tls, { implicit: true });
      const { code, lines } = await check({ SMTP_URL: smtpUrl(server.port, { implicit: true }) });
      await server.close();
      expect(code).to.equal(0);
      expect(lines[1]).to.match(/^TLS: implicit TLS, TLSv1\.[23], certificate of localhost/);
      expect(lines).to.include('message accepted (DATA): 250 Ok: queued as 4Xk2Lq0Zz9');
    });

    it('should stop at TLS when the certificate is not trusted and the URL asks it to be', async function () {
      const server = await smtpServer(tls, {});
      const { code, lines } = await check({ SMTP_URL: smtpUrl(server.port, { verify: true }) });
      await server.close();
      expect(code).to.equal(1);
      expect(lines.slice(0, 2)).to.deep.equal([`connection: 127.0.0.1 port ${server.port}, greeting 220`, 'FAILED at TLS: ESOCKET: self-signed certificate']);
      expect(lines.at(-1)).to.equal('the check failed');
    });

    it('should stop at TLS, logging in to nothing, when a server off this machine offers no STARTTLS (emails would travel in clear)', async function () {
      // This machine's own address on its network: not loopback, so STARTTLS is required.
      const address = Object.values(os.networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
      expect(address, 'a network address besides loopback').to.be.a('string');
      const server = await smtpServer(tls, { noStartTls: true, host: '0.0.0.0' });
      const { code, lines } = await check({ SMTP_URL: `smtp://${userinfo}@${address}:${server.port}` });
      expect(code).to.equal(1);
      expect(lines[1]).to.match(/^FAILED at TLS: /);
      // Allowed, explicitly, by the URL; and on this machine (a local relay) without asking.
      expect((await check({ SMTP_URL: `smtp://${userinfo}@${address}:${server.port}?requireTLS=false` })).code).to.equal(0);
      expect((await check({ SMTP_URL: smtpUrl(server.port) })).code).to.equal(0);
      await server.close();
    });

    it('should stop at the connection when nothing listens', async function () {
      const port = await freePort();
      const { code, lines } = await check({ SMTP_URL: smtpUrl(port) });
      expect(code).to.equal(1);
      expect(lines[0]).to.equal(`FAILED at connection: ESOCKET: connect ECONNREFUSED 127.0.0.1:${port}`);
    });

    const refusals: Array<[Refusal, string, string[]]> = [
      ['greeting', 'FAILED at connection: 554 5.3.2 No service for you', []],
      ['login', 'FAILED at login: 535 5.7.8 Authentication credentials invalid', ['connection', 'TLS']],
      ['sender', 'FAILED at sender (MAIL FROM): 550 5.7.1 Sender address not allowed', ['connection', 'TLS', 'login']],
      ['recipient', `FAILED at recipient (RCPT TO): 550 5.1.1 <${RECIPIENT}>: Recipient address rejected: User unknown`, ['connection', 'TLS', 'login', 'sender']],
      ['data', 'FAILED at message (DATA): 554 5.6.0 Message content rejected', ['connection', 'TLS', 'login', 'sender', 'recipient']],
    ];
    for (const [refuse, failure, passed] of refusals) {
      it(`should stop at the ${refuse} refusal with the server's code and text, and exit 1`, async function () {
        const server = await smtpServer(tls, { refuse });
        const { code, lines } = await check({ SMTP_URL: smtpUrl(server.port) });
        await server.close();
        expect(code).to.equal(1);
        const steps = lines.slice(0, passed.length).map((line) => line.split(/[:(]/)[0]?.trim());
        expect(steps).to.deep.equal(passed.map((step) => ({ connection: 'connection', TLS: 'TLS', login: 'login', sender: 'sender accepted', recipient: 'recipient accepted' })[step]));
        expect(lines[passed.length]).to.equal(failure);
        expect(lines.at(-1)).to.equal('the check failed');
        expect(server.received).to.equal(0);
      });
    }

    for (const method of ['PLAIN', 'LOGIN'] as const) {
      it(`should stop at the login refusal of a server that echoes AUTH ${method}'s base64, the credentials cut out`, async function () {
        const server = await echoingAuthServer(method);
        const { code, lines } = await check({ SMTP_URL: smtpUrl(server.port) });
        await server.stop();
        expect(server.attempts).to.equal(1);
        expect(code).to.equal(1);
        const cut = method === 'PLAIN' ? ':redacted' : ':redacted :redacted';
        expect(lines.slice(1, 3)).to.deep.equal(['TLS: none, the server offers no STARTTLS: emails travel unencrypted', `FAILED at login: 535 5.7.8 Authentication failed, bad token ${cut}`]);
      });
    }

    it('should say that emails go to the development file outbox when SMTP_URL is unset', async function () {
      const { code, lines } = await check({});
      expect(code).to.equal(0);
      expect(lines[0]).to.equal(`SMTP_URL is not set: emails go to the development file outbox (${path.join(dir, 'mail')}), nothing to check there`);
    });

    it('should word the steps in the operator\'s language', async function () {
      const server = await smtpServer(tls, {});
      const { lines } = await check({ SMTP_URL: smtpUrl(server.port) }, { LANG: 'it_IT.UTF-8' });
      await server.close();
      expect(lines[0]).to.equal(`connessione: 127.0.0.1 porta ${server.port}, saluto 220`);
      expect(lines.at(-1)).to.equal('tutti i passi riusciti');
    });
  });

  describe('doveadm', function () {
    it('should find each endpoint reachable and its key accepted', async function () {
      const doveadm = await doveadmServer();
      const { code, lines } = await check({ DOVEADM_URLS: doveadm.url, DOVEADM_API_KEY: API_KEY });
      await doveadm.close();
      const server = new URL(doveadm.url).host;
      expect(code).to.equal(0);
      expect(lines.slice(1)).to.deep.equal([`doveadm ${server}: reachable (HTTP 401)`, `doveadm ${server}: key accepted (HTTP 200)`, 'all steps passed']);
    });

    it('should report a refused key and an unreachable endpoint, each on its own line, and exit 1', async function () {
      const doveadm = await doveadmServer();
      const port = await freePort();
      const { code, lines } = await check({ DOVEADM_URLS: `${doveadm.url},http://127.0.0.1:${port}/doveadm/v1`, DOVEADM_API_KEY: `${API_KEY}, but wrong` });
      await doveadm.close();
      expect(code).to.equal(1);
      expect(lines.slice(1)).to.deep.equal([
        `doveadm ${new URL(doveadm.url).host}: reachable (HTTP 401)`,
        `doveadm ${new URL(doveadm.url).host}: FAILED, key refused (HTTP 401): check DOVEADM_API_KEY`,
        `doveadm 127.0.0.1:${port}: FAILED, unreachable (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port})`,
        'the check failed',
      ]);
    });
  });
});
