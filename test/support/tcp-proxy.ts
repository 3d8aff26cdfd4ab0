import net from 'node:net';

/**
 * A TCP proxy between the app and its database server, to make the database go away for real:
 * `cutWhen(marker)` drops every connection the moment the app sends bytes containing the marker
 * (that packet never reaches the server), and refuses new connections until `up()`.
 */
export class TcpProxy {
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private server: net.Server | null = null;
  private marker: Buffer | null = null;
  private onCut: (() => void) | null = null;
  private isDown = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<this> {
    this.server = net.createServer((client) => {
      client.on('error', () => undefined);
      if (this.isDown) return void client.destroy();
      const upstream = net.connect(this.targetPort, this.targetHost);
      upstream.on('error', () => client.destroy());
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.pairs.add(pair);
      const forget = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('close', forget);
      upstream.on('close', forget);
      client.on('data', (chunk: Buffer) => {
        if (this.marker && chunk.includes(this.marker)) return this.down();
        upstream.write(chunk);
      });
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** Resolves when the cut has happened. */
  cutWhen(marker: string): Promise<void> {
    this.marker = Buffer.from(marker, 'utf8');
    return new Promise((resolve) => (this.onCut = resolve));
  }

  down(): void {
    this.isDown = true;
    this.marker = null;
    for (const [client, upstream] of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    this.onCut?.();
    this.onCut = null;
  }

  up(): void {
    this.isDown = false;
  }

  async stop(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
