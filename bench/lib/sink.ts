import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server that only counts what it accepts: the mail load measures the sender, not a parser. */
export class CountingSink {
  count = 0;
  /** performance.now() of the first and last message since the last reset. */
  firstAt = 0;
  lastAt = 0;
  private server: SMTPServer | null = null;
  port = 0;

  async start(): Promise<this> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      closeTimeout: 50,
      onData: (stream, _session, callback) => {
        stream.on('data', () => undefined);
        stream.on('end', () => {
          this.count += 1;
          this.lastAt = performance.now();
          if (this.firstAt === 0) this.firstAt = this.lastAt;
          callback();
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.server.address() as AddressInfo).port;
    return this;
  }

  reset(): void {
    this.firstAt = 0;
    this.lastAt = 0;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Resolves once `count` messages in all have arrived; rejects after `ms`. */
  async waitFor(count: number, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.count < count) {
      if (Date.now() > deadline) throw new Error(`SMTP sink: expected ${count} messages, got ${this.count}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
