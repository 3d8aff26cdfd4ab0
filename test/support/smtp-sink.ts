import { SMTPServer } from 'smtp-server';
import PostalMime from 'postal-mime';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  messageId: string;
  /** RCPT TO of the SMTP envelope: who the message is actually delivered to. */
  envelopeTo: string[];
  /** The From header, decoded. */
  from: { name: string; address: string };
  to: string[];
  subject: string;
  text: string;
  html: string;
  headers: Array<{ key: string; value: string }>;
}

/** What every test SMTP server shares: plain text on loopback, no authentication, quiet. */
export const TEST_SMTP_OPTIONS = {
  authOptional: true,
  // Pooled client connections stay open; a stopped server must drop them like a dead one.
  closeTimeout: 50,
  disabledCommands: ['STARTTLS'],
  logger: false,
};

/** A real SMTP server in this process that parses and keeps what it receives. */
export class SmtpSink {
  readonly received: ReceivedMail[] = [];
  private server: SMTPServer | null = null;
  private waiters: Array<() => void> = [];
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = new SMTPServer({
      ...TEST_SMTP_OPTIONS,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          PostalMime.parse(Buffer.concat(chunks))
            .then((mail) => {
              this.received.push({
                messageId: mail.messageId ?? '',
                envelopeTo: session.envelope.rcptTo.map((r) => r.address),
                from: { name: mail.from?.name ?? '', address: mail.from && 'address' in mail.from ? (mail.from.address ?? '') : '' },
                to: (mail.to ?? []).map((a) => ('address' in a && a.address ? a.address : '')),
                subject: mail.subject ?? '',
                text: mail.text ?? '',
                html: mail.html ?? '',
                headers: mail.headers.map((h) => ({ key: h.key, value: h.value })),
              });
              this.waiters.splice(0).forEach((w) => w());
              callback();
            })
            .catch(callback);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Resolves once `count` messages have arrived (or fails after `ms`). */
  async waitFor(count: number, ms = 10_000): Promise<ReceivedMail[]> {
    const deadline = Date.now() + ms;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} emails, got ${this.received.length}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
    return this.received;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}

/** The set-password link in an email's text. */
export function linkIn(mail: ReceivedMail): string {
  const match = /https?:\/\/\S+\/password\/[A-Za-z0-9_-]{43}/.exec(mail.text);
  if (!match) throw new Error(`no link in email "${mail.subject}"`);
  return match[0];
}
