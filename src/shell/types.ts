import type { SessionIdentity, SignedIn } from '../domain/accounts';

declare module 'express-session' {
  interface SessionData {
    identity?: SessionIdentity;
    /** The language an anonymous visitor chose. */
    locale?: string;
    /** Shown once on the next page. */
    notice?: string;
    ip?: string;
    userAgent?: string;
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      signedIn?: SignedIn;
    }
  }
}

export {};
