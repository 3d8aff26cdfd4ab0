/**
 * Mail programs for tests: curl for IMAP, POP3 and SMTP AUTH, sockets holding IMAP, POP3 and submission sessions open,
 * and the Dovecot SASL protocol as Postfix speaks it. Every connection upgrades with STARTTLS and
 * trusts only the test server's certificate, as the shipped configuration requires TLS.
 *
 * Dovecot delays answers after a failed login per client address, even for a later right password
 * from that address; every attempt therefore comes from its own loopback address (127.0.0.N).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';

let lastHost = 10 + Math.floor(Math.random() * 100);

/** A loopback address not used by an earlier attempt of this process (until 250 are used). */
export function nextLoopbackAddress(): string {
  lastHost = lastHost >= 254 ? 2 : lastHost + 1;
  return `127.0.0.${lastHost}`;
}

export interface Attempt {
  ok: boolean;
  /** curl's exit code: 0 success, 67 login refused. */
  exitCode: number;
  output: string;
  from: string;
}

export interface Credentials {
  /** A port that upgrades with STARTTLS (IMAP 143, POP3 110, submission 587 in production). */
  port: number;
  /** The PEM certificate the server presents (Dovecot's caFile in tests). */
  caFile: string;
  username: string;
  password: string;
}

function curl(args: string[], input?: string): Promise<Attempt> {
  const from = nextLoopbackAddress();
  return new Promise((resolve) => {
    const child = execFile(
      'curl',
      ['--silent', '--show-error', '--max-time', '30', '--interface', from, ...args],
      (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        // -1: curl did not run at all (not installed, killed); say why.
        const output = `${stdout}${stderr}${exitCode === -1 && error ? error.message : ''}`;
        resolve({ ok: exitCode === 0, exitCode, output, from });
      },
    );
    child.stdin?.end(input ?? '');
  });
}

/** Logs in over IMAP and lists the folders, as a mail program does first. */
export function imapLogin({ port, caFile, username, password }: Credentials): Promise<Attempt> {
  return curl(['--ssl-reqd', '--cacert', caFile, '--user', `${username}:${password}`, `imap://127.0.0.1:${port}/`]);
}

/** Logs in over POP3 and lists the messages. */
export function pop3Login({ port, caFile, username, password }: Credentials): Promise<Attempt> {
  return curl(['--ssl-reqd', '--cacert', caFile, '--user', `${username}:${password}`, `pop3://127.0.0.1:${port}/`]);
}

export interface Submission extends Credentials {
  from: string;
  to: string;
  message: string;
}

/** Sends a message through SMTP submission with AUTH (curl uses AUTH PLAIN when offered). */
export function smtpSubmit({ port, caFile, username, password, from, to, message }: Submission): Promise<Attempt> {
  return curl(
    ['--ssl-reqd', '--cacert', caFile, '--user', `${username}:${password}`, '--mail-from', from, '--mail-rcpt', to, '--upload-file', '-', `smtp://127.0.0.1:${port}/client.test`],
    message,
  );
}

