import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export const SECOND_FACTOR_KINDS = ['totp', 'passkey'] as const;
export type SecondFactorKind = (typeof SECOND_FACTOR_KINDS)[number];

/**
 * One second factor of an owner or a collaborator: an authenticator app (TOTP, RFC 6238: `secret`
 * sealed, `lastStep` the last time step accepted) or a passkey (WebAuthn: credential id, COSE public
 * key, signature counter). Having any row means two-step verification is on.
 */
export class SecondFactor extends Model<InferAttributes<SecondFactor>, InferCreationAttributes<SecondFactor>> {
  declare id: CreationOptional<number>;
  declare principalType: 'owner' | 'collaborator';
  declare principalId: number;
  declare kind: SecondFactorKind;
  declare name: string | null;
  declare secret: string | null;
  declare lastStep: CreationOptional<number>;
  /** base64url */
  declare credentialId: string | null;
  /** SHA-256 hex of credentialId (the unique key: one passkey belongs to one account). */
  declare credentialKey: string | null;
  /** base64url of the COSE public key */
  declare publicKey: string | null;
  declare signCount: CreationOptional<number>;
  /** Comma-separated WebAuthn transports ("internal,hybrid"). */
  declare transports: string | null;
  declare lastUsedAt: Date | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export function defineSecondFactor(sequelize: Sequelize) {
  const F = class extends SecondFactor {};
  F.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      principalType: { type: DataTypes.STRING(16), allowNull: false },
      principalId: { type: DataTypes.INTEGER, allowNull: false },
      kind: { type: DataTypes.STRING(16), allowNull: false },
      name: { type: DataTypes.STRING(80) },
      secret: { type: DataTypes.TEXT },
      lastStep: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0, get() { return Number(this.getDataValue('lastStep')); } },
      credentialId: { type: DataTypes.TEXT },
      credentialKey: { type: DataTypes.STRING(64) },
      publicKey: { type: DataTypes.TEXT },
      signCount: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0, get() { return Number(this.getDataValue('signCount')); } },
      transports: { type: DataTypes.STRING(200) },
      lastUsedAt: { type: DataTypes.DATE(3) },
      createdAt: DataTypes.DATE(3),
      updatedAt: DataTypes.DATE(3),
    },
    { sequelize, modelName: 'SecondFactor', tableName: 'second_factors', underscored: true },
  );
  return F;
}
