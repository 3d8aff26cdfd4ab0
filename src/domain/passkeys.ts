import crypto from 'node:crypto';
import { Op, UniqueConstraintError } from 'sequelize';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { Database } from '../db';
import type { Clock } from '../lib/clock';
import { isFitText } from '../lib/text';
import { whenUsed } from '../lib/when-used';
import { deriveKey, digest } from '../lib/secrets';
import type { SecondFactor } from '../models';
import type { SignedIn } from './accounts';
import { ValidationFailed } from './errors';
import { principalKey, type Principal } from './sessions';
import { ownedBy, principalOf, type Origin, type TwoStep } from './two-step';

const webauthn = whenUsed(() => require('@simplewebauthn/server') as typeof import('@simplewebauthn/server'));

/** How long a challenge (and the browser's prompt) lasts. */
export const CHALLENGE_TTL_MS = 5 * 60 * 1000;
/** A passkey's name, in characters. */
export const PASSKEY_NAME_MAX = 80;
/** More than any credential a browser sends (a few kB with attestation "none"). */
const RESPONSE_MAX = 16_000;
const RP_NAME = 'PEC Webmail';

/**
 * What the session keeps between asking for options and sending the browser's answer: one at a time
 * (a new one replaces the last), for one account and one purpose, until `expiresAt` (epoch ms); the
 * caller removes it from the session before verifying, so it is used once.
 */
export interface PasskeyChallenge {
  purpose: 'registration' | 'sign-in';
  /** principalKey() of the account it was issued for. */
  account: string;
  /** base64url, as in the options. */
  challenge: string;
  expiresAt: number;
}

/** The browser's credential, as @simplewebauthn/browser gives it (JSON text), or null when it is not one. */
function parseCredential(text: string): { id: string } | null {
  if (text.length > RESPONSE_MAX) return null;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null) return null;
    const { id, rawId, response, type } = value as Record<string, unknown>;
    if (typeof id !== 'string' || typeof rawId !== 'string' || type !== 'public-key' || typeof response !== 'object' || response === null) return null;
    return value as { id: string };
  } catch {
    return null;
  }
}

function transportsOf(factor: SecondFactor): string[] | undefined {
  return factor.transports ? factor.transports.split(',') : undefined;
}

/**
 * Passkeys (WebAuthn, with @simplewebauthn/server) as a second step (issue 11). The relying party is
 * the configured BASE_URL: its host is the RP ID and its origin the only one accepted. A passkey
 * is stored through TwoStep.addFactor, so the first one turns two-step verification on.
 * Attestation is not asked for ("none"): any authenticator the person owns will do.
 */
