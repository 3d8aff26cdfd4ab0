import type { SessionIdentity, SignedIn } from '../domain/accounts';
import type { Collaborator, Mailbox } from '../models';

declare module 'express-session' {
  interface SessionData {
    identity?: SessionIdentity;
    /** The raw token of a password link, moved out of the URL by GET /password/:token. */
    linkToken?: string;
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
