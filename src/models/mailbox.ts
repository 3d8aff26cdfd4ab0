import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import type { Locale } from '../i18n';

export class Mailbox extends Model<InferAttributes<Mailbox>, InferCreationAttributes<Mailbox>> {
  declare id: CreationOptional<number>;
  declare address: string;
  declare displayName: string | null;
  declare passwordHash: string | null;
  declare credentialVersion: CreationOptional<number>;
  declare locale: CreationOptional<Locale>;
  /** The owner's policy: collaborators must use two-step verification. */
  declare twoStepRequired: CreationOptional<boolean>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export function defineMailbox(sequelize: Sequelize) {
  const M = class extends Mailbox {};
  M.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      address: { type: DataTypes.STRING(254), allowNull: false },
      displayName: { type: DataTypes.STRING(120) },
      passwordHash: { type: DataTypes.STRING(60) },
      credentialVersion: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 },
      locale: { type: DataTypes.STRING(5), allowNull: false, defaultValue: 'it' },
      twoStepRequired: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      createdAt: DataTypes.DATE(3),
      updatedAt: DataTypes.DATE(3),
    },
    { sequelize, modelName: 'Mailbox', tableName: 'mailboxes', underscored: true },
  );
  return M;
}
