import { Router } from 'express';
import type { Accounts } from '../../domain/accounts';
import { isLocale } from '../../i18n';

/** Only a path of this site: never an open redirect. */
function backTo(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])/.test(value) ? value : '/';
}

/** The language choice in the top bar: kept on the signed-in account, else in the session. */
export function languageRouter(accounts: Accounts): Router {
  const router = Router();

  // POST /settings/language
  router.post('/settings/language', async (req, res) => {
    const locale: unknown = req.body?.locale;
    if (!isLocale(locale)) throw Object.assign(new Error('unknown locale'), { status: 400 });
    if (req.signedIn) await accounts.setLocale(req.signedIn, locale);
    req.session.locale = locale;
    res.redirect(303, backTo(req.body?.back));
  });

  return router;
}
