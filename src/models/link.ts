import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export const LINK_PURPOSES = ['invitation', 'owner_reset', 'self_reset'] as const;
export type LinkPurpose = (typeof LINK_PURPOSES)[number];

/** Where a link stands: used and revoked are final; otherwise live until `expiresAt`, expired from then on. */
export type LinkState = 'used' | 'revoked' | 'expired' | 'live';

/** A single-use link. Only the SHA-256 digest of its token is stored. */
export class Link extends Model<InferAttributes<Link>, InferCreationAttributes<Link>> {
  declare id: CreationOptional<number>;
  declare collaboratorId: number;
  declare purpose: LinkPurpose;
  declare tokenDigest: string;
  declare expiresAt: Date;
  declare usedAt: Date | null;
  declare revokedAt: Date | null;
  declare createdAt: Date;
  /** When the owner was told that this invitation expired unused (owner-notices.ts). */
  declare expiryNoticedAt: CreationOptional<Date | null>;

  /** The link's state at `now` (the domain's clock). */
  stateAt(now: Date): LinkState {
    if (this.usedAt) return 'used';
    if (this.revokedAt) return 'revoked';
    return this.expiresAt.getTime() > now.getTime() ? 'live' : 'expired';
  }

  isLive(now: Date): boolean {
    return this.stateAt(now) === 'live';
  }
}

export function defineLink(sequelize: Sequelize) {
  const L = class extends Link {};
  L.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      collaboratorId: { type: DataTypes.INTEGER, allowNull: false },
      purpose: { type: DataTypes.STRING(16), allowNull: false },
      tokenDigest: { type: DataTypes.STRING(64), allowNull: false },
      expiresAt: { type: DataTypes.DATE(3), allowNull: false },
      usedAt: { type: DataTypes.DATE(3) },
      revokedAt: { type: DataTypes.DATE(3) },
      createdAt: { type: DataTypes.DATE(3), allowNull: false },
      expiryNoticedAt: { type: DataTypes.DATE(3) },
    },
    { sequelize, modelName: 'Link', tableName: 'links', underscored: true, timestamps: false },
  );
  return L;
}