/** IMAP quoted string: backslash and double quote are escaped. */
function quoted(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export interface HeldSession {
  /**
   * Resolves when the server has said goodbye (IMAP `* BYE`, SMTP `421`) or closed the connection;
   * gives what it sent last and when (Date.now()).
   */
  ended: Promise<{ bye: boolean; text: string; at: number }>;
  close(): void;
}

/** One exchange of a dialog: what to send (nothing: wait for the greeting), and the answers that end it. */
interface Step {
  send: string | null;
  ok: RegExp;
  refused: RegExp;
  /** Upgrade to TLS once this step succeeded (STARTTLS, STLS). */
  starttls?: boolean;
}

/** What a session of each protocol says until it is signed in, and how its server says goodbye. */
function dialog(protocol: 'imap' | 'imap-idle' | 'pop3' | 'submission', username: string, password: string): { steps: Step[]; bye: RegExp } {
  if (protocol === 'pop3') {
    const refused = /^-ERR.*\r\n/m;
    return {
      steps: [
        { send: null, ok: /^\+OK.*\r\n/m, refused },
        { send: 'STLS', ok: /^\+OK.*\r\n/m, refused, starttls: true },
        { send: `USER ${username}`, ok: /^\+OK.*\r\n/m, refused },
        { send: `PASS ${password}`, ok: /^\+OK.*\r\n/m, refused },
      ],
      bye: /^-ERR/m,
    };
  }
  if (protocol === 'submission') {
    const refused = /^[45]\d\d .*\r\n/m;
    const plain = Buffer.from(`\0${username}\0${password}`).toString('base64');
    return {
      steps: [
        { send: null, ok: /^220 .*\r\n/m, refused },
        { send: 'EHLO client.test', ok: /^250 .*\r\n/m, refused },
        { send: 'STARTTLS', ok: /^220 .*\r\n/m, refused, starttls: true },
        { send: 'EHLO client.test', ok: /^250 .*\r\n/m, refused },
        { send: `AUTH PLAIN ${plain}`, ok: /^235 .*\r\n/m, refused },
      ],
      bye: /^421 /m,
    };
  }
  const steps: Step[] = [
    { send: null, ok: /^\* OK.*\r\n/m, refused: /^\* BYE/m },
    { send: 'a0 STARTTLS', ok: /^a0 OK.*\r\n/m, refused: /^a0 (NO|BAD)/m, starttls: true },
    { send: `a1 LOGIN ${quoted(username)} ${quoted(password)}`, ok: /^a1 OK.*\r\n/m, refused: /^a1 (NO|BAD).*\r\n/m },
  ];
  if (protocol === 'imap-idle') steps.push({ send: 'a2 IDLE', ok: /^\+ .*\r\n/m, refused: /^a2 (NO|BAD).*\r\n/m });
  return { steps, bye: /^\* BYE/m };
}

/**
 * Connects to a STARTTLS port, signs in and then stays open, like a mail program left running:
 * IMAP (optionally in IDLE, RFC 2177), POP3 (RFC 1939, STLS per RFC 2595) or SMTP submission
 * (AUTH PLAIN, RFC 4954). Resolves once signed in; rejects when any step is refused.
 */
export function holdSession(protocol: 'imap' | 'imap-idle' | 'pop3' | 'submission', { port, caFile, username, password }: Credentials): Promise<HeldSession> {
  const { steps, bye } = dialog(protocol, username, password);
  return new Promise((resolve, reject) => {
    const plain = net.connect({ host: '127.0.0.1', port, localAddress: nextLoopbackAddress() });
    let socket: net.Socket = plain;
    let step = 0;
    let held = false;
    let received = '';
    let settle: (value: { bye: boolean; text: string; at: number }) => void = () => undefined;
    const ended = new Promise<{ bye: boolean; text: string; at: number }>((done) => (settle = done));
    const end = () => settle({ bye: bye.test(received), text: received.trim(), at: Date.now() });

    const next = () => {
      step += 1;
      received = '';
      const current = steps[step];
      if (!current) {
        held = true;
        resolve({ ended, close: () => socket.destroy() });
      } else if (current.send !== null) socket.write(`${current.send}\r\n`);
    };
    // Bytes, not strings, on the plain socket: TLS takes it over after STARTTLS.
    const onData = (chunk: Buffer | string) => {
      received += chunk.toString();
      if (held) {
        if (bye.test(received)) end();
        return;
      }
      const current = steps[step] as Step;
      if (current.refused.test(received)) {
        socket.destroy();
        reject(new Error(`${protocol}: refused at step ${step}: ${received.trim()}`));
      } else if (current.ok.test(received) && current.starttls) {
        plain.removeAllListeners('data');
        socket = tls.connect({ socket: plain, ca: fs.readFileSync(caFile), servername: 'localhost' }, next);
        socket.on('data', onData);
        socket.on('error', onError);
        socket.on('close', onClose);
      } else if (current.ok.test(received)) next();
    };
    const onError = (error: Error) => (held ? end() : reject(error));
    const onClose = () => {
      if (!held) reject(new Error(`${protocol}: connection closed before signing in: ${received.trim()}`));
      end();
    };
    plain.on('data', onData);
    plain.on('error', onError);
    plain.on('close', () => {
      if (socket === plain) onClose();
    });
  });
}

/**
 * Asks Dovecot's auth socket to check a password exactly as Postfix does with
 * `smtpd_sasl_type = dovecot`: returns true on OK, false on FAIL.
 */
export function postfixSaslCheck(socketPath: string, username: string, password: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    const response = Buffer.from(`\0${username}\0${password}`).toString('base64');
    let received = '';
    socket.setEncoding('utf8');
    socket.setTimeout(30_000, () => socket.destroy(new Error('no answer from the auth socket')));
    socket.on('connect', () => socket.write(`VERSION\t1\t2\nCPID\t${process.pid}\n`));
    socket.on('data', (chunk: string) => {
      const before = received;
      received += chunk;
      if (!before.includes('DONE\n') && received.includes('DONE\n')) {
        // Each attempt from its own client address, as for curl.
        const rip = nextLoopbackAddress();
        // `secured`: Postfix says so once the client has started TLS, which the shipped Dovecot requires.
        socket.write(`AUTH\t1\tPLAIN\tservice=smtp\tnologin\tsecured\tlip=127.0.0.1\trip=${rip}\tresp=${response}\n`);
      }
      const answer = /^(OK|FAIL)\t1\b.*$/m.exec(received);
      if (answer) {
        socket.end();
        resolve(answer[1] === 'OK');
      }
    });
    socket.on('error', reject);
  });
}

/** The server refused to let the session sign in (STARTTLS or AUTH): its reply. */
export class SmtpRefused extends Error {
  constructor(
    readonly code: number,
    readonly text: string,
  ) {
    super(`${code} ${text}`);
  }
}

