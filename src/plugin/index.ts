import path from 'node:path';
import express, { Router, type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import cookieParser from 'cookie-parser';
import { ROOT, type Config } from '../config';
import type { Database } from '../db';
import { createDomain, type Domain } from '../domain';
import { systemClock, type Clock } from '../lib/clock';
import type { HostMailbox } from '../domain/mailboxes';
import type { AuditEvent, Mailbox } from '../models';
import { breakableHtml, breakableWithin } from '../lib/text';
import { formatDay, formatShortDateTime } from '../i18n/dates';
import { DEFAULT_LOCALE, LOCALES, formatDate, isLocale, perLocale, translator, type Locale } from '../i18n';
import { createLogger, type LogSink } from '../lib/logger';
import { outboxDeliverer, transportFor } from '../mail/transport';
import { startWorker, type RunningWorker } from '../mail/worker';
import { afterResponse } from './after-response';
import { describeDevice, describeEvent, describePlace, type ActivityEntry } from './activity-text';
import { SealedCookies } from './cookies';
import { takeNotice, type Feature, type FeatureUrls } from './context';
import { csrf, hostCsrf } from './middleware/csrf';
import { errorHandler, notFound } from './middleware/errors';
import { inTurn } from './middleware/in-turn';
import { frameOptionsFor } from './middleware/frame-options';
import { pages as createPages, type Layout, type Pages } from './render';
import { collaboratorsRouter } from './routes/collaborators';
import { activityRouter } from './routes/activity';
import { accessHistoryRouter } from './routes/access-history';
import { linksRouter } from './routes/links';
import { noticeSettingsRouter } from './routes/notice-settings';

export type { Layout, LayoutPage } from './render';
export type { HostMailbox } from '../domain/mailboxes';
export type { FeatureUrls } from './context';
export type { Config } from '../config';
export type { Database } from '../db';
export type { LogSink } from '../lib/logger';
export { loadConfig } from '../config';
export { openDatabase } from '../db';
export { only, pages as pageRenderer, type Pages, type Views } from './render';
export { csrf as csrfProtection } from './middleware/csrf';
export { inTurn } from './middleware/in-turn';
export { clientIp, requestOrigin } from './client-ip';
export { readiness, type Readiness } from './readiness';
export { gracefulStop, type StopServing } from '../lib/graceful-stop';
export { createMetrics, type Metrics } from './metrics';
export type { LaneBacklog, OutboxHealth, SmtpState } from '../mail/outbox-health';

/**
 * A form's body (application/x-www-form-urlencoded, UTF-8), the one reader of the shell's and the
 * feature's forms: at most 32 kB and 50 fields, else 413; another charset 415.
 */
export const formBody = express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 50 });

/** The 404 page for whatever nothing answered, then every error as its page (for a host's own routes). */
export function errorPages(logger: LogSink, pages: Pages, home = '/'): [RequestHandler, ErrorRequestHandler] {
  return [notFound, errorHandler(logger, pages, home)];
}

/** Where the host mounts each router, as paths of its site (see FeatureUrls). */
export interface FeaturePaths {
  /** The owner's pages: the list, the add form, each collaborator. */
  collaborators: string;
  /** The parent of the owner's `/activity` and `/access-history`. */
  logs: string;
  /** The emailed links, the set-password form and "forgot password" (public). */
  password: string;
  /** Our stylesheet and scripts. */
  assets: string;
}

/**
 * The host's CSRF token for this request (never empty, visitors included: the link pages are
 * public). Our forms send it as `_csrf`, htmx as `X-CSRF-Token`, and the feature refuses every POST
 * and DELETE under it whose token is not this one, whatever the host checks itself.
 */
export interface HostCsrf {
  token(req: Request, res: Response): string;
}

