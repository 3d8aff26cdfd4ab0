import type { Logger } from 'pino';
import type { Deliver, Outbox } from './outbox';

export interface RunningWorker {
  /** Delivers what is due now, without waiting for the next tick. */
  poke(): void;
  stop(): Promise<void>;
}

/** Polls the outbox; one pass at a time, never overlapping. */
export function startWorker(outbox: Outbox, deliver: Deliver, logger: Logger, intervalMs = 1000): RunningWorker {
  let running: Promise<void> | null = null;
  let stopped = false;
  const pass = () => {
    if (running || stopped) return;
    running = outbox
      .runOnce(deliver)
      .then((sent) => {
        if (sent > 0) logger.info({ sent }, 'outbox delivered');
      })
      .catch((error: unknown) => logger.error({ err: error }, 'outbox pass failed'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(pass, intervalMs);
  timer.unref();
  return {
    poke: pass,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
