import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ConnectionError } from 'sequelize';
import type { Logger } from 'pino';
import { NotFound, TransitionRefused } from '../../domain/errors';
import { wantsFragment } from '../render';

interface ErrorView {
  status: number;
  title: string;
  body: string;
  vars?: Record<string, unknown>;
}

function classify(error: unknown): ErrorView {
  if (error instanceof NotFound) return { status: 404, title: 'errorPage.notFound', body: 'errorPage.notFoundBody' };
  if (error instanceof TransitionRefused) return { status: 409, title: 'errorPage.conflict', body: 'errorPage.conflictBody', vars: { from: error.from } };
  const code = (error as { code?: string }).code;
  if (code === 'EBADCSRFTOKEN' || (error as { status?: number }).status === 403) {
    return { status: 403, title: 'errorPage.forbidden', body: 'errorPage.forbiddenBody' };
  }
  if (error instanceof ConnectionError || ['SQLITE_BUSY', 'ECONNREFUSED', 'PROTOCOL_CONNECTION_LOST'].includes(code ?? '')) {
    return { status: 503, title: 'errorPage.unavailable', body: 'errorPage.unavailableBody' };
  }
  const status = (error as { status?: number }).status;
  if (status === 413 || status === 400) return { status, title: 'errorPage.badRequest', body: 'errorPage.badRequestBody' };
  return { status: 500, title: 'errorPage.server', body: 'errorPage.serverBody' };
}

export const notFound: RequestHandler = (_req, _res, next) => next(new NotFound('page'));

/**
 * One page for every failure, in the user's language. An htmx request gets the message in the
 * page's alert region instead of in the element it targeted.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const view = classify(error);
    if (view.status >= 500) logger.error({ err: error, method: req.method, path: req.path }, 'request failed');
    if (res.headersSent) return;
    if (!res.locals.t) return void res.status(view.status).type('text').send(String(view.status));
    const locals = { ...view, status: view.status };
    res.status(view.status);
    if (wantsFragment(req)) {
      res.set({ 'HX-Retarget': '#alerts', 'HX-Reswap': 'innerHTML' });
      return res.render('errors/_alert', locals);
    }
    res.render('errors/page', locals);
  };
}
