import type { Clock } from '../lib/clock';
import type { LogSink } from '../lib/logger';
import type { OutboxMessage } from '../models';
import type { Deliver, FailureListener, Outbox } from './outbox';

/**
 * Work the worker runs on its own schedule, beside the deliveries (the domain's log retention, say):
 * `runIfDue` decides whether anything is due and answers what it did, to be logged, or null when
 * nothing was. It is called every polling interval (1 s by default) and never while its previous
 * call is still running; with several workers, each job must make its own claims in the database.
 */
export interface ScheduledJob {
  /** Names the job in the log, e.g. `retention`. */
  readonly name: string;
  runIfDue(): Promise<object | null>;
}

/**
 * A ScheduledJob that runs `run` at most once per `intervalMs` of `clock` in this process (the first
 * call runs it): for work that need not look every second.
 */
export function throttledJob<T extends object>(name: string, clock: Clock, intervalMs: number, run: () => Promise<T | null>): ScheduledJob & { runIfDue(): Promise<T | null> } {
  let last: number | null = null;
  return {
    name,
    runIfDue: async () => {
      const now = clock.now().getTime();
      if (last !== null && now - last < intervalMs) return null;
      last = now;
      return run();
    },
  };
}

export interface RunningWorker {
  /** Delivers what is due now (both lanes) and runs the scheduled jobs, without waiting for the next tick; resolves when those passes have ended. */
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
 * Runs each scheduled job every `intervalMs`, each on its own: a slow job delays neither the others
 * nor a delivery, and a job still running when its next tick comes is not started twice.
 */
function startScheduledLane(jobs: readonly ScheduledJob[], logger: LogSink, intervalMs: number) {
  const running = new Map<ScheduledJob, Promise<void>>();
  let stopped = false;
  const runOne = (job: ScheduledJob): Promise<void> => {
    const current = running.get(job);
    if (current) return current;
    const run = job
      .runIfDue()
      .then((done) => {
        if (done) logger.info({ job: job.name, ...done }, 'scheduled work done');
      })
      .catch((error: unknown) => logger.error({ err: error, job: job.name }, 'scheduled work failed'))
      .finally(() => running.delete(job));
    running.set(job, run);
    return run;
  };
  const pass = async (): Promise<void> => {
    if (!stopped) await Promise.all(jobs.map(runOne));
  };
  const timer = setInterval(() => void pass(), intervalMs);
  timer.unref();
  return {
    pass,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all(running.values());
    },
  };
}

/**
 * Polls the outbox in two lanes, mail-server commands (startCommandLane) and emails one pass at a
 * time, never overlapping, and runs the scheduled jobs (startScheduledLane) in a third. A slow SMTP
 * server delays no command and no scheduled job.
 */
export function startWorker(outbox: Outbox, deliver: Deliver, logger: LogSink, intervalMs = 1000, scheduled: readonly ScheduledJob[] = []): RunningWorker {
  let running: Promise<void> | null = null;
  let stopped = false;
  const onFailure = logFailures(logger);
  const commands = startCommandLane(outbox, deliver, logger, intervalMs);
  const jobs = startScheduledLane(scheduled, logger, intervalMs);
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
      await Promise.all([commands.pass(), pass(), jobs.pass()]);
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all([running, commands.stop(), jobs.stop()]);
    },
  };
}
