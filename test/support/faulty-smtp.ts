import net from 'node:net';
import { SMTPServer } from 'smtp-server';
import PostalMime from 'postal-mime';
import { TEST_SMTP_OPTIONS } from './smtp-sink';

/** What the server does with the next messages. */
export type SmtpBehaviour =
  | { kind: 'accept' }
  /** Answers RCPT TO or the end of DATA with this SMTP code (4xx temporary, 5xx permanent). */
  | { kind: 'refuse'; stage: 'rcpt' | 'data'; code: number }
  /** Reads the whole message, then never answers the final dot: the client waits forever. */
  | { kind: 'stall' };

export interface Delivery {
  messageId: string;
  to: string;
  text: string;
  at: number;
}

const failure = (code: number) => Object.assign(new Error(`${code} refused by the test server`), { responseCode: code });

/**
 * A real SMTP server whose behaviour a test switches at will. It counts what it acknowledged
 * (`delivered`), what it refused, and what it read but never acknowledged (`stalled`).
 */
export class FaultySmtp {
  behaviour: SmtpBehaviour = { kind: 'accept' };
  readonly delivered: Delivery[] = [];
  readonly stalled: Delivery[] = [];
  refused = 0;
  private server: SMTPServer | null = null;
  private waiters: Array<() => void> = [];
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = new SMTPServer({
      ...TEST_SMTP_OPTIONS,
      onRcptTo: (_address, _session, callback) => {
        const b = this.behaviour;
        if (b.kind === 'refuse' && b.stage === 'rcpt') {
          this.refused += 1;
          return callback(failure(b.code));
        }
        callback();
      },
      onData: (stream, _session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const b = this.behaviour;
          PostalMime.parse(Buffer.concat(chunks))
            .then((mail) => {
              const delivery = { messageId: mail.messageId ?? '', to: mail.to?.[0] && 'address' in mail.to[0] ? mail.to[0].address ?? '' : '', text: mail.text ?? '', at: Date.now() };
              if (b.kind === 'stall') {
                this.stalled.push(delivery);
              } else if (b.kind === 'refuse') {
                this.refused += 1;
                callback(failure(b.code));
              } else {
                this.delivered.push(delivery);
                callback();
              }
              this.waiters.splice(0).forEach((w) => w());
            })
            .catch(callback);
        });
      },
    });
    await new Promise<void>((resolve, reject) => {
      this.server?.once('error', reject);
      this.server?.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.server.address() as net.AddressInfo).port;
    return this;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Resolves once the condition holds (checked whenever a message arrives), or fails after `ms`. */
  async until(what: string, condition: () => boolean, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}

/**
 * A TCP server that accepts connections and then says nothing (`greet: false`), or greets like an
 * SMTP server and then goes silent (`greet: true`): a mail server that hangs.
 */
export class SilentServer {
  private readonly sockets = new Set<net.Socket>();
  private server: net.Server | null = null;
  connections = 0;

  constructor(private readonly greet: boolean) {}

  async start(port: number): Promise<this> {
    this.server = net.createServer((socket) => {
      this.connections += 1;
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => undefined);
      if (this.greet) socket.write('220 silent.test ESMTP\r\n');
    });
    await new Promise<void>((resolve) => this.server?.listen(port, '127.0.0.1', () => resolve()));
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}

/** A loopback port with nothing listening on it (yet). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A real SMTP server that offers only `method` and refuses every login, quoting back what the
 * client sent, as some servers do: AUTH PLAIN's base64 of `\0user\0password`, or AUTH LOGIN's
 * base64 user and base64 password.
 */
export async function echoingAuthServer(method: 'PLAIN' | 'LOGIN'): Promise<{ port: number; attempts: number; stop(): Promise<void> }> {
  const state: { port: number; attempts: number; stop(): Promise<void> } = { port: 0, attempts: 0, stop: async () => undefined };
  const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  const server = new SMTPServer({
    ...TEST_SMTP_OPTIONS,
    authOptional: false,
    authMethods: [method],
    allowInsecureAuth: true,
    onAuth: ({ username, password }, _session, callback) => {
      state.attempts += 1;
      const [user, pass] = [username ?? '', password ?? ''];
      const sent = method === 'PLAIN' ? base64(`\0${user}\0${pass}`) : `${base64(user)} ${base64(pass)}`;
      callback(Object.assign(new Error(`5.7.8 Authentication failed, bad token ${sent}`), { responseCode: 535 }));
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.server.address() as net.AddressInfo).port;
  state.stop = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return state;
}
