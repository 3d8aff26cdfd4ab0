import { gracefulStop } from 'pec-collaborations';
import { createHostApp } from './app';

/** `node --import tsx examples/host/server.ts`: the example host on PORT (default 4000). */
async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 4000);
  const { app, feature } = await createHostApp({ BASE_URL: `http://localhost:${port}`, ...process.env });
  const worker = feature.startWorker();
  const server = app.listen(port, () => console.log(`Example host at http://localhost:${port}: pick a mailbox, then Collaborations`));
  const stopServing = gracefulStop(server);

  // The database last: until the server has answered (or, after the grace period, cut) every request
  // it accepted, one of them may still need it.
  const shutdown = async () => {
    await Promise.all([stopServing(feature.domain.config.shutdownGraceMs), worker.stop()]);
    await feature.settled();
    await feature.domain.rateLimits.close();
    await feature.domain.db.close();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

void main();
