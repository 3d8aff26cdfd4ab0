import path from 'node:path';
import express, { type Express, type RequestHandler } from 'express';
import cookieParser from 'cookie-parser';
import helmet from 'helmet';
import type { Domain } from './domain';
import { createLogger, type LogSink } from './lib/logger';
import { collaborations, createMetrics, csrfProtection, errorPages, formBody, inTurn, only, pageRenderer, type Layout } from './plugin';
import { saveBeforeRedirect, sessions } from './shell/middleware/session';
import { identify, requireSignIn } from './shell/middleware/auth';
import { locale, localeOf } from './shell/middleware/locale';
import { sessionsRouter } from './shell/routes/sessions';
import { secondStepRouter } from './shell/routes/second-step';
import { requireTwoStepSetup, twoStepRouter } from './shell/routes/two-step';
import { passkeysRouter } from './shell/routes/passkeys';
import { holdAtSecondStep, homeOf, requireRecentSignIn } from './shell/sign-in';
import { confirmationRouter } from './shell/routes/confirmation';
import { languageRouter } from './shell/routes/language';
import { accountRouter } from './shell/routes/account';
import { identitiesRouter } from './shell/routes/identities';
import { OidcClients } from './shell/oidc';
import { ROOT, providerLabel } from './config';
import { ownPasswordRouter } from './shell/routes/own-password';
import { deviceCookies } from './shell/device-cookies';
import { mailProfileRouter } from './shell/routes/mail-profile';
import { AUTOCONFIG_PATHS, autoconfigRouter } from './shell/routes/autoconfig';
import { AUTH_POLICY_PATH, authPolicyRouter } from './shell/routes/auth-policy';
import { HEALTH_PATHS, METRICS_PATH, devMailRouter, healthRouter, metricsRouter } from './shell/routes/system';
import './shell/types';

export interface AppOptions {
  domain: Domain;
  logger?: LogSink;
  /** Serve /dev/mail from this folder (the file outbox); unset in production. */
  devMailFolder?: string;
}

export interface App {
  app: Express;
  close(): void;
}

/**
 * Whatever comes after this depends on who is asking (a sign-in, a CSRF token): no browser or proxy
 * may keep it, so Back after signing out shows nothing from a cache.
 */
const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

/** Shared page locals: who is signed in, the one-time notice, the pages of this app. */
function pageLocals(pages: ReturnType<typeof pageRenderer>): RequestHandler {
  return (req, res, next) => {
    res.locals.signedIn = req.signedIn ?? null;
    res.locals.path = req.path;
    res.locals.pages = pages;
    res.locals.notice = req.session?.notice ?? null;
    if (req.session?.notice) delete req.session.notice;
    next();
  };
}

/** What views/shell/layout.ejs uses: the page's own fields (LayoutPage), the rest from the request's locals. */
const LAYOUT_NAMES = ['t', 'signedIn', 'breakable', 'csrfToken', 'here', 'locales', 'path', 'signInProviders', 'locale', 'title', 'head', 'body'];

/** The standalone app's page around every page, ours and the feature's: compiled once, given only what it uses. */
function shellLayout(pages: () => ReturnType<typeof pageRenderer>): Layout {
  return (page, _req, res) => pages().partial('shell/layout', LAYOUT_NAMES)(only(LAYOUT_NAMES, page, res.locals));
}

/**
 * Builds the whole standalone app from its dependencies; never listens. It is a host like any
 * other: our sign-in, sessions, CSRF protection and shell around `collaborations()`, mounted part
 * by part at the paths of the HTTP contract.
 */
