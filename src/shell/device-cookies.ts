import crypto from 'node:crypto';
import type { Request, Response } from 'express';

/** Accounts one browser is remembered for (a shared office computer): the oldest drops out. */
const MAX_ACCOUNTS = 8;
const LIFETIME_MS = 180 * 24 * 3600 * 1000;
const NONCE_BYTES = 16;

/**
 * Device cookies, after OWASP's "Slow Down Online Guessing Attacks with Device Cookies": a browser
 * that signed in to an account gets a signed proof of it, and its later attempts on that account
 * are counted against that proof instead of against the account. A stranger's wrong passwords then
 * lock out untrusted clients only, never the browsers the owner has signed in from; a stolen device
 * cookie still allows only its own few guesses.
 *
 * The cookie holds up to MAX_ACCOUNTS entries `nonce.mac`, mac = HMAC-SHA-256 over the canonical
 * sign-in name and the nonce, under a key derived from SESSION_SECRET. It names no account: an entry
 * is checked by recomputing the mac for the name being tried.
 */
export interface DeviceCookies {
  /** The nonce of this browser's valid device cookie for `login` (a canonical name), or null: an untrusted client. */
  trusted(req: Request, login: string): string | null;
  /** After a successful sign-in to `login`: a fresh entry for it, replacing the one used, kept with the browser's others. */
  issue(req: Request, res: Response, login: string): void;
}

export function deviceCookies(secret: string, secure: boolean): DeviceCookies {
  // Its own key: a device cookie's mac can never pass for a session cookie's signature.
  const key = crypto.createHmac('sha256', secret).update('device cookies').digest();
  const name = secure ? '__Host-device' : 'device';
  const macOf = (login: string, nonce: string) => crypto.createHmac('sha256', key).update(`${login}\n${nonce}`).digest();

  function entries(req: Request): string[] {
    const value: unknown = req.cookies?.[name];
    return typeof value === 'string' ? value.split('~').filter((e) => /^[\w-]+\.[\w-]+$/.test(e)).slice(0, MAX_ACCOUNTS) : [];
  }

  function trusted(req: Request, login: string): string | null {
    for (const entry of entries(req)) {
      const [nonce = '', mac = ''] = entry.split('.');
      const given = Buffer.from(mac, 'base64url');
      const expected = macOf(login, nonce);
      if (given.length === expected.length && crypto.timingSafeEqual(given, expected)) return nonce;
    }
    return null;
  }

  return {
    trusted,
    issue(req, res, login) {
      // Like the session cookie: never handed to a plain-http connection when the site is https.
      if (secure && !req.secure) return;
      const used = trusted(req, login);
      const others = entries(req).filter((entry) => !used || !entry.startsWith(`${used}.`));
      const nonce = crypto.randomBytes(NONCE_BYTES).toString('base64url');
      const fresh = `${nonce}.${macOf(login, nonce).toString('base64url')}`;
      res.cookie(name, [fresh, ...others].slice(0, MAX_ACCOUNTS).join('~'), {
        httpOnly: true,
        secure,
        sameSite: 'strict',
        path: '/',
        maxAge: LIFETIME_MS,
      });
    },
  };
}
