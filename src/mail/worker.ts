import type { Logger } from 'pino';
import type { Deliver, Outbox } from './outbox';
import type { Maintenance } from '../domain/maintenance';

export interface RunningWorker {
  /** Delivers what is due now, without waiting for the next tick. */
  poke(): void;
  stop(): Promise<void>;
}

/**
 * Polls the outbox, one pass at a time, never overlapping; after each pass, the hourly maintenance
 * (log retention) when one is given.
 */
export function startWorker(outbox: Outbox, deliver: Deliver, logger: Logger, intervalMs = 1000, maintenance?: Maintenance): RunningWorker {
  let running: Promise<void> | null = null;
  let stopped = false;
  const pass = () => {
    if (running || stopped) return;
    // A pass that sent something may have left more behind: the next starts at once, not a tick later.
    let more = false;
    running = outbox
      .runOnce(deliver)
      .then((sent) => {
        more = sent > 0;
        if (sent > 0) logger.info({ sent }, 'outbox delivered');
      })
      .catch((error: unknown) => logger.error({ err: error }, 'outbox pass failed'))
      .then(() => maintenance?.runIfDue())
      .then((pruned) => {
        if (pruned) logger.info(pruned, 'old activity pruned');
      })
      .catch((error: unknown) => logger.error({ err: error }, 'maintenance failed'))
      .finally(() => {
        running = null;
        if (more) setImmediate(pass);
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