export function createApp({ domain, logger = createLogger('silent'), devMailFolder }: AppOptions): App {
  const { config, db, accounts } = domain;
  const app = express();
  const secure = config.baseUrl.startsWith('https://');
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');
  // The sign-in page's and the settings menu's providers, only those configured: set first, for every page (error pages too).
  const oidc = new OidcClients(config.oidc, config.baseUrl, domain.clock);
  const signInProviders = oidc.names.map((name) => ({ name, label: providerLabel(name) }));
  const providersLocal: RequestHandler = (_req, res, next) => {
    res.locals.signInProviders = signInProviders;
    next();
  };
  // Not served at all without a token (no figure of this installation leaks by default), nor measured.
  const metered = config.metricsToken ? { metrics: createMetrics(db, domain.clock), token: config.metricsToken } : null;

  const layout = shellLayout(() => pages);
  const feature = collaborations({
    config,
    database: db,
    domain,
    logger,
    layout,
    paths: { collaborators: '/settings/collaborations', logs: '/settings', password: '/password', assets: '/assets' },
    signInUrl: '/login',
    twoStepPolicy: true,
    resolveOwner: (req) => (req.signedIn?.type === 'owner' ? req.signedIn.mailbox : null),
    locale: localeOf,
    // Our own CSRF protection, app-wide: the feature only embeds its tokens.
    csrf: { token: (_req, res) => String(res.locals.csrfToken) },
  });
  const pages = pageRenderer(layout, () => feature.headHtml, { cache: config.env === 'production' });

  const securityHeaders = helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        frameAncestors: ["'none'"],
        // A form that starts a sign-in with a provider is redirected to its authorization endpoint,
        // which form-action governs too: the issuers' origins (where the endpoint is, for Google,
        // Entra ID, Keycloak…).
        formAction: ["'self'", ...config.oidc.providers.map((p) => new URL(p.issuer).origin)],
        ...(secure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    // The same answer as frame-ancestors 'none' for browsers that only know X-Frame-Options (helmet's
    // default, SAMEORIGIN, said the opposite). Nothing frames the standalone app; a host that shows
    // the feature in a frame of its own sets its own policy (see the plugin's pageLocals).
    xFrameOptions: { action: 'deny' },
    strictTransportSecurity: secure ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    referrerPolicy: { policy: 'same-origin' },
  });
  // Every answer's first steps, in turn as one layer (see inTurn).
  app.use(inTurn([providersLocal, ...(metered ? [metered.metrics.requestDurations] : []), securityHeaders]));
  // The passkey pages' WebAuthn helper, from the pinned package like htmx (its exports hide the bundle).
  const webauthnBundle = path.join(path.dirname(require.resolve('@simplewebauthn/browser')), '..', 'dist', 'bundle', 'index.umd.min.js');
  // Every browser asks for it, declared or not (the layout declares it): an icon, kept 30 days, not a 404.
  app.get('/favicon.ico', (_req, res) => res.sendFile(path.join(ROOT, 'public', 'favicon.ico'), { maxAge: '30d' }));
  app.get('/assets/simplewebauthn-browser.js', (_req, res) => res.sendFile(webauthnBundle, { maxAge: '1d' }));
  app.use('/assets', feature.parts.assets);
  // The machine endpoints, each router entered at its own paths only: any other request passes it by
  // with one match, not a walk through its routes and a turn of the event loop at its end.
  app.all(HEALTH_PATHS, healthRouter(db, domain.clock));
  if (metered) app.all(METRICS_PATH, metricsRouter(metered.metrics, metered.token));
  app.all(AUTOCONFIG_PATHS, autoconfigRouter(config.mailServer, domain.mailDomains));
  app.all(AUTH_POLICY_PATH, authPolicyRouter(domain.authPolicy, config.mailServer.authPolicyKey, logger));

  const session = sessions(config, db, accounts);
  const csrf = csrfProtection(config.sessionSecret, secure, { bindTo: (req) => (req.session?.identity ? req.sessionID : '') });
  // The steps every page and form shares, in turn as one layer (see inTurn).
  app.use(
    inTurn([
      noStore,
      ...session.handler,
      cookieParser(),
      saveBeforeRedirect,
      identify(accounts, session.accountOf),
      holdAtSecondStep,
      requireTwoStepSetup(domain.twoStep),
      locale,
      pageLocals(pages),
      csrf.token,
      // Read once the page's language and token are set: a body refused gets the error page in the user's language.
      formBody,
      ...csrf.protection,
    ]),
  );

  app.get('/', requireSignIn, (req, res) => res.redirect(303, homeOf(req)));
  const signIn = { accounts, rateLimits: domain.rateLimits, accessHistory: domain.accessHistory, twoStep: domain.twoStep, devices: deviceCookies(config.sessionSecret, secure), clock: domain.clock };
  // Changing how one signs in needs a recent sign-in or the password again (a stolen cookie is not enough).
  app.use('/settings/two-step', requireSignIn, requireRecentSignIn(domain.clock, '/settings/two-step'));
  app.post('/account/app-passwords', requireSignIn, requireRecentSignIn(domain.clock, '/account'));
  app.post('/settings/collaborations/two-step-policy', requireSignIn, requireRecentSignIn(domain.clock, '/settings/collaborations'));
  // The feature's parts; a visitor is sent to sign in first, anyone else not the owner gets 404. Before
  // the shell's own pages (none under these paths), so that an owner page does not go through them.
  app.use(['/settings/collaborations', '/settings/activity', '/settings/activity.csv', '/settings/access-history'], requireSignIn);
  app.use('/settings/collaborations', feature.parts.collaborators);
  app.use('/settings', feature.parts.logs);
  app.use('/password', feature.parts.links);
  app.use(confirmationRouter(signIn));
  app.use(sessionsRouter(signIn, session));
  app.use(secondStepRouter(signIn));
  app.use(passkeysRouter({ ...signIn, passkeys: domain.passkeys }));
  app.use(identitiesRouter({ ...signIn, identities: domain.identities, oidc }));
  app.use(twoStepRouter({ accounts, twoStep: domain.twoStep, rateLimits: domain.rateLimits }));
  app.use(languageRouter(accounts));
  app.use(ownPasswordRouter({ accounts, selfService: domain.selfService, rateLimits: domain.rateLimits, minLength: config.passwordMinLength }));
  app.use(mailProfileRouter(config.mailServer, config.baseUrl));
  app.use(accountRouter(accounts, domain.appPasswords, domain.twoStep, config.mailServer));
  if (devMailFolder) app.use(devMailRouter(devMailFolder, config.baseUrl));

  app.use(...errorPages(logger, pages));
  return { app, close: session.close };
}
