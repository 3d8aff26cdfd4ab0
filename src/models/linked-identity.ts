import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/**
 * An OpenID Connect identity linked to an owner or a collaborator (issue 16): the provider's `iss` and
 * `sub` (unique together), the configured provider it came through, and the email the provider gave
 * when it was linked, shown to its holder only.
 */
export class LinkedIdentity extends Model<InferAttributes<LinkedIdentity>, InferCreationAttributes<LinkedIdentity>> {
  declare id: CreationOptional<number>;
  declare principalType: 'owner' | 'collaborator';
  declare principalId: number;
  /** The configured provider's name (`google`, `microsoft`). */
  declare provider: string;
  declare issuer: string;
  declare subject: string;
  declare email: string | null;
  declare lastUsedAt: Date | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export function defineLinkedIdentity(sequelize: Sequelize) {
  const L = class extends LinkedIdentity {};
  L.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      principalType: { type: DataTypes.STRING(16), allowNull: false },
      principalId: { type: DataTypes.INTEGER, allowNull: false },
      provider: { type: DataTypes.STRING(16), allowNull: false },
      issuer: { type: DataTypes.STRING(255).BINARY, allowNull: false },
      subject: { type: DataTypes.STRING(255).BINARY, allowNull: false },
      email: { type: DataTypes.STRING(254) },
      lastUsedAt: { type: DataTypes.DATE(3) },
      createdAt: DataTypes.DATE(3),
      updatedAt: DataTypes.DATE(3),
    },
    { sequelize, modelName: 'LinkedIdentity', tableName: 'linked_identities', underscored: true },
  );
  return L;
}