export interface CollaborationsOptions {
  /** From `loadConfig(env)`: BASE_URL, SESSION_SECRET, link lifetimes, limits, mail server… */
  config: Config;
  /** From `openDatabase(config.databaseUrl)`: migrations applied. */
  database: Database;
  /**
   * The mailbox whose owner is signed in to the host, or null: then every owner page answers 404 (a
   * visitor must not learn they exist). The feature keeps its own record of it, keyed by `id`.
   */
  resolveOwner(req: Request): HostMailbox | null | Promise<HostMailbox | null>;
  /** Where the host mounts the feature's router (`app.use(mountPath, feature)`); default `/`. */
  mountPath?: string;
  /** Where each part is mounted, when the host mounts the parts one by one (`feature.parts`). */
  paths?: Partial<FeaturePaths>;
  /** The host's page around ours (default: a bare page with only ours in it). */
  layout?: Layout;
  /** The visitor's language; default: the owner's, else the browser's `Accept-Language`, else Italian. */
  locale?(req: Request): Locale | null | undefined;
  /**
   * The host's CSRF token, when it has its own protection; default ours: a signed double-submit
   * cookie, the owner's tokens bound to the owner `resolveOwner` named.
   */
  csrf?: HostCsrf;
  /** With our CSRF protection: what a token is bound to instead (e.g. the host's signed-in session id). */
  csrfBinding?(req: Request): string;
  /** Where a collaborator signs in, linked from the end of the set-password journey; default none. */
  signInUrl?: string;
  /**
   * The host asks collaborators for two-step verification at its sign-in when the mailbox requires it
   * (`Mailbox.twoStepRequired`), as the standalone app does: the owner is then offered that rule on the
   * Collaborations page. Default false (the rule would mean nothing).
   */
  twoStepPolicy?: boolean;
  /** Default: pino at `config.logLevel`. */
  logger?: LogSink;
  /** The domain, when the host already built one on the same database (the standalone app does). */
  domain?: Domain;
  clock?: Clock;
}

/** The feature, ready to mount: `app.use(mountPath, feature)` answers every part under one prefix. */
export interface Collaborations extends Router {
  /** The parts, for a host that mounts them at `paths` one by one. */
  parts: { collaborators: Router; logs: Router; links: Router; assets: Router };
  urls: FeatureUrls;
  /** Our stylesheet, scripts and htmx settings, for the `<head>` of a host's own pages. */
  headHtml: string;
  domain: Domain;
  /** Delivers queued emails from this process (or run `npm run worker` apart); stop it at shutdown. */
  startWorker(): RunningWorker;
  /** Waits for the work started after answers (a forgot-password request) to finish. */
  settled(): Promise<void>;
}

/**
 * `t`, `date()`, `day()`, `shortDate()` (figures: a list row's end of access), `breakable()` and `breakableWithin()` (src/lib/text.ts), `describeActivity(events, names)` (each event with
 * its sentence for the owner), `deviceWords(userAgent, program)` and `placeWords(ip)` (a device and a
 * client address in words: src/plugin/activity-text.ts) and the language of our views.
 */
const languageLocals = perLocale((locale) => {
  const t = translator(locale);
  const date = (d: Date | string | null | undefined) => formatDate(locale, d);
  const day = (d: Date | string | null | undefined) => formatDay(locale, d);
  const shortDate = (d: Date | string | null | undefined) => formatShortDateTime(locale, d);
  const describeActivity = (events: AuditEvent[], names: Map<number, string>): Array<[AuditEvent, ActivityEntry]> =>
    events.map((event) => [event, describeEvent(event, { t, date, names, reader: 'owner' })]);
  const deviceWords = (userAgent: string | null, program: boolean) => describeDevice(userAgent, t, { program });
  const placeWords = (ip: string | null) => describePlace(ip, t);
  return { locale, locales: LOCALES, t, date, day, shortDate, breakable: breakableHtml, breakableWithin, describeActivity, deviceWords, placeWords };
});

const trimSlash = (value: string) => value.replace(/\/+$/, '');

function urlsOf({ mountPath = '/', paths = {}, signInUrl }: CollaborationsOptions): FeatureUrls {
  const base = trimSlash(mountPath);
  const collaborators = trimSlash(paths.collaborators ?? base) || '/';
  const logs = trimSlash(paths.logs ?? base);
  return {
    collaborators,
    activity: `${logs}/activity`,
    accessHistory: `${logs}/access-history`,
    password: trimSlash(paths.password ?? `${base}/password`),
    assets: trimSlash(paths.assets ?? `${base}/assets`),
    signIn: signInUrl ?? null,
    home: signInUrl ?? collaborators,
  };
}

