import { loadConfig } from './config';
import { openDatabase } from './db';
import { createDomain } from './domain';
import { systemClock } from './domain/clock';
import { ValidationFailed } from './domain/errors';
import { createLogger } from './logger';
import { outboxDeliverer, transportFor } from './mail/transport';
import { startWorker } from './mail/worker';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

const USAGE = `usage:
  npm run mailbox:create -- <address>   (password on standard input)
  npm run migrate
  npm run worker                        (outbox delivery, alone)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const config = loadConfig();
  const db = await openDatabase(config.databaseUrl);
  const domain = createDomain(db, config, systemClock);
  switch (command) {
    case 'migrate':
      console.log('database is up to date');
      return 0;
    case 'mailbox:create': {
      const address = args[0];
      if (!address) throw new Error(USAGE);
      try {
        const mailbox = await domain.accounts.createMailbox(address, await readStdin());
        console.log(`mailbox ${mailbox.address} created`);
        return 0;
      } catch (error) {
        if (error instanceof ValidationFailed) {
          console.error(`refused: ${Object.values(error.errors).join(', ')}`);
          return 1;
        }
        throw error;
      }
    }
    case 'worker': {
      const logger = createLogger(config.logLevel);
      const worker = startWorker(domain.outbox, outboxDeliverer(config, transportFor(config)), logger, undefined, domain.maintenance);
      logger.info('outbox worker running');
      // The worker's own timer does not hold a process open (it also runs inside the web server):
      // without this, an idle worker on its own would exit as soon as its database sockets go idle.
      const alive = setInterval(() => undefined, 3_600_000);
      await new Promise<void>((resolve) => process.once('SIGTERM', resolve).once('SIGINT', resolve));
      clearInterval(alive);
      await worker.stop();
      return 0;
    }
    default:
      console.error(USAGE);
      return 2;
  }
}

main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
