import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ConnectionError, TimeoutError } from 'sequelize';
import { loggablePath, type LogSink } from '../../lib/logger';
import { NotFound, TooManyAttempts, TooManyEmails, TransitionRefused, ValidationFailed } from '../../domain/errors';
import { wantsFragment, type Pages } from '../render';

interface ErrorView {
  status: number;
  title: string;
  body: string;
  vars?: Record<string, unknown>;
  /** Values the body's text names. */
  params?: Record<string, unknown>;
}

/**
 * The database went away under a query. Sequelize wraps a connection lost mid-query as a plain
 * DatabaseError, with the driver's code on `original`; a closed SQLite handle reports SQLITE_MISUSE.
 * A database closed by its process (shutting down) refuses with a ConnectionError (src/db).
 */
const GONE = ['SQLITE_BUSY', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'SQLITE_MISUSE', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'PROTOCOL_CONNECTION_LOST'];
const databaseGone = (code: string | undefined) => code !== undefined && GONE.includes(code);
/** Retry-After of a 503, in seconds: a process restarting, a database failing over. */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * The 4xx status of an error that is the client's doing: http-errors raised by body-parser (413
 * too large, 415 unsupported charset or encoding, 400 malformed or aborted) and by the router
 * (400 undecodable path). Such errors are answered with their status and never logged as failures.
 */
function clientErrorStatus(error: unknown): number | undefined {
  const { status, statusCode } = error as { status?: unknown; statusCode?: unknown };
  const value = typeof status === 'number' ? status : statusCode;
  return typeof value === 'number' && value >= 400 && value < 500 ? value : undefined;
}

function classify(error: unknown): ErrorView {
  if (error instanceof NotFound) return { status: 404, title: 'errorPage.notFound', body: 'errorPage.notFoundBody' };
  // Forms re-render their own 422; this is input no form of ours sends.
  if (error instanceof ValidationFailed) return { status: 422, title: 'errorPage.badRequest', body: 'errorPage.badRequestBody' };
  if (error instanceof TooManyEmails) {
    const body = error.scope === 'recipient' ? 'errorPage.tooManyEmailsRecipientBody' : 'errorPage.tooManyEmailsMailboxBody';
    return { status: 429, title: 'errorPage.tooManyEmails', body, params: { limit: error.limit, hours: error.windowHours } };
  }
  if (error instanceof TooManyAttempts) return { status: 429, title: 'errorPage.tooMany', body: 'errorPage.tooManyBody' };
  if (error instanceof TransitionRefused) return { status: 409, title: 'errorPage.conflict', body: 'errorPage.conflictBody', vars: { from: error.from } };
  const code = (error as { code?: string }).code;
  const status = clientErrorStatus(error);
  if (code === 'EBADCSRFTOKEN' || status === 403) return { status: 403, title: 'errorPage.forbidden', body: 'errorPage.forbiddenBody' };
  if (error instanceof ConnectionError || error instanceof TimeoutError || databaseGone(code) || databaseGone((error as { original?: { code?: string } }).original?.code)) {
    return { status: 503, title: 'errorPage.unavailable', body: 'errorPage.unavailableBody' };
  }
  if (status === 404) return { status, title: 'errorPage.notFound', body: 'errorPage.notFoundBody' };
  if (status === 429) return { status, title: 'errorPage.tooMany', body: 'errorPage.tooManyBody' };
  if (status !== undefined) return { status, title: 'errorPage.badRequest', body: 'errorPage.badRequestBody' };
  return { status: 500, title: 'errorPage.server', body: 'errorPage.serverBody' };
}

export const notFound: RequestHandler = (_req, _res, next) => next(new NotFound('page'));

/**
 * One page for every failure, in the user's language. An htmx request gets the message in the
 * page's alert region instead of in the element it targeted.
 */
export function errorHandler(logger: LogSink, pages: Pages, home: string): ErrorRequestHandler {
  return async (error, req, res, _next) => {
    const view = classify(error);
    if (view.status >= 500) logger.error({ err: error, method: req.method, path: loggablePath(req.path) }, 'request failed');
    if (res.headersSent) return;
    if (view.status === 503) res.set('Retry-After', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
    if (!res.locals.t) return void res.status(view.status).type('text').send(String(view.status));
    const locals = { ...view, status: view.status, home };
    res.status(view.status);
    if (error instanceof TooManyAttempts) res.set('Retry-After', String(error.retryAfterSeconds));
    if (wantsFragment(req)) res.set({ 'HX-Retarget': '#alerts', 'HX-Reswap': 'innerHTML' });
    try {
      await pages.render(req, res, { page: 'plugin/errors/page', fragment: 'plugin/errors/_alert' }, locals, view.status);
    } catch (failure) {
      // The page itself failed (a host's layout, say): the status still goes out, as plain text.
      logger.error({ err: failure, path: loggablePath(req.path) }, 'error page failed');
      if (!res.headersSent) res.status(view.status).type('text').send(String(view.status));
    }
  };
}
