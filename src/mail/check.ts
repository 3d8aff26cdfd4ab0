import tls from 'node:tls';
import { format } from 'node:util';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Translate } from '../i18n';
import { redactor, type Redact } from './redact';
import { senderAddress, smtpConnectionOptions } from './transport';
import { doveadmStatus, serverName } from './doveadm';

/**
 * The operator's check of the mail path (`npm run check:mail -- <address>`): a test email through
 * SMTP_URL, step by step, and each doveadm endpoint. Every line is in the operator's language and
 * holds no secret: the SMTP password and user, and the doveadm key, in any form (redact.ts), are cut
 * out of anything a server says, and the client's side of the conversation (AUTH!) is never kept at all.
 */

/** One step of the check, worded: `ok` false stops the SMTP steps there. */
export interface CheckLine {
  ok: boolean;
  text: string;
}

/** The SMTP steps in order; the first refused one names where the path breaks. */
export type SmtpStep = 'connection' | 'tls' | 'login' | 'sender' | 'recipient' | 'message';

interface SmtpError extends Error {
  code?: string;
  command?: string;
  responseCode?: number;
  response?: string;
}

/**
 * The server's replies, from nodemailer's own transaction log: SMTPConnection exposes only the last
 * reply of each call (`lastServerResponse`), not the greeting or the MAIL FROM and RCPT TO replies.
 * Only lines it tags `server` are kept; the client's lines, which carry AUTH, are dropped unread.
 */
class ServerReplies {
  readonly lines: string[] = [];

  readonly logger = {
    level: () => undefined,
    trace: () => undefined,
    info: () => undefined,
    warn: () => undefined,
    error: () => undefined,
    fatal: () => undefined,
    debug: (entry: { tnx?: string }, message: string, ...args: unknown[]) => {
      if (entry?.tnx === 'server') this.lines.push(format(message, ...args));
    },
  };

  /** The replies logged since `mark` (an index into `lines`). */
  since(mark: number): string[] {
    return this.lines.slice(mark);
  }
}

/**
 * Runs one call of the connection to its callback. SMTPConnection reports some failures (a refused
 * socket, a failed handshake) only as an `error` event, never to the callback: either ends the wait.
 */
function settle<T>(connection: SMTPConnection, call: (done: (error?: Error | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const failed = (error: Error) => reject(error);
    connection.once('error', failed);
    call((error, value) => {
      connection.removeListener('error', failed);
      if (error) reject(error);
      else resolve(value as T);
    });
  });
}

const codeOf = (reply: string | undefined) => reply?.match(/^\d{3}/)?.[0] ?? '?';
/** The reply's last line: a multi-line reply (EHLO) ends with the one that counts. */
const lastLine = (reply: string) => reply.trim().split(/\r?\n/).pop() ?? '';

/**
 * The SMTP steps, worded as they pass, with the worker's own connection options (smtpConnectionOptions:
 * its timeouts and its TLS requirement), so that what passes here passes there; throws nothing: a
 * refusal is the last line.
 */
export async function checkSmtp(smtpUrl: string, mailFrom: string, to: string, t: Translate, timeoutMs: number): Promise<CheckLine[]> {
  const replies = new ServerReplies();
  // The credentials go to login() alone, never into the connection's options.
  const { auth, ...options } = smtpConnectionOptions(smtpUrl, timeoutMs);
  const connection = new SMTPConnection({ ...options, logger: replies.logger, transactionLog: true });
  // An error after the one a step reported (the socket closing behind it) has nothing more to say.
  connection.on('error', () => undefined);
  try {
    return await smtpSteps(connection, replies, { host: options.host ?? 'localhost', implicit: options.secure === true, auth, redact: redactor({ smtpUrl }) }, { mailFrom, to, t });
  } finally {
    connection.close();
  }
}

