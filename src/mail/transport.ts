import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type Transporter, type TransportOptions } from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import type SMTPConnection from 'nodemailer/lib/smtp-connection';
import { isLoopback } from '../lib/ip';
import type { Config } from '../config';
import type { OutboxMessage } from '../models';
import { isLocale, DEFAULT_LOCALE } from '../i18n';
import { buildEmail } from './messages';
import { composeMessage } from './compose';
import { runMailServerCommand, type MailServerCommand } from './doveadm';
import type { EmailPayload, EmailTemplate } from './message-types';
import { DEFAULT_WORKER_OPTIONS, commandEndpoint, type Deliver } from './outbox';

export interface SentMail {
  messageId: string;
  /** The From header as sent, e.g. `"Studio Rossi (via PEC Collaborazioni)" <no-reply@example.it>`. */
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  date: string;
}

/** Where emails go: an SMTP server, or (development) JSON files that /dev/mail shows. */
export interface MailTransport {
  /** `fromName`: the From display name of this email; the address is always the configured one. */
  send(mail: Omit<SentMail, 'date' | 'from'> & { fromName: string }): Promise<void>;
  close(): void;
}

/**
 * The address of MAIL_FROM (`Name <address>` or a bare address): each email puts its own display
 * name in front of it, so the sender's domain (and so SPF and DKIM) never changes.
 */
export function senderAddress(mailFrom: string): string {
  const [first] = addressparser(mailFrom, { flatten: true });
  return first?.address || mailFrom.trim();
}

/** A host name that is this machine: a relay there may take mail without TLS. */
const onThisMachine = (host: string) => host === 'localhost' || isLoopback(host.replace(/^\[|\]$/g, ''));

/**
 * nodemailer's connection options for SMTP_URL, the same for the worker and `check:mail`: the URL's
 * own (host, port, `smtps://`, credentials, `?tls.…`), every wait bounded (`timeoutMs` for the socket,
 * at most 10 s to connect and for the greeting), and STARTTLS **required** on `smtp://` to any host
 * but this machine, so that the password and the messages never cross a network in clear when a
 * server (or a man in the middle) offers no STARTTLS (RFC 8314 §3 asks for TLS to a submission
 * server; nodemailer would otherwise carry on in plain text). `?requireTLS=false` in the URL turns
 * this off explicitly. `auth` is the URL's credentials, if any.
 */
export function smtpConnectionOptions(url: string, timeoutMs: number): SMTPConnection.Options & { auth?: { user: string; pass: string } } {
  const options = parseConnectionUrl(url) as SMTPConnection.Options & { auth?: { user: string; pass: string }; requireTLS?: boolean };
  const requireTLS = options.requireTLS ?? (!options.secure && !onThisMachine(options.host ?? 'localhost'));
  return { ...options, requireTLS, connectionTimeout: Math.min(10_000, timeoutMs), greetingTimeout: Math.min(10_000, timeoutMs), socketTimeout: timeoutMs };
}

/**
 * nodemailer's pooled SMTP transport for SMTP_URL, as the worker sends with it (bench/mail-ceiling.ts
 * measures it alone): one connection per delivery the worker runs at once, each reused for the next
 * emails (nodemailer's defaults: 100 messages a connection, then a new one).
 */
export function smtpPool(url: string, timeoutMs: number): Transporter {
  return nodemailer.createTransport({ ...smtpConnectionOptions(url, timeoutMs), pool: true, maxConnections: DEFAULT_WORKER_OPTIONS.concurrency } as TransportOptions);
}

/** `timeoutMs` bounds every wait on the server; keep it well below the outbox lease. */
export function smtpTransport(url: string, mailFrom: string, timeoutMs = 30_000): MailTransport {
  const address = senderAddress(mailFrom);
  const transporter = smtpPool(url, timeoutMs);
  return {
    async send(mail) {
      // Composed whole (compose.ts), the message leaves in one or two socket writes instead of one per
      // header and part; the envelope is the one nodemailer would take from its headers, and so is the
      // Message-ID it reports (without it, it makes a random one for the raw message it never writes).
      const raw = await composeMessage({ ...mail, fromAddress: address });
      await transporter.sendMail({ raw, envelope: { from: address, to: mail.to }, messageId: mail.messageId });
    },
    close: () => transporter.close(),
  };
}

export function fileTransport(folder: string, mailFrom: string): MailTransport {
  const address = senderAddress(mailFrom);
  return {
    async send({ fromName, ...mail }) {
      await fs.mkdir(folder, { recursive: true });
      const from = `"${fromName.replace(/["\\]/g, '\\$&')}" <${address}>`;
      const record: SentMail = { ...mail, from, date: new Date().toISOString() };
      const name = `${Date.now()}-${mail.messageId.replace(/[^a-zA-Z0-9.-]/g, '')}.json`;
      await fs.writeFile(path.join(folder, name), JSON.stringify(record, null, 2), { mode: 0o600 });
    },
    close: () => undefined,
  };
}

/** The newest messages of the file outbox, newest first. */
export async function readFileOutbox(folder: string, limit = 50): Promise<SentMail[]> {
  const names = await fs.readdir(folder).catch(() => [] as string[]);
  const newest = names.filter((n) => n.endsWith('.json')).sort().reverse().slice(0, limit);
  return Promise.all(newest.map(async (n) => JSON.parse(await fs.readFile(path.join(folder, n), 'utf8')) as SentMail));
}

export function devOutboxFolder(config: Config): string {
  return path.join(config.dataDir, 'mail');
}

export function transportFor(config: Config): MailTransport {
  return config.smtpUrl ? smtpTransport(config.smtpUrl, config.mailFrom, config.smtpTimeoutMs) : fileTransport(devOutboxFolder(config), config.mailFrom);
}

/**
 * Turns an outbox row into an email (built at send time: the link is only in memory) or a call to
 * the one Dovecot the row is for. A command row queued before rows were per endpoint goes to every
 * configured Dovecot.
 */
export function outboxDeliverer(config: Config, transport: MailTransport): Deliver {
  const host = new URL(config.baseUrl).hostname;
  return async (message: OutboxMessage, secret: string | undefined) => {
    if (message.kind === 'doveadm') {
      const { doveadmUrls, doveadmApiKey = '' } = config.mailServer;
      const endpoint = commandEndpoint(message);
      const command: MailServerCommand = message.template === 'flush' ? 'flush' : 'kick';
      for (const url of endpoint ? [endpoint] : doveadmUrls) await runMailServerCommand({ url, apiKey: doveadmApiKey }, command, message.recipient ?? '');
      return null;
    }
    const built = buildEmail({
      template: message.template as EmailTemplate,
      locale: isLocale(message.locale) ? message.locale : DEFAULT_LOCALE,
      payload: JSON.parse(message.payload) as EmailPayload,
      link: secret,
      mailServer: config.mailServer,
      signInUrl: `${config.baseUrl}/login`,
    });
    // Stable per outbox row: a sink can tell a duplicate delivery from two emails.
    const messageId = `<outbox-${message.id}.${message.createdAt.getTime()}@${host}>`;
    await transport.send({ messageId, to: message.recipient ?? '', ...built });
    return messageId;
  };
}