/** Our stylesheet, scripts and htmx settings, for the layout's `<head>`. */
function headOf(urls: FeatureUrls): string {
  return [
    `<meta name="htmx-config" content='{"defaultSwap":"outerHTML","defaultFocusScroll":false}'>`,
    `<link rel="stylesheet" href="${urls.assets}/css/app.css">`,
    `<script src="${urls.assets}/htmx.min.js" defer></script>`,
    `<script src="${urls.assets}/js/app.js" defer></script>`,
  ].join('\n  ');
}

/** A page with nothing of the host's around ours. */
const bareLayout: Layout = ({ title, body, head, locale }) =>
  `<!doctype html>\n<html lang="${locale}">\n<head>\n  <meta charset="utf-8">\n  <meta name="viewport" content="width=device-width, initial-scale=1">\n  <title>${title}</title>\n  ${head}\n</head>\n<body>\n<main id="main">${body}</main>\n</body>\n</html>\n`;

/** Plain forms cannot send DELETE: `_method=DELETE` in a POST body stands for it. */
const deleteOverride: RequestHandler = (req, _res, next) => {
  if (req.method === 'POST' && req.body?._method === 'DELETE') req.method = 'DELETE';
  next();
};

/**
 * Settings → Collaborations as one Express router a host webmail mounts:
 *
 *     app.use('/admin/collaborators', collaborations({ config, database, resolveOwner, layout: 'layout', mountPath: '/admin/collaborators' }));
 *
 * It brings its views, static files, body parsing, method override, CSRF (or the host's), page
 * locals and error pages, and answers under its prefix: the owner's pages (`/`, `/new`, `/:id…`,
 * `/activity`, `/activity.csv`, `/access-history`), the emailed links and "forgot password"
 * (`/password/…`, public; emailed links point there) and `/assets/…`. It needs no session: the
 * host says who the owner is (`resolveOwner`), and the feature keeps the rest in sealed cookies.
 */