async function smtpSteps(
  connection: SMTPConnection,
  replies: ServerReplies,
  { host, implicit, auth, redact }: { host: string; implicit: boolean; auth: ReturnType<typeof smtpConnectionOptions>['auth']; redact: Redact },
  { mailFrom, to, t }: { mailFrom: string; to: string; t: Translate },
): Promise<CheckLine[]> {
  const credentials = auth ? { user: String(auth.user ?? ''), pass: String(auth.pass ?? '') } : null;
  const clean = (text: string) => redact(text).replace(/\s+/g, ' ').trim();
  const port = connection.port;
  const lines: CheckLine[] = [];
  const pass = (key: string, values: Record<string, unknown>) => lines.push({ ok: true, text: t(`check.smtp.${key}`, values) as string });
  const refuse = (step: SmtpStep, error: SmtpError) => {
    const reply = error.response ? clean(error.response) : clean(`${error.code ?? error.name}: ${error.message}`);
    lines.push({ ok: false, text: t('check.smtp.refused', { step: t(`check.smtp.steps.${step}`), reply }) as string });
    return lines;
  };

  try {
    await settle<unknown>(connection, (done) => connection.connect(done));
  } catch (error) {
    const failed = error as SmtpError;
    // ETLS: the connection was made, its TLS was refused (implicit TLS or STARTTLS).
    if (failed.code === 'ETLS' || /certificate|ssl|tls/i.test(failed.message)) {
      const greeting = replies.lines[0];
      if (greeting) pass('connection', { host, port, code: codeOf(greeting) });
      return refuse('tls', failed);
    }
    return refuse('connection', failed);
  }
  pass('connection', { host, port, code: codeOf(replies.lines[0]) });
  lines.push(tlsLine(connection, implicit, host, t));

  try {
    if (credentials) {
      const mark = replies.lines.length;
      await settle<unknown>(connection, (done) => connection.login(credentials, done));
      const method = (connection as unknown as { _authMethod?: string })._authMethod ?? '?';
      pass('login', { method, reply: clean(lastLine(replies.since(mark).pop() ?? '')) });
    } else {
      pass('noLogin', {});
    }
  } catch (error) {
    return refuse('login', error as SmtpError);
  }

  const from = senderAddress(mailFrom);
  const message = await new MailComposer({
    from: mailFrom,
    to,
    subject: t('check.mail.subject') as string,
    text: t('check.mail.text') as string,
  }).compile().build();
  const mark = replies.lines.length;
  try {
    const info = await settle<SMTPConnection.SentMessageInfo>(connection, (done) => connection.send({ from, to: [to] }, message, done));
    const [mailReply = '', rcptReply = ''] = replies.since(mark);
    pass('sender', { reply: clean(mailReply) });
    pass('recipient', { reply: clean(rcptReply) });
    pass('message', { reply: clean(info.response) });
  } catch (error) {
    const failed = error as SmtpError;
    const step: SmtpStep = failed.command === 'MAIL FROM' ? 'sender' : failed.command === 'RCPT TO' ? 'recipient' : 'message';
    const [mailReply = '', rcptReply = ''] = replies.since(mark);
    if (step !== 'sender') pass('sender', { reply: clean(mailReply) });
    if (step === 'message') pass('recipient', { reply: clean(rcptReply) });
    return refuse(step, failed);
  }
  return lines;
}

const day = (date: string) => new Date(date).toISOString().slice(0, 10);

/** How the connection is protected: STARTTLS or implicit, the protocol, the certificate and its trust for `host`. */
function tlsLine(connection: SMTPConnection, implicit: boolean, host: string, t: Translate): CheckLine {
  const socket = connection._socket;
  if (!(socket instanceof tls.TLSSocket)) return { ok: true, text: t('check.smtp.plain') as string };
  const certificate = socket.getPeerCertificate();
  const hostProblem = tls.checkServerIdentity(host, certificate);
  const problem = socket.authorizationError ? String(socket.authorizationError) : hostProblem?.message;
  const values = {
    mode: implicit ? t('check.smtp.implicit') : 'STARTTLS',
    protocol: socket.getProtocol() ?? '?',
    subject: certificate.subject?.CN ?? '?',
    issuer: certificate.issuer?.CN ?? certificate.issuer?.O ?? '?',
    from: day(certificate.valid_from),
    to: day(certificate.valid_to),
    host,
    problem,
  };
  return { ok: true, text: t(problem ? 'check.smtp.tlsUntrusted' : 'check.smtp.tlsTrusted', values) as string };
}

/**
 * Each doveadm endpoint of DOVEADM_URLS on two lines: reachable (any HTTP answer to a request without
 * the key), then the key accepted (the same request with it: 401 is the key refused). Never the key.
 */
export async function checkDoveadm(urls: readonly string[], apiKey: string, t: Translate, timeoutMs?: number): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  const redact = redactor({ doveadmApiKey: apiKey });
  for (const url of urls) {
    const server = serverName(url);
    try {
      const status = await doveadmStatus(url, undefined, timeoutMs);
      lines.push({ ok: true, text: t('check.doveadm.reachable', { server, status }) as string });
    } catch (error) {
      lines.push({ ok: false, text: t('check.doveadm.unreachable', { server, reason: redact((error as Error).message) }) as string });
      continue;
    }
    const status = await doveadmStatus(url, apiKey, timeoutMs).catch(() => 0);
    const key = status >= 200 && status < 300 ? 'keyAccepted' : status === 401 || status === 403 ? 'keyRefused' : 'keyUnknown';
    lines.push({ ok: key === 'keyAccepted', text: t(`check.doveadm.${key}`, { server, status }) as string });
  }
  return lines;
}
