import type { Request, Response } from 'express';
import type { Pages, Views } from '../plugin';

/** Renders one of the shell's pages with this app's pages (`res.locals.pages`, see app.ts). */
export function render(req: Request, res: Response, views: Views, locals: Record<string, unknown> = {}, status = 200): Promise<void> {
  const pages = res.locals.pages as Pages;
  const shell = (view: string) => `shell/${view}`;
  return pages.render(req, res, { page: shell(views.page), fragment: views.fragment && shell(views.fragment) }, locals, status);
}

/** After a plain-form POST: 303 to the next page, with a one-time notice kept in the session. */
export function redirectWithNotice(req: Request, res: Response, to: string, notice?: string): void {
  if (notice) req.session.notice = notice;
  res.redirect(303, to);
}
