import fs from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import type { Request, Response } from 'express';
import { ROOT } from '../config';

/** Our templates; a host's own views and view engine are never involved in rendering them. */
export const VIEWS = path.join(ROOT, 'views');

/** What a layout receives: one of our pages, ready to be placed in the host's page. */
export interface LayoutPage {
  /**
   * The page's title, translated. For a layout function it is HTML (escaped text), to place as it
   * is, like `body` and `head`; a layout view gets it as plain text, which its engine escapes.
   */
  title: string;
  /** The page's HTML, to place as it is inside the host's `<body>`. */
  body: string;
  /** Our stylesheet, scripts and htmx settings, to place as they are inside `<head>`. */
  head: string;
  /** `it`, `en` or `es`: the page's language, for `<html lang>`. */
  locale: string;
}

/**
 * Where our pages are placed: a function returning the whole HTML document, or the name of a view
 * that the host's own Express view engine renders with the LayoutPage fields as its locals.
 */
export type Layout = string | ((page: LayoutPage, req: Request, res: Response) => string | Promise<string>);

/** Which of our views to render: the whole page, and the fragment an htmx request gets instead. */
export interface Views {
  page: string;
  fragment?: string;
}

/**
 * A fragment only for an htmx request that targets part of the page; history restores and boosted
 * navigations (HX-Request-Type: full) get the whole page.
 */
export function wantsFragment(req: Request): boolean {
  return req.get('HX-Request') === 'true' && req.get('HX-Request-Type') !== 'full';
}

export type Partial = (locals: Record<string, unknown>) => string;

export interface Pages {
  /** Renders one of our views (a path under views/, without `.ejs`) with `res.locals` and `locals`. */
  view(res: Response, view: string, locals?: Record<string, unknown>): Promise<string>;
  /**
   * A view as a function of only the `names` it uses, compiled once (in production): for a partial
   * rendered once per row, without `include`'s file lookup and copies of every local at each call.
   */
  partial(view: string, names: readonly string[]): Partial;
  /** Answers an htmx request with a fragment already rendered. */
  fragment(res: Response, html: string, status?: number): void;
  /** Answers with the page in the layout, or for htmx with the fragment the page includes. */
  render(req: Request, res: Response, views: Views, locals?: Record<string, unknown>, status?: number): Promise<void>;
}

/**
 * Renders our EJS views (cached in production) and places pages in a layout. A page sets its title
 * with `setTitle(…)`; `head(req, res)` gives what the layout must put in `<head>`.
 */
export function pages(layout: Layout, head: (req: Request, res: Response) => string, { cache }: { cache: boolean }): Pages {
  async function view(res: Response, name: string, locals: Record<string, unknown> = {}): Promise<string> {
    return ejs.renderFile(path.join(VIEWS, `${name}.ejs`), { ...res.locals, ...locals }, { cache, async: false });
  }

  const partials = new Map<string, Partial>();
  function partial(name: string, names: readonly string[]): Partial {
    const key = `${name}:${names.join(',')}`;
    let compiled = cache ? partials.get(key) : undefined;
    if (!compiled) {
      const filename = path.join(VIEWS, `${name}.ejs`);
      compiled = ejs.compile(fs.readFileSync(filename, 'utf8'), { filename, _with: false, destructuredLocals: [...names], async: false });
      if (cache) partials.set(key, compiled);
    }
    return compiled;
  }

  function fragment(res: Response, html: string, status = 200): void {
    send(res.vary('HX-Request').vary('HX-Request-Type'), html, status);
  }

  async function place(req: Request, res: Response, page: LayoutPage): Promise<string> {
    if (typeof layout === 'function') return layout({ ...page, title: ejs.escapeXML(page.title) }, req, res);
    return new Promise((resolve, reject) => res.render(layout, page, (err, html) => (err ? reject(err) : resolve(html))));
  }

  return {
    view,
    partial,
    fragment,
    async render(req, res, views, locals = {}, status = 200) {
      if (views.fragment && wantsFragment(req)) return fragment(res, await view(res, views.fragment, locals), status);
      res.vary('HX-Request').vary('HX-Request-Type');
      let title = '';
      const content = await view(res, views.page, { ...locals, setTitle: (text: string) => void (title = text) });
      // One root for our part of the page: htmx settings, the alert region, the one-time notice.
      const body = await view(res, 'plugin/_page', { content });
      const html = await place(req, res, { title, body, head: head(req, res), locale: String(res.locals.locale ?? 'it') });
      send(res, html, status);
    },
  };
}

/**
 * Sends a page without the ETag Express would compute (a SHA-1 of the whole body): our pages are
 * `no-store` and depend on who asks, so no cache may keep them to revalidate.
 */
function send(res: Response, html: string, status: number): void {
  const body = Buffer.from(html);
  res.status(status).type('html').set('Content-Length', String(body.length));
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