export class Passkeys {
  private readonly rpID: string;
  private readonly origin: string;
  /** Turns an account into its WebAuthn user handle: stable, opaque, not the address. */
  private readonly userHandleKey: Buffer;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly twoStep: TwoStep,
    { baseUrl, sessionSecret }: { baseUrl: string; sessionSecret: string },
  ) {
    const url = new URL(baseUrl);
    this.rpID = url.hostname;
    this.origin = url.origin;
    this.userHandleKey = deriveKey(sessionSecret, 'passkey-user-handle');
  }

  /** The options for navigator.credentials.create(), and the challenge for the session. */
  async registrationOptions(signedIn: SignedIn): Promise<{ options: PublicKeyCredentialCreationOptionsJSON; challenge: PasskeyChallenge }> {
    const principal = principalOf(signedIn);
    const existing = await this.passkeysOf(principal);
    const options = await webauthn().generateRegistrationOptions({
      rpName: RP_NAME,
      rpID: this.rpID,
      userID: new Uint8Array(crypto.createHmac('sha256', this.userHandleKey).update(principalKey(principal)).digest()),
      userName: signedIn.type === 'owner' ? signedIn.mailbox.address : signedIn.collaborator.username,
      userDisplayName: signedIn.type === 'owner' ? (signedIn.mailbox.displayName ?? signedIn.mailbox.address) : signedIn.collaborator.fullName,
      timeout: CHALLENGE_TTL_MS,
      attestationType: 'none',
      excludeCredentials: existing.map((f) => ({ id: f.credentialId as string, transports: transportsOf(f) })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
    });
    return { options, challenge: this.challengeFor('registration', principal, options.challenge) };
  }

  /**
   * Stores the passkey the browser created (`response`, JSON text) under `name` (trimmed; empty:
   * `defaultName`), once it answers `challenge`. Returns the recovery codes when this turns two-step
   * verification on, else null. Throws ValidationFailed `{ passkeyName: 'too_long' | 'unfit' }` or
   * `{ passkey: 'expired' | 'failed' | 'exists' }`; nothing is stored then.
   */
  async register(signedIn: SignedIn, challenge: PasskeyChallenge | undefined, response: string, name: string, defaultName: string, origin: Origin = {}): Promise<string[] | null> {
    const typed = name.trim();
    if (!isFitText(typed)) throw new ValidationFailed({ passkeyName: 'unfit' });
    if ([...typed].length > PASSKEY_NAME_MAX) throw new ValidationFailed({ passkeyName: 'too_long' });
    const principal = principalOf(signedIn);
    const expected = this.liveChallenge(challenge, 'registration', principal);
    if (!expected) throw new ValidationFailed({ passkey: 'expired' });
    const credential = parseCredential(response);
    if (!credential) throw new ValidationFailed({ passkey: 'failed' });
    let verified;
    try {
      verified = await webauthn().verifyRegistrationResponse({
        response: credential as RegistrationResponseJSON,
        expectedChallenge: expected,
        expectedOrigin: this.origin,
        expectedRPID: this.rpID,
        requireUserVerification: false,
      });
    } catch {
      throw new ValidationFailed({ passkey: 'failed' });
    }
    if (!verified.verified) throw new ValidationFailed({ passkey: 'failed' });
    const { credential: made } = verified.registrationInfo;
    const fields = {
      kind: 'passkey' as const,
      name: typed || [...defaultName].slice(0, PASSKEY_NAME_MAX).join(''),
      credentialId: made.id,
      credentialKey: digest(made.id),
      publicKey: Buffer.from(made.publicKey).toString('base64url'),
      signCount: made.counter,
      transports: made.transports?.join(',').slice(0, 200) || null,
    };
    try {
      return await this.twoStep.addFactor(signedIn, fields, origin);
    } catch (error) {
      // The unique credential key: this passkey is already registered, here or to another account.
      if (error instanceof UniqueConstraintError) throw new ValidationFailed({ passkey: 'exists' });
      throw error;
    }
  }

  /** The options for navigator.credentials.get() at the second step: that account's passkeys only. */
  async signInOptions(principal: Principal): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; challenge: PasskeyChallenge }> {
    const passkeys = await this.passkeysOf(principal);
    const options = await webauthn().generateAuthenticationOptions({
      rpID: this.rpID,
      allowCredentials: passkeys.map((f) => ({ id: f.credentialId as string, transports: transportsOf(f) })),
      userVerification: 'preferred',
      timeout: CHALLENGE_TTL_MS,
    });
    return { options, challenge: this.challengeFor('sign-in', principal, options.challenge) };
  }

  /**
   * Whether `response` (JSON text) is an assertion of one of the account's passkeys over
   * `challenge`. Its signature counter must have grown (unless the authenticator keeps none, always
   * 0), checked and stored in one conditional UPDATE with the time of use, so a replayed assertion
   * fails even when two arrive at once.
   */
  async verifySignIn(principal: Principal, challenge: PasskeyChallenge | undefined, response: string): Promise<boolean> {
    const expected = this.liveChallenge(challenge, 'sign-in', principal);
    const credential = parseCredential(response);
    if (!expected || !credential) return false;
    const factor = await this.db.models.SecondFactor.findOne({
      where: { ...ownedBy(principal), kind: 'passkey', credentialKey: digest(credential.id) },
    });
    if (!factor?.credentialId || !factor.publicKey) return false;
    let newCounter: number;
    try {
      const verified = await webauthn().verifyAuthenticationResponse({
        response: credential as AuthenticationResponseJSON,
        expectedChallenge: expected,
        expectedOrigin: this.origin,
        expectedRPID: this.rpID,
        credential: { id: factor.credentialId, publicKey: new Uint8Array(Buffer.from(factor.publicKey, 'base64url')), counter: factor.signCount, transports: transportsOf(factor) },
        requireUserVerification: false,
      });
      if (!verified.verified) return false;
      newCounter = verified.authenticationInfo.newCounter;
    } catch {
      return false;
    }
    const [updated] = await this.db.models.SecondFactor.update(
      { signCount: newCounter, lastUsedAt: this.clock.now() },
      { where: { id: factor.id, signCount: newCounter > 0 ? { [Op.lt]: newCounter } : 0 } },
    );
    return updated === 1;
  }

  private passkeysOf(principal: Principal): Promise<SecondFactor[]> {
    return this.db.models.SecondFactor.findAll({ where: { ...ownedBy(principal), kind: 'passkey' }, order: [['id', 'ASC']] });
  }

  private challengeFor(purpose: PasskeyChallenge['purpose'], principal: Principal, challenge: string): PasskeyChallenge {
    return { purpose, account: principalKey(principal), challenge, expiresAt: this.clock.now().getTime() + CHALLENGE_TTL_MS };
  }

  /** The challenge to expect, when the session's is for this purpose and account and still live. */
  private liveChallenge(challenge: PasskeyChallenge | undefined, purpose: PasskeyChallenge['purpose'], principal: Principal): string | null {
    if (!challenge || challenge.purpose !== purpose || challenge.account !== principalKey(principal)) return null;
    return challenge.expiresAt > this.clock.now().getTime() ? challenge.challenge : null;
  }
}
