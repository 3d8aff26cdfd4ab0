import type { Request, Response } from 'express';
import { Sealer } from '../lib/secrets';

/**
 * Short-lived cookies of the feature (a one-time notice, an opened link), sealed with AES-256-GCM
 * under the app secret: the browser holds them, nobody can read or forge them, and no server-side
 * session is needed, the host's or ours. They are read from `req.cookies` (cookie-parser), which
 * holds them whatever secret a host's own cookie-parser was given.
 */
export class SealedCookies {
  private readonly sealer: Sealer;

  constructor(
    appSecret: string,
    private readonly secure: boolean,
  ) {
    this.sealer = new Sealer(appSecret);
  }

  /** `maxAgeMs`: how long the browser keeps it; `path`: the URL path it is sent to. */
  set(res: Response, name: string, value: string, { path, maxAgeMs }: { path: string; maxAgeMs: number }): void {
    // The name is sealed in too: a value sealed for one cookie means nothing in another.
    res.cookie(this.nameOf(name), this.sealer.seal(`${name}\n${value}`), { httpOnly: true, secure: this.secure, sameSite: 'lax', path, maxAge: maxAgeMs });
  }

  /** The value, or null when absent, tampered with or sealed under another secret. */
  get(req: Request, name: string): string | null {
    const sealed: unknown = req.cookies?.[this.nameOf(name)];
    if (typeof sealed !== 'string' || sealed === '') return null;
    let opened: string;
    try {
      opened = this.sealer.open(sealed);
    } catch {
      return null;
    }
    return opened.startsWith(`${name}\n`) ? opened.slice(name.length + 1) : null;
  }

  clear(res: Response, name: string, path: string): void {
    res.clearCookie(this.nameOf(name), { httpOnly: true, secure: this.secure, sameSite: 'lax', path });
  }

  /** Over https, `__Secure-` names: a browser keeps them only when set over https with `Secure`. */
  private nameOf(name: string): string {
    return this.secure ? `__Secure-${name}` : name;
  }
}
