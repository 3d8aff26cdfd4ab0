import { createHostApp } from './app';

/** `node --import tsx examples/host/server.ts`: the example host on PORT (default 4000). */
async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 4000);
  const { app, feature } = await createHostApp({ BASE_URL: `http://localhost:${port}`, ...process.env });
  feature.startWorker();
  app.listen(port, () => console.log(`Example host at http://localhost:${port}: pick a mailbox, then Collaborations`));
}

void main();
