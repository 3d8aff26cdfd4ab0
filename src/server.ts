import { loadConfig } from './config';
import { openDatabase } from './db';
import { createDomain } from './domain';
import { systemClock } from './domain/clock';
import { createApp } from './app';
import { createLogger } from './logger';
import { DEMO, seedDemo } from './db/seed';
import { devOutboxFolder, outboxDeliverer, transportFor } from './mail/transport';
import { startWorker } from './mail/worker';

/** The process entry: database, worker, HTTP. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const db = await openDatabase(config.databaseUrl);
  const domain = createDomain(db, config, systemClock);
  const seeded = config.env !== 'production' && db.dialect === 'sqlite' && (await seedDemo(domain));

  const transport = transportFor(config);
  const worker = config.inProcessWorker ? startWorker(domain.outbox, outboxDeliverer(config, transport), logger) : null;
  const devMailFolder = !config.smtpUrl && config.env !== 'production' ? devOutboxFolder(config) : undefined;
  const { app, close } = createApp({ domain, logger, devMailFolder });
  const server = app.listen(config.port, () => {
    logger.info({ url: config.baseUrl, database: db.dialect }, 'listening');
    console.log(`\nPEC collaborations running at ${config.baseUrl}`);
    if (seeded) {
      console.log(`Demo mailbox: sign in at ${config.baseUrl}/login as ${DEMO.mailbox} with password "${DEMO.password}"`);
      console.log(`Demo collaborator: giulia.bianchi/${DEMO.mailbox} with password "${DEMO.collaboratorPassword}"`);
    }
    if (devMailFolder) console.log(`Emails are not sent: read them at ${config.baseUrl}/dev/mail`);
  });

  const shutdown = async () => {
    server.close();
    await worker?.stop();
    close();
    transport.close();
    await db.close();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
