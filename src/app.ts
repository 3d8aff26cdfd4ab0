import path from 'node:path';
import express, { type Express, type RequestHandler } from 'express';
import cookieParser from 'cookie-parser';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { ROOT } from './config';
import type { Domain } from './domain';
import { createLogger } from './lib/logger';
import { saveBeforeRedirect, sessions } from './http/middleware/session';
import { identify, requireSignIn } from './http/middleware/auth';
import { locale } from './http/middleware/locale';
import { csrf } from './http/middleware/csrf';
import { refuseCrossSite } from './http/middleware/fetch-site';
import { errorHandler, notFound } from './http/middleware/errors';
import { sessionsRouter, homeOf } from './http/routes/sessions';
import { languageRouter } from './http/routes/language';
import { passwordsRouter } from './http/routes/passwords';
import { accountRouter } from './http/routes/account';
import { ownPasswordRouter } from './http/routes/own-password';
import { afterResponse } from './http/after-response';
import { deviceCookies } from './http/device-cookies';
import { mailProfileRouter } from './http/routes/mail-profile';
import { collaborationsRouter } from './http/routes/collaborations';
import { autoconfigRouter } from './http/routes/autoconfig';
import { devMailRouter, healthRouter } from './http/routes/system';
import { activityRouter } from './http/routes/activity';
import { accessHistoryRouter } from './http/routes/access-history';
import './http/types';

export interface AppOptions {
  domain: Domain;
  logger?: Logger;
  /** Serve /dev/mail from this folder (the file outbox); unset in production. */
  devMailFolder?: string;
}

export interface App {
  app: Express;
  close(): void;
}

/** Plain forms cannot send DELETE: `_method=DELETE` in a POST body stands for it. */
const deleteOverride: RequestHandler = (req, _res, next) => {
  if (req.method === 'POST' && req.body?._method === 'DELETE') req.method = 'DELETE';
  next();
};

/**
 * Whatever comes after this depends on who is asking (a sign-in, a CSRF token): no browser or proxy
 * may keep it, so Back after signing out shows nothing from a cache.
 */
const noStore: RequestHandler = (_req, res, next) => {
  res.set('Cache-Control', 'no-store');
  next();
};

/** Shared page locals: who is signed in and the one-time notice. */
const pageLocals: RequestHandler = (req, res, next) => {
  res.locals.signedIn = req.signedIn ?? null;
  res.locals.path = req.path;
  res.locals.notice = req.session?.notice ?? null;
  if (req.session?.notice) delete req.session.notice;
  next();
};

/** Builds the whole standalone app from its dependencies; never listens. */
export function createApp({ domain, logger = createLogger('silent'), devMailFolder }: AppOptions): App {
  const { config, db, accounts, collaborations, directory, selfService, links } = domain;
  const app = express();
  const secure = config.baseUrl.startsWith('https://');
  app.set('views', path.join(ROOT, 'views'));
  app.set('view engine', 'ejs');
  app.set('trust proxy', config.trustProxy);
  app.disable('x-powered-by');

  app.use(
    helmet({
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
          formAction: ["'self'"],
          ...(secure ? { upgradeInsecureRequests: [] } : {}),
        },
      },
      strictTransportSecurity: secure ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      referrerPolicy: { policy: 'same-origin' },
    }),
  );
  app.use('/assets', express.static(path.join(ROOT, 'public'), { maxAge: '1h' }));
  app.get('/assets/htmx.min.js', (_req, res) => res.sendFile(require.resolve('htmx.org/dist/htmx.min.js'), { maxAge: '1d' }));
  app.use(healthRouter(db));
  app.use(autoconfigRouter(config.mailServer));

  const session = sessions(config, db);
  const csrfTokens = csrf(config.sessionSecret, secure);
  app.use(noStore);
  app.use(express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 50 }));
  app.use(deleteOverride);
  app.use(session.handler);
  app.use(cookieParser());
  app.use(saveBeforeRedirect);
  app.use(identify(accounts));
  app.use(locale);
  app.use(csrfTokens.token);
  app.use(pageLocals);
  app.use(refuseCrossSite);
  app.use(csrfTokens.protection);

  app.get('/', requireSignIn, (req, res) => res.redirect(303, homeOf(req)));
  app.use(sessionsRouter(accounts, domain.rateLimits, domain.accessHistory, deviceCookies(config.sessionSecret, secure)));
  app.use(languageRouter(accounts));
  app.use(
    passwordsRouter(links, selfService, {
      minLength: config.passwordMinLength,
      mailServer: config.mailServer,
      selfResetMinutes: Math.round(config.linkTtl.self_reset / 60),
      rateLimits: domain.rateLimits,
      afterResponse: afterResponse(domain.background, logger),
    }),
  );
  app.use(ownPasswordRouter({ accounts, selfService, rateLimits: domain.rateLimits, minLength: config.passwordMinLength }));
  app.use(mailProfileRouter(config.mailServer, config.baseUrl));
  app.use(accountRouter(accounts, config.mailServer));
  app.use(
    '/settings/collaborations',
    requireSignIn,
    collaborationsRouter({ collaborations, directory, resolveOwner: (req) => (req.signedIn?.type === 'owner' ? req.signedIn.mailbox : null) }),
  );
  app.use(activityRouter(domain.audit));
  app.use(accessHistoryRouter(domain.accessHistory));
  if (devMailFolder) app.use(devMailRouter(devMailFolder));

  app.use(notFound);
  app.use(errorHandler(logger));
  return { app, close: session.close };
}
