import { once } from 'node:events';
import type { Response } from 'express';
import type { LogSink } from '../lib/logger';
import type { BackgroundTasks } from '../domain/background';

/** Runs work once the answer has been sent, so that its duration never shows in the answer. */
export type AfterResponse = (res: Response, task: () => Promise<unknown>) => void;

export function afterResponse(background: BackgroundTasks, logger: LogSink): AfterResponse {
  return (res, task) =>
    background.run(
      async () => {
        // 'close' comes once the response is complete, or when the client went away: run either way.
        if (!res.writableFinished && !res.destroyed) await once(res, 'close');
        await task();
      },
      (err: unknown) => logger.error({ err }, 'background task failed'),
    );
}
