import type { SessionIdentity, SignedIn } from '../domain/accounts';
import type { PasskeyChallenge } from '../domain/passkeys';
import type { OidcFlow } from './oidc';

/** A sign-in whose password was right and whose second step is still to come (src/shell/sign-in.ts). */
export interface PendingSignIn {
  identity: SessionIdentity;
  /** The canonical name typed at /login: the rate-limit and device-cookie key. */
  login: string;
  /** "Remember me on this device" was ticked. */
  remember: boolean;
  /** Epoch ms after which the password must be typed again. */
  until: number;
}

declare module 'express-session' {
  interface SessionData {
    identity?: SessionIdentity;
    /** When the person last proved who they are (signed in, confirmed the password), epoch ms. */
    verifiedAt?: number;
    /** Set instead of `identity` between the password and the second step. */
    secondStep?: PendingSignIn;
    /** A TOTP secret offered on the set-up page, sealed, until its first code confirms it. */
    totpOffer?: string;
    /** The challenge of the passkey ceremony under way (src/domain/passkeys.ts). */
    passkeyChallenge?: PasskeyChallenge;
    /** A sign-in or link at an OpenID Connect provider under way (src/shell/oidc.ts). */
    oidcFlow?: OidcFlow;
    /** The language an anonymous visitor chose. */
    locale?: string;
    /** Shown once on the next page. */
    notice?: string;
    ip?: string;
    userAgent?: string;
    /** When a remembered cookie was last set again with its expiry moved forward, epoch ms (session.ts). */
    renewedAt?: number;
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
