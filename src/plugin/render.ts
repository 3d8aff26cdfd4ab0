import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import type { Request, Response } from 'express';
import { ROOT } from '../config';
import { escapeXml } from '../lib/text';

/** Our templates; a host's own views and view engine are never involved in rendering them. */
export const VIEWS = path.join(ROOT, 'views');

/** What a layout receives: one of our pages, ready to be placed in the host's page. */
export interface LayoutPage {
  /**
   * The page's title, translated. For a layout function it is HTML (escaped text), to place as it
   * is, like `body` and `head`; a layout view gets it as plain text, which its engine escapes.
   */
  title: string;
  /**
   * The page's HTML, to place as it is (once, unchanged) inside the host's `<body>`: it may hold
   * markers where HTML already rendered goes, filled in after the layout (see Html).
   */
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
  /**
   * The locals the page's view uses, when known: it is then compiled once and given only these, not a
   * copy of every local (for a page asked often; `setTitle` is one).
   */
  pageLocals?: readonly string[];
}

/**
 * A fragment only for an htmx request that targets part of the page; history restores and boosted
 * navigations (HX-Request-Type: full) get the whole page.
 */
export function wantsFragment(req: Request): boolean {
  return req.get('HX-Request') === 'true' && req.get('HX-Request-Type') !== 'full';
}

export type Partial = (locals: Record<string, unknown>) => string;

/**
 * HTML already rendered and encoded (UTF-8), placed as it is and sent without being copied into one
 * string: a page or a list is sent as the pieces it was made of. Why: joining a list of 50 rows into
 * its page made a string of over 100,000 characters, two bytes each as soon as one character is
 * above U+00FF (▲, ⋮, ’); V8 allocates any object over 128 KB in its large-object space, and that
 * allocation, with the UTF-8 copy of a cons-string, was 30% of the page's CPU (1 ms a request on 2
 * cores in a VM). Each piece here is small or encoded once (a reused list is one Buffer).
 */
export type Html = string | Buffer | readonly Buffer[];

/** A marker no value can produce: escaped text never holds `<!--`, and the nonce is this process's secret. */
const SLOT_NONCE = crypto.randomBytes(9).toString('base64url');
const SLOT = new RegExp(`<!--pec-slot ${SLOT_NONCE} (\\d+)-->`);

/**
 * Pieces of HTML placed in a view by marker: `place(piece)` gives the marker the view prints with
 * `<%- … %>`, `fill(output)` the view's output as pieces, each marker replaced by its piece.
 * @throws Error when a marker is missing or doubled in the output (a view or layout that escaped,
 *   dropped or repeated HTML it was given to place as it is).
 */
export class Slots {
  private readonly placed: Array<readonly Buffer[]> = [];

  place(piece: Html): string {
    this.placed.push(encoded(piece));
    return `<!--pec-slot ${SLOT_NONCE} ${this.placed.length - 1}-->`;
  }

  fill(output: string): Buffer[] {
    return this.text(output).map((piece) => (typeof piece === 'string' ? Buffer.from(piece) : piece));
  }

  /** `fill`, the view's own text left as strings: a page's are written as they are, not copied into Buffers first. */
  text(output: string): Array<string | Buffer> {
    const parts = output.split(SLOT);
    const pieces: Array<string | Buffer> = [];
    const seen = new Set<string>();
    parts.forEach((part, i) => {
      if (i % 2 === 0) return void (part && pieces.push(part));
      seen.add(part);
      pieces.push(...(this.placed[Number(part)] ?? []));
    });
    if (seen.size !== this.placed.length || parts.length !== 2 * this.placed.length + 1) {
      throw new Error('a piece of HTML was not placed as it is, or placed twice (by a view or the layout)');
    }
    return pieces;
  }
}

function encoded(html: Html): readonly Buffer[] {
  return typeof html === 'string' ? [Buffer.from(html)] : Buffer.isBuffer(html) ? [html] : html;
}

/** What views/plugin/_page.ejs uses, around every page of ours. */
const PAGE_LOCALS = ['csrfToken', 'notice', 'content'];

export interface Pages {
  /** Renders one of our views (a path under views/, without `.ejs`) with `res.locals` and `locals`. */
  view(res: Response, view: string, locals?: Record<string, unknown>): Promise<string>;
  /** `view`, where a local that is a Buffer is HTML already rendered, placed as it is (see Html). */
  pieces(res: Response, view: string, locals?: Record<string, unknown>): Promise<Buffer[]>;
  /**
   * A view as a function of only the `names` it uses, compiled once (in production): for a partial
   * rendered once per row, without `include`'s file lookup and copies of every local at each call.
   * Its locals are read as given when they have no prototype (`Object.create(null)`; else copied into
   * such an object, as EJS does), so a caller may reuse one object for every row.
   */
  partial(view: string, names: readonly string[]): Partial;
  /** Answers an htmx request with a fragment already rendered. */
  fragment(res: Response, html: Html, status?: number): void;
  /**
   * Answers with the page in the layout, or for htmx with the fragment the page includes; a local
   * that is a Buffer is HTML already rendered, placed as it is and sent without a copy (see Html).
   */
  render(req: Request, res: Response, views: Views, locals?: Record<string, unknown>, status?: number): Promise<void>;
}

/**
 * Renders our EJS views (cached in production) and places pages in a layout. A page sets its title
 * with `setTitle(…)`; `head(req, res)` gives what the layout must put in `<head>`.
 */
