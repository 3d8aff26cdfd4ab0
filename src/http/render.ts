import type { Request, Response } from 'express';

/**
 * A fragment only for an htmx request that targets part of the page; history restores and boosted
 * navigations (HX-Request-Type: full) get the whole page.
 */
export function wantsFragment(req: Request): boolean {
  return req.get('HX-Request') === 'true' && req.get('HX-Request-Type') !== 'full';
}

/** Renders the page, or for htmx the fragment the page includes: markup is never written twice. */
export function render(
  req: Request,
  res: Response,
  views: { page: string; fragment?: string },
  locals: Record<string, unknown> = {},
  status = 200,
): void {
  res.vary('HX-Request').vary('HX-Request-Type');
  const view = views.fragment && wantsFragment(req) ? views.fragment : views.page;
  res.status(status).render(view, locals);
}

/** After a plain-form POST: 303 to the next page, with a one-time notice. */
export function redirectWithNotice(req: Request, res: Response, to: string, notice?: string): void {
  if (notice) req.session.notice = notice;
  res.redirect(303, to);
}
