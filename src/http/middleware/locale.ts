import type { RequestHandler } from 'express';
import { DEFAULT_LOCALE, LOCALES, formatDate, isLocale, translator, type Locale } from '../../i18n';

/** The signed-in person's language, else the browser's, else Italian. */
export function localeOf(req: Parameters<RequestHandler>[0]): Locale {
  const own = req.signedIn?.type === 'collaborator' ? req.signedIn.collaborator.locale : req.signedIn?.mailbox.locale;
  if (isLocale(own)) return own;
  const accepted = req.acceptsLanguages(...LOCALES);
  return isLocale(accepted) ? accepted : DEFAULT_LOCALE;
}

/** Gives every view `t`, `locale` and `date()`. Runs after the signed-in person is known. */
export const locale: RequestHandler = (req, res, next) => {
  const lang = localeOf(req);
  res.locals.locale = lang;
  res.locals.t = translator(lang);
  res.locals.date = (d: Date | string | null | undefined) => formatDate(lang, d);
  res.vary('Accept-Language');
  next();
};
