import type { RequestHandler } from 'express';

/**
 * `handlers` run one after the other as one middleware, as a Router would run them, without a Router's
 * walk: each of its layers costs a path match, a call through the layer and the prefix trimmed and put
 * back, at every request (the shared steps of a signed-in page were 17 layers of the app's router), and
 * a Router of their own would cost a turn of the event loop where none of them answers.
 * A handler's error, passed to `next`, thrown or rejected, skips the rest and goes on to the caller's
 * error handlers, as in a Router; `next('router')` leaves the Router this is a layer of, as from any of
 * its layers. Not for handlers that call `next('route')` (it would skip the rest of them).
 */
export function inTurn(handlers: readonly RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    let done = 0;
    const step = (err?: unknown): void => {
      if (err || done === handlers.length) return next(err);
      const handler = handlers[done++] as RequestHandler;
      try {
        const returned: unknown = handler(req, res, step);
        if (returned instanceof Promise) returned.catch((error: unknown) => step(error ?? new Error('Rejected promise')));
      } catch (error) {
        step(error ?? new Error('Thrown nothing'));
      }
    };
    step();
  };
}
