import type { LogSink } from '../lib/logger';
import type { Deliver, FailureListener, Outbox } from './outbox';

/**
 * Work to run between deliveries (the domain's log retention, say): what it did, to be logged, or
 * null when it was not due. The worker knows nothing more of it.
 */
export interface Housekeeping {
  runIfDue(): Promise<object | null>;
}

export interface RunningWorker {
  /** Delivers what is due now, without waiting for the next tick; resolves when that pass has ended. */
  poke(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Each failed attempt in the log: a warning while it will be retried, an error once the message has
 * failed for good. The reason is the server's (secrets cut out); the recipient stays out.
 */
function logFailures(logger: LogSink): FailureListener {
  return ({ final, ...failure }) => {
    if (final) logger.error({ outbox: failure }, 'outbox delivery failed for good: no more attempts');
    else logger.warn({ outbox: failure }, 'outbox delivery attempt failed: will retry');
  };
}

/**
 * Polls the outbox, one pass at a time, never overlapping; after each pass, the hourly maintenance
 * (log retention) when one is given.
 */
export function startWorker(outbox: Outbox, deliver: Deliver, logger: LogSink, intervalMs = 1000, maintenance?: Housekeeping): RunningWorker {
  let running: Promise<void> | null = null;
  let stopped = false;
  const onFailure = logFailures(logger);
  const pass = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) return running;
    // A pass that sent something may have left more behind: the next starts at once, not a tick later.
    let more = false;
    running = outbox
      .runOnce(deliver, onFailure)
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
    return running;
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
