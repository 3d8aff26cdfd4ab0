import type { RequestHandler } from 'express';
import { breakableHtml, breakableWithin } from '../../lib/text';
import { formatDay } from '../../i18n/dates';
import { DEFAULT_LOCALE, LOCALES, formatDate, isLocale, perLocale, translator, type Locale } from '../../i18n';

/** The signed-in person's language, else the one chosen in this session, else the browser's, else Italian. */
export function localeOf(req: Parameters<RequestHandler>[0]): Locale {
  const own = req.signedIn?.type === 'collaborator' ? req.signedIn.collaborator.locale : req.signedIn?.mailbox.locale;
  if (isLocale(own)) return own;
  if (isLocale(req.session?.locale)) return req.session.locale;
  const accepted = req.acceptsLanguages(...LOCALES);
  return isLocale(accepted) ? accepted : DEFAULT_LOCALE;
}

type When = Date | string | null | undefined;
/** `t`, `date()` and `day()` in a language: made once per language, not at each request. */
const languageLocals = perLocale((lang) => ({ t: translator(lang), date: (d: When) => formatDate(lang, d), day: (d: When) => formatDay(lang, d) }));

/** Gives every view `t`, `locale`, `date()` and `day()`. Runs after the signed-in person is known. */
export const locale: RequestHandler = (req, res, next) => {
  const lang = localeOf(req);
  res.locals.locale = lang;
  res.locals.locales = LOCALES;
  // Where the language form comes back to: this page, or for a posted form the page that shows it;
  // never a /password/<token> address, whose secret must not be copied into a page.
  const linkAddress = /^\/password\/(?!new$|forgot$)/.test(req.path);
  res.locals.here = linkAddress ? '/password/new' : req.method === 'GET' ? req.originalUrl : req.path;
  Object.assign(res.locals, languageLocals(lang));
  res.locals.breakable = breakableHtml;
  res.locals.breakableWithin = breakableWithin;
  res.vary('Accept-Language');
  next();
};
