import { Op, type Transaction } from 'sequelize';
import type { Database } from '../db';
import type { Collaborator, Link, LinkPurpose } from '../models';
import type { Clock } from '../lib/clock';
import { digest, newToken } from '../lib/secrets';
import { execute } from '../db/statements';

export interface IssuedLink {
  /** When the link stops working. */
  expiresAt: Date;
  /** The raw token: it goes into the email and nowhere else. */
  token: string;
}

/**
 * Single-use links: digest at rest, purpose-bound lifetimes, one live link per collaborator except
 * for the few forgot-password links that may be live together (issueAnother).
 */
export class Links {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly ttlSeconds: Record<LinkPurpose, number>,
  ) {}

  /** Revokes every earlier link, then issues a fresh one. */
  async issue(collaborator: Collaborator, purpose: LinkPurpose, t: Transaction): Promise<IssuedLink> {
    await this.revokeAll(collaborator, t);
    return this.issueAnother(collaborator, purpose, t);
  }

  /**
   * Issues a link next to the live ones, which stay good: forgot-password links, so that a repeated
   * request (anyone may make one) never kills the link already in the user's inbox. Redeeming any
   * link still ends them all. The caller caps how many are live (liveCount).
   */
  async issueAnother(collaborator: Collaborator, purpose: LinkPurpose, t: Transaction): Promise<IssuedLink> {
    const now = this.clock.now();
    const token = newToken();
    const expiresAt = new Date(now.getTime() + this.ttlSeconds[purpose] * 1000);
    await execute(this.db, 'INSERT INTO links (collaborator_id, purpose, token_digest, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)', [collaborator.id, purpose, digest(token), expiresAt, now], t);
    return { expiresAt, token };
  }

  async revokeAll(collaborator: Collaborator, t: Transaction): Promise<void> {
    await execute(this.db, 'UPDATE links SET revoked_at = $1 WHERE collaborator_id = $2 AND used_at IS NULL AND revoked_at IS NULL', [this.clock.now(), collaborator.id], t);
  }

  /** The live link for this token, or null. Never consumes it (GETs and mail scanners). */
  async findLive(token: string): Promise<Link | null> {
    if (!isTokenShaped(token)) return null;
    const link = await this.db.models.Link.findOne({ where: { tokenDigest: digest(token) } });
    return link?.isLive(this.clock.now()) ? link : null;
  }

  /**
   * Consumes the link in ONE conditional update: of any number of simultaneous redemptions,
   * exactly one touches the row. Returns false when the link was no longer live.
   */
  async consume(link: Link, t: Transaction): Promise<boolean> {
    const now = this.clock.now();
    const [count] = await this.db.models.Link.update(
      { usedAt: now },
      {
        where: { id: link.id, usedAt: null, revokedAt: null, expiresAt: { [Op.gt]: now } },
        transaction: t,
      },
    );
    return count === 1;
  }

  async history(collaborator: Collaborator, limit = 10): Promise<Link[]> {
    return this.db.models.Link.findAll({
      where: { collaboratorId: collaborator.id },
      order: [['id', 'DESC']],
      limit,
    });
  }

  /** How many of the collaborator's links of this purpose are live now. */
  async liveCount(collaborator: Collaborator, purpose: LinkPurpose, t: Transaction): Promise<number> {
    return this.db.models.Link.count({
      where: { collaboratorId: collaborator.id, purpose, usedAt: null, revokedAt: null, expiresAt: { [Op.gt]: this.clock.now() } },
      transaction: t,
    });
  }
}

/** base64url of 32 bytes is 43 characters; anything else cannot be one of ours. */
export function isTokenShaped(token: string): boolean {
  return /^[A-Za-z0-9_-]{43}$/.test(token);
}