export interface SmtpSession {
  /** Sends one message in the open session; gives the server's final reply (250 when accepted). */
  send(message: { envelopeFrom: string; headerFrom: string; to: string; subject: string }): Promise<{ code: number; text: string }>;
  /** MAIL FROM and RCPT TO only, leaving the transaction open; 250 when both were accepted. */
  stage(message: { envelopeFrom: string; to: string }): Promise<{ code: number; text: string }>;
  /** DATA for the staged transaction; gives the server's final reply. */
  data(message: { headerFrom: string; to: string; subject: string }): Promise<{ code: number; text: string }>;
  close(): void;
}

/**
 * Python's smtplib as a mail program: connects (TLS as asked), AUTH, then sends on demand, each
 * message on a line of stdin; prints each final reply as a JSON line.
 */
const SMTP_SESSION = `
import json, smtplib, ssl, sys
tls, port, user, password, source, cafile = sys.argv[1:7]
context = ssl.create_default_context(cafile=cafile)
try:
    if tls == 'implicit':
        smtp = smtplib.SMTP_SSL('127.0.0.1', int(port), source_address=(source, 0), timeout=30, context=context)
    else:
        smtp = smtplib.SMTP('127.0.0.1', int(port), source_address=(source, 0), timeout=30)
        if tls == 'starttls':
            smtp.starttls(context=context)
    smtp.login(user, password)
except smtplib.SMTPResponseException as refused:
    print(json.dumps({'code': refused.smtp_code, 'text': refused.smtp_error.decode()}), flush=True)
    sys.exit(0)
print(json.dumps({'code': 235, 'text': 'signed in'}), flush=True)
for line in sys.stdin:
    op, envelope_from, header_from, to, subject = json.loads(line)
    message = f'From: {header_from}\\r\\nTo: {to}\\r\\nSubject: {subject}\\r\\n\\r\\nBody.\\r\\n'
    try:
        if op == 'send':
            smtp.sendmail(envelope_from, [to], message.encode())
            reply = {'code': 250, 'text': 'sent'}
        elif op == 'stage':
            for code, text in (smtp.mail(envelope_from), smtp.rcpt(to)):
                if code >= 400:
                    raise smtplib.SMTPResponseException(code, text)
            reply = {'code': 250, 'text': 'staged'}
        else:
            code, text = smtp.data(message.encode())
            reply = {'code': code, 'text': text.decode()}
    except smtplib.SMTPRecipientsRefused as refused:
        code, text = refused.recipients[to]
        reply = {'code': code, 'text': text.decode()}
    except smtplib.SMTPResponseException as refused:
        reply = {'code': refused.smtp_code, 'text': refused.smtp_error.decode()}
    print(json.dumps(reply), flush=True)
`;

/**
 * Signs in over SMTP and keeps the session open, like a mail program left running: `tls` is
 * `starttls` (port 587) or `implicit` (465), trusting only `caFile`. Resolves once
 * signed in; rejects with SmtpRefused when the server refuses STARTTLS or AUTH, and with an Error
 * when the session ends otherwise.
 */
export function openSmtpSession({ port, caFile, username, password, tls }: Credentials & { tls: 'starttls' | 'implicit' }): Promise<SmtpSession> {
  const child = execFile('python3', ['-c', SMTP_SESSION, tls, String(port), username, password, nextLoopbackAddress(), caFile]);
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let buffered = '';
  let errors = '';
  child.stderr?.on('data', (chunk: string) => (errors += chunk));
  child.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      const waiter = waiting.shift();
      if (waiter) waiter(line);
      else lines.push(line);
    }
  });
  const exited = new Promise<never>((_, reject) => child.once('exit', () => reject(new Error(`the SMTP session ended: ${errors}`))));
  exited.catch(() => undefined);
  const next = () =>
    Promise.race([
      new Promise<{ code: number; text: string }>((resolve) => {
        const take = (line: string) => resolve(JSON.parse(line) as { code: number; text: string });
        const line = lines.shift();
        if (line === undefined) waiting.push(take);
        else take(line);
      }),
      exited,
    ]);
  const session: SmtpSession = {
    send({ envelopeFrom, headerFrom, to, subject }) {
      child.stdin?.write(`${JSON.stringify(['send', envelopeFrom, headerFrom, to, subject])}\n`);
      return next();
    },
    stage({ envelopeFrom, to }) {
      child.stdin?.write(`${JSON.stringify(['stage', envelopeFrom, '', to, ''])}\n`);
      return next();
    },
    data({ headerFrom, to, subject }) {
      child.stdin?.write(`${JSON.stringify(['data', '', headerFrom, to, subject])}\n`);
      return next();
    },
    close: () => child.kill(),
  };
  return next().then(({ code, text }) => {
    if (code === 235) return session;
    throw new SmtpRefused(code, text);
  });
}
