import type { LogSink } from '../lib/logger';
import type { OutboxMessage } from '../models';
import type { Deliver, FailureListener, Outbox } from './outbox';

/**
 * Work to run between deliveries (the domain's log retention, say): what it did, to be logged, or
 * null when it was not due. The worker knows nothing more of it.
 */
export interface Housekeeping {
  runIfDue(): Promise<object | null>;
}

export interface RunningWorker {
  /** Delivers what is due now (both lanes), without waiting for the next tick; resolves when those passes have ended. */
  poke(): Promise<void>;
  stop(): Promise<void>;
}

/** 1, 2, 4, 8…: the attempts of a never-ending retry that are logged. */
const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

/**
 * Failed attempts in the log: a warning while it will be retried, an error once the message has
 * failed for good. A mail-server command retried every second while its Dovecot is down is logged
 * at attempts 1, 2, 4, 8…, so a long outage stays visible without a line a second. The reason is
 * the server's (secrets cut out); the recipient stays out.
 */
function logFailures(logger: LogSink): FailureListener {
  return ({ final, ...failure }) => {
    if (failure.maxAttempts === null && !isPowerOfTwo(failure.attempt)) return;
    if (final) logger.error({ outbox: failure }, 'outbox delivery failed for good: no more attempts');
    else logger.warn({ outbox: failure }, 'outbox delivery attempt failed: will retry');
  };
}

/**
 * The mail-server lane: claims the due commands (one claim at a time) and sends them without waiting
 * for earlier passes, so a Dovecot that hangs until its timeout holds back no command queued later.
 * A command queued in this process is sent as soon as its transaction commits; a failed one is tried
 * again when its backoff ends, not at the next tick.
 */
function startCommandLane(outbox: Outbox, deliver: Deliver, logger: LogSink, intervalMs: number) {
  let claiming: Promise<OutboxMessage[]> | null = null;
  let stopped = false;
  const sending = new Set<Promise<void>>();
  // One timer for the earliest retry: a pass claims every row then due, however many failed.
  let retry: NodeJS.Timeout | null = null;
  let retryAt = Infinity;
  const logFailure = logFailures(logger);
  const onFailure: FailureListener = (failure) => {
    logFailure(failure);
    if (failure.retryInMs === null) return;
    const at = Date.now() + failure.retryInMs;
    if (retry && at >= retryAt) return;
    if (retry) clearTimeout(retry);
    retryAt = at;
    retry = setTimeout(() => {
      retry = null;
      retryAt = Infinity;
      void pass();
    }, failure.retryInMs);
    retry.unref();
  };
  const pass = async (): Promise<void> => {
    // A claim under way may have read the table before the caller's rows were committed: claim again after it.
    while (claiming) await claiming.catch(() => undefined);
    if (stopped) return;
    let claimed: OutboxMessage[];
    try {
      claiming = outbox.claim('doveadm');
      claimed = await claiming;
    } catch (error) {
      logger.error({ err: error }, 'mail-server commands: claim failed');
      return;
    } finally {
      claiming = null;
    }
    if (claimed.length === 0) return;
    const sent = outbox
      .deliverCommands(claimed, deliver, onFailure)
      .then((count) => {
        if (count > 0) logger.info({ sent: count }, 'mail-server commands delivered');
      })
      .catch((error: unknown) => logger.error({ err: error }, 'mail-server commands: pass failed'))
      .finally(() => sending.delete(sent));
    sending.add(sent);
    await sent;
  };
  const timer = setInterval(() => {
    if (!claiming) void pass();
  }, intervalMs);
  timer.unref();
  const unsubscribe = outbox.onCommandsQueued(() => void pass());
  return {
    pass,
    async stop() {
      stopped = true;
      clearInterval(timer);
      unsubscribe();
      if (retry) clearTimeout(retry);
      await claiming?.catch(() => undefined);
      await Promise.all(sending);
    },
  };
}

/**
 * Polls the outbox in two lanes: mail-server commands (startCommandLane), and emails one pass at a
 * time, never overlapping, each followed by the hourly maintenance (log retention) when one is given.
 * A slow SMTP server delays no command.
 */
export function startWorker(outbox: Outbox, deliver: Deliver, logger: LogSink, intervalMs = 1000, maintenance?: Housekeeping): RunningWorker {
  let running: Promise<void> | null = null;
  let stopped = false;
  const onFailure = logFailures(logger);
  const commands = startCommandLane(outbox, deliver, logger, intervalMs);
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
    poke: async () => {
      await Promise.all([commands.pass(), pass()]);
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([running, commands.stop()]);
    },
  };
}