export function collaborations(options: CollaborationsOptions): Collaborations {
  const urls = urlsOf(options);
  const { database, clock = systemClock } = options;
  const config = { ...options.config, linksUrl: options.config.baseUrl + urls.password, ownerPagesUrl: options.config.baseUrl + urls.collaborators };
  const domain = options.domain ?? createDomain(database, config, clock);
  if (domain.config.linksUrl !== config.linksUrl) {
    throw new Error(`the domain's links point to ${domain.config.linksUrl}, the feature answers them at ${config.linksUrl}`);
  }
  if (domain.config.ownerPagesUrl !== config.ownerPagesUrl) {
    throw new Error(`the domain's notices link to ${domain.config.ownerPagesUrl}, the feature answers the owner at ${config.ownerPagesUrl}`);
  }
  const logger = options.logger ?? createLogger(config.logLevel);
  const secure = config.baseUrl.startsWith('https://');
  const head = headOf(urls);
  const pages: Pages = createPages(options.layout ?? bareLayout, () => head, { cache: config.env === 'production' });
  /**
   * The owner's parts: the mailbox the host names, in its language unless the host decides; for
   * anyone else they do not exist (the request goes on past this part).
   */
  // Found once per request, and kept where no host's local can pass for it.
  const owners = new WeakMap<Request, Mailbox>();
  const ownerOnly: RequestHandler = async (req, res, next) => {
    let owner = owners.get(req);
    if (!owner) {
      const said = await options.resolveOwner(req);
      if (!said) return next('router');
      owner = await domain.mailboxes.record(said);
      owners.set(req, owner);
      if (!isLocale(options.locale?.(req)) && isLocale(said.locale)) Object.assign(res.locals, languageLocals(said.locale));
    }
    res.locals.owner = owner;
    next();
  };
  const feature: Feature = { domain, pages, urls, cookies: new SealedCookies(config.sessionSecret, secure), afterResponse: afterResponse(domain.background, logger), twoStepPolicy: options.twoStepPolicy ?? false };

  const pageLocals: RequestHandler = (req, res, next) => {
    const chosen = options.locale?.(req);
    const lang: Locale = isLocale(chosen) ? chosen : (req.acceptsLanguages(...LOCALES) as Locale | false) || DEFAULT_LOCALE;
    res.vary('Accept-Language');
    res.set('Cache-Control', 'no-store');
    // Our pages in nobody else's frame (a confirmation is one click), unless the host said otherwise;
    // never the opposite of the host's CSP (frame-ancestors) when it set one.
    if (!res.get('X-Frame-Options')) {
      const frames = frameOptionsFor(res.get('Content-Security-Policy'));
      if (frames) res.set('X-Frame-Options', frames);
    }
    if (!res.get('X-Content-Type-Options')) res.set('X-Content-Type-Options', 'nosniff');
    Object.assign(res.locals, languageLocals(lang));
    res.locals.urls = urls;
    res.locals.notice = takeNotice(feature, req, res);
    next();
  };
  /** Everything our pages need, once per request whichever part it enters first (see inTurn). */
  const steps = inTurn([cookieParser(), pageLocals]);
  const common: RequestHandler = (req, res, next) => (res.locals.urls === urls ? next() : steps(req, res, next));
  /**
   * The form's body, read once the page's language and CSRF token are set: a body refused (too large,
   * too many fields, a charset not UTF-8) gets the error page in the user's language, not a bare status.
   */
  const body = inTurn([formBody, deleteOverride]);

  // CSRF: the host's token, checked here too; else ours, the owner's bound to the owner the host
  // named (a cookie a sibling site planted is worth nothing) and the link pages' to nobody.
  const ownerCsrf = options.csrf
    ? hostCsrf(options.csrf.token)
    : csrf(config.sessionSecret, secure, { cookie: 'pec_csrf', bindTo: (req) => options.csrfBinding?.(req) ?? `owner:${String(owners.get(req)?.id)}` });
  const visitorCsrf = options.csrf ? ownerCsrf : csrf(config.sessionSecret, secure, { cookie: 'pec_csrf_links', bindTo: (req) => options.csrfBinding?.(req) ?? '' });

  const handleErrors = errorHandler(logger, pages, urls.home);
  /** A part answers its own routes and passes anything else on to the host. */
  const ownerSteps = inTurn([common, ownerOnly, ownerCsrf.token, body, ...ownerCsrf.protection]);
  const visitorSteps = inTurn([common, visitorCsrf.token, body, ...visitorCsrf.protection]);
  const ownerPart = (router: Router) => Router().use(ownerSteps, router, handleErrors);
  const visitorPart = (router: Router) => Router().use(visitorSteps, router, handleErrors);
  const assets = Router()
    .get('/htmx.min.js', (_req, res) => res.sendFile(require.resolve('htmx.org/dist/htmx.min.js'), { maxAge: '1d' }))
    .use(express.static(path.join(ROOT, 'public'), { maxAge: '1h' }));
  const logs = Router().use(activityRouter(feature), accessHistoryRouter(feature));
  const parts = {
    // At its own path: the list and the other pages of the part do not walk through its routes.
    collaborators: ownerPart(Router().use('/notifications', noticeSettingsRouter(feature)).use(collaboratorsRouter(feature))),
    // Only its own paths are owner pages: anything else under its mount point goes on untouched.
    logs: Router().get(['/activity', '/activity.csv', '/access-history'], ownerPart(logs)),
    links: visitorPart(linksRouter(feature)),
    assets,
  };

  // Each part where `urls` says, as paths under where the host mounts this router.
  const router = Router();
  const mountPath = trimSlash(options.mountPath ?? '/');
  // Pages and emails link to `mountPath`: mounted anywhere else, every link would be wrong.
  router.use((req, _res, next) => next(req.baseUrl === mountPath ? undefined : new Error(`the feature is mounted at "${req.baseUrl}" but was told mountPath "${mountPath || '/'}"`)));
  const within = (to: string) => {
    if (!to.startsWith(mountPath)) throw new Error(`${to} is not under the mount path ${mountPath}: mount the parts one by one`);
    return to.slice(mountPath.length) || '/';
  };
  router.use(within(urls.assets), assets);
  router.use(within(urls.password), parts.links);
  router.use(within(urls.activity.slice(0, -'/activity'.length)), parts.logs);
  router.use(within(urls.collaborators), parts.collaborators);
  router.use(common, notFound, handleErrors);
  return Object.assign(router, {
    parts,
    urls,
    headHtml: head,
    domain,
    startWorker: () => startWorker(domain.outbox, outboxDeliverer(config, transportFor(config)), logger, undefined, domain.scheduled),
    settled: () => domain.background.settled(),
  });
}