export function pages(layout: Layout, head: (req: Request, res: Response) => string, { cache }: { cache: boolean }): Pages {
  // EJS 7's option, which @types/ejs (3.x) does not know yet.
  const renderOptions: ejs.Options & { unsafePrototypeLocals: boolean } = { cache, async: false, unsafePrototypeLocals: true };
  async function view(res: Response, name: string, locals: Record<string, unknown> = {}): Promise<string> {
    // One copy of the locals, without a prototype (no `constructor` or `toString` among the view's
    // names): EJS would make a second of every local otherwise.
    const data = Object.assign(Object.create(null) as Record<string, unknown>, res.locals, locals);
    return ejs.renderFile(path.join(VIEWS, `${name}.ejs`), data, renderOptions);
  }

  const partials = new Map<string, Partial>();
  function partial(name: string, names: readonly string[]): Partial {
    const key = `${name}:${names.join(',')}`;
    let compiled = cache ? partials.get(key) : undefined;
    if (!compiled) {
      const filename = path.join(VIEWS, `${name}.ejs`);
      // Escaped as EJS does, faster (escapeXml); in production without EJS's line bookkeeping for
      // error messages (a statement per line of the template).
      const options: ejs.Options & { async: false; client: false; unsafePrototypeLocals: boolean } = {
        filename,
        _with: false,
        strict: true,
        destructuredLocals: [...names],
        async: false,
        client: false,
        escape: escapeXml,
        compileDebug: !cache,
        // A prototype polluted elsewhere cannot lend a name: locals without one are used as they are.
        unsafePrototypeLocals: true,
      };
      const template = ejs.compile(fs.readFileSync(filename, 'utf8'), options);
      compiled = (locals) => template(Object.getPrototypeOf(locals) === null ? locals : Object.assign(Object.create(null), locals));
      if (cache) partials.set(key, compiled);
    }
    return compiled;
  }

  function fragment(res: Response, html: Html, status = 200): void {
    send(res.vary('HX-Request').vary('HX-Request-Type'), html, status);
  }

  async function place(req: Request, res: Response, page: LayoutPage): Promise<string> {
    if (typeof layout === 'function') return layout({ ...page, title: ejs.escapeXML(page.title) }, req, res);
    return new Promise((resolve, reject) => res.render(layout, page, (err, html) => (err ? reject(err) : resolve(html))));
  }

  /** `locals` with each Buffer replaced by the marker of its slot in `slots`. */
  const placing = (slots: Slots, locals: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(locals).map(([name, value]) => [name, Buffer.isBuffer(value) ? slots.place(value) : value]));

  async function pieces(res: Response, name: string, locals: Record<string, unknown> = {}): Promise<Buffer[]> {
    const slots = new Slots();
    return slots.fill(await view(res, name, placing(slots, locals)));
  }

  return {
    view,
    pieces,
    partial,
    fragment,
    async render(req, res, views, locals = {}, status = 200) {
      if (views.fragment && wantsFragment(req)) return fragment(res, await pieces(res, views.fragment, locals), status);
      res.vary('HX-Request').vary('HX-Request-Type');
      const slots = new Slots();
      let title = '';
      const own: Record<string, unknown> = { ...placing(slots, locals), setTitle: (text: string) => void (title = text) };
      const content = views.pageLocals ? partial(views.page, views.pageLocals)(only(views.pageLocals, own, res.locals)) : await view(res, views.page, own);
      // One root for our part of the page: htmx settings, the alert region, the one-time notice.
      const body = partial('plugin/_page', PAGE_LOCALS)(only(PAGE_LOCALS, { content }, res.locals));
      const html = await place(req, res, { title, body, head: head(req, res), locale: String(res.locals.locale ?? 'it') });
      send(res, slots.text(html), status);
    },
  };
}

/**
 * The `names` of `own`, else of `shared`, as locals for a `partial` (without a prototype, so the
 * partial reads them as they are, not a copy).
 */
export function only(names: readonly string[], own: object, shared: Record<string, unknown>): Record<string, unknown> {
  const locals = Object.create(null) as Record<string, unknown>;
  for (const name of names) locals[name] = name in own ? (own as Record<string, unknown>)[name] : shared[name];
  return locals;
}

/**
 * Sends a page without the ETag Express would compute (a SHA-1 of the whole body): our pages are
 * `no-store` and depend on who asks, so no cache may keep them to revalidate. Pieces are written as
 * they are (text encoded by the socket's `writev` itself, not copied into a Buffer first); the last one goes through `res.end`, where express-session holds back its
 * last byte until the session is saved, so a browser never has the whole page (and sends its next
 * request) before the session this page changed is stored.
 */
function send(res: Response, html: Html | ReadonlyArray<string | Buffer>, status: number): void {
  const body: Array<string | Buffer> = typeof html === 'string' || Buffer.isBuffer(html) ? [html] : [...html];
  const length = body.reduce((bytes, piece) => bytes + (typeof piece === 'string' ? Buffer.byteLength(piece) : piece.length), 0);
  res.status(status).type('html').set('Content-Length', String(length));
  if (res.req.method === 'HEAD') return void res.end();
  const last = body.pop();
  res.cork();
  for (const piece of body) res.write(piece);
  res.end(last);
  res.uncork();
}
