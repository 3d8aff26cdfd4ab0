import { UniqueConstraintError } from 'sequelize';
import { providerLabel } from '../config';
import type { Database } from '../db';
import type { Clock } from '../lib/clock';
import type { LinkedIdentity } from '../models';
import type { SignedIn } from './accounts';
import { ValidationFailed } from './errors';
import type { Principal } from './sessions';
import { ownedBy, principalOf, type Origin, type TwoStep } from './two-step';

/** An identity as the provider's verified ID token gives it (src/shell/oidc.ts). */
export interface ProvidedIdentity {
  /** The configured provider's name (`google`, `microsoft`). */
  provider: string;
  /** The ID token's `iss` and `sub`: the identity itself. */
  issuer: string;
  subject: string;
  /** The ID token's `email`, when given: shown to the holder, never used to find anyone. */
  email: string | null;
}

/** OpenID Connect allows `sub` and `iss` up to 255 ASCII characters (Core §2): longer is no identity of ours. */
const MAX_LENGTH = 255;

/**
 * OpenID Connect identities linked to owners and collaborators (issue 16). An identity is found by its
 * issuer and subject only (the unique index of linked_identities), never by an email claim: a
 * provider account that was never linked, whatever its address, finds nobody ("nOAuth").
 */
export class Identities {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly twoStep: TwoStep,
  ) {}

  /** The account's linked identities, oldest first. */
  listOf(principal: Principal): Promise<LinkedIdentity[]> {
    return this.db.models.LinkedIdentity.findAll({ where: ownedBy(principal), order: [['createdAt', 'ASC'], ['id', 'ASC']] });
  }

  /** The account `issuer` + `subject` is linked to, or null; its last use is stamped now. */
  async find(issuer: string, subject: string): Promise<Principal | null> {
    const linked = await this.db.models.LinkedIdentity.findOne({ where: { issuer, subject } });
    if (!linked) return null;
    await linked.update({ lastUsedAt: this.clock.now() });
    return { type: linked.principalType, id: linked.principalId } as Principal;
  }

  /**
   * Links `identity` to the signed-in account, records it and emails the holder, in one transaction.
   * Throws ValidationFailed `{ identity: 'already_linked' }` (to this account), `'linked_elsewhere'`
   * (to another: the unique index decides, two simultaneous links included) or `'unfit'` (an issuer or
   * subject over 255 characters); nothing changes then.
   */
  async link(signedIn: SignedIn, identity: ProvidedIdentity, origin: Origin = {}): Promise<LinkedIdentity> {
    const principal = principalOf(signedIn);
    if (identity.issuer.length > MAX_LENGTH || identity.subject.length > MAX_LENGTH) throw new ValidationFailed({ identity: 'unfit' });
    try {
      return await this.db.transaction(async (t) => {
        const linked = await this.db.models.LinkedIdentity.create(
          { ...ownedBy(principal), provider: identity.provider, issuer: identity.issuer, subject: identity.subject, email: identity.email?.slice(0, 254) ?? null, lastUsedAt: null },
          { transaction: t },
        );
        await this.twoStep.record(signedIn, 'identity.linked', t, origin, { provider: providerLabel(identity.provider) });
        await this.twoStep.email(signedIn, 'identity_linked', t, { identityProvider: providerLabel(identity.provider) });
        return linked;
      });
    } catch (error) {
      if (!(error instanceof UniqueConstraintError)) throw error;
      const owner = await this.db.models.LinkedIdentity.findOne({ where: { issuer: identity.issuer, subject: identity.subject } });
      const mine = owner?.principalType === principal.type && owner.principalId === principal.id;
      throw new ValidationFailed({ identity: mine ? 'already_linked' : 'linked_elsewhere' });
    }
  }

  /** Unlinks the account's identity `id` and records it; null when the account has no such identity. */
  async unlink(signedIn: SignedIn, id: number, origin: Origin = {}): Promise<LinkedIdentity | null> {
    return this.db.transaction(async (t) => {
      const linked = await this.db.models.LinkedIdentity.findOne({ where: { ...ownedBy(principalOf(signedIn)), id }, transaction: t });
      if (!linked) return null;
      await linked.destroy({ transaction: t });
      await this.twoStep.record(signedIn, 'identity.unlinked', t, origin, { provider: providerLabel(linked.provider) });
      return linked;
    });
  }
}
