import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadConfig } from './config';
import { createDomain } from './domain';
import { systemClock } from './lib/clock';
import { createApp } from './app';
import { createLogger } from './lib/logger';
import { DEMO, seedDemo } from './seed';
import { devOutboxFolder, outboxDeliverer, transportFor } from './mail/transport';
import { startWorker } from './mail/worker';
import { gracefulStop } from './lib/graceful-stop';
import { exitOnStartupFailure, listen, openDatabaseAtStart, startupStep } from './startup';

/**
 * The process entry: configuration, database, HTTP, then the worker. Until the port is open, any
 * failure ends the process with status 1 and one line saying what failed (see startup.ts).
 */
async function main(): Promise<void> {
  const config = await startupStep('configuration', () => loadConfig());
  const logger = createLogger(config.logLevel);
  const db = await openDatabaseAtStart(config.databaseUrl, logger);
  const domain = createDomain(db, config, systemClock);
  const seeded = config.demoData && (await startupStep('cannot create the demo data', () => seedDemo(domain)));

  const transport = transportFor(config);
  const devMailFolder = !config.smtpUrl && config.env !== 'production' ? devOutboxFolder(config) : undefined;
  const { app, close } = createApp({ domain, logger, devMailFolder });
  const server = await listen(app, config.port);
  const stopServing = gracefulStop(server);
  // Only once the port is ours: a process that failed to start must not deliver mail either.
  const worker = config.inProcessWorker ? startWorker(domain.outbox, outboxDeliverer(config, transport), logger, undefined, domain.scheduled) : null;
  logger.info({ url: config.baseUrl, port: config.port, database: db.dialect }, 'listening');
  console.log(`\nPEC collaborations running at ${config.baseUrl}`);
  if (seeded) {
    console.log(`Demo mailbox: sign in at ${config.baseUrl}/login as ${DEMO.mailbox} with password "${DEMO.password}"`);
    console.log(`Demo collaborator: giulia.bianchi/${DEMO.mailbox} with password "${DEMO.collaboratorPassword}"`);
  }
  if (devMailFolder) console.log(`Emails are not sent: read them at ${config.baseUrl}/dev/mail`);

  // The database closes last: until the server has answered (or cut, after the grace period) every
  // request it accepted, one of them may still need it.
  const shutdown = async () => {
    const [cut] = await Promise.all([stopServing(config.shutdownGraceMs), worker?.stop()]);
    if (cut) logger.warn({ requests: cut, graceMs: config.shutdownGraceMs }, 'shutdown: requests still running at the end of the grace period were cut');
    close();
    transport.close();
    await domain.background.settled();
    await domain.rateLimits.close();
    await db.close();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

/**
 * Opt-in for the benchmark (BENCH_EVENT_LOOP=1): on SIGUSR2, prints the event loop's delay since the
 * previous signal as one JSON line, in ms (1 ms resolution, so an idle loop reads about 1).
 */
function reportEventLoopDelay(): void {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  process.on('SIGUSR2', () => {
    const { count } = histogram;
    console.log(JSON.stringify({ eventLoopDelay: { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max), count } }));
    histogram.reset();
  });
}

if (process.env.BENCH_EVENT_LOOP === '1') reportEventLoopDelay();

main().catch((error: unknown) => exitOnStartupFailure('PEC collaborations', error));
