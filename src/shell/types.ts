import type { SessionIdentity, SignedIn } from '../domain/accounts';
import type { Collaborator, Mailbox } from '../models';

declare module 'express-session' {
  interface SessionData {
    identity?: SessionIdentity;
    /**
     * The digest of a live password link's token, kept by GET /password/:token; the raw token is
     * never stored (a copy of the database must not hold a usable link).
     */
    linkDigest?: string;
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
      /** The mailbox whose collaborators are managed (set by resolveOwner). */
      owner?: Mailbox;
      collaborator?: Collaborator;
    }
  }
}

export {};
