import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import type { Locale } from '../i18n';

export const ACCESS_LEVELS = ['read', 'write', 'send', 'mail_clients'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

export const STATUSES = ['pending', 'active', 'suspended', 'deactivated'] as const;
export type Status = (typeof STATUSES)[number];

type Derived = { omit: 'fullName' };

export class Collaborator extends Model<InferAttributes<Collaborator, Derived>, InferCreationAttributes<Collaborator, Derived>> {
  declare id: CreationOptional<number>;
  declare mailboxId: number;
  declare firstName: string;
  declare lastName: string;
  declare username: string;
  declare referenceEmail: string;
  declare accessLevel: AccessLevel;
  declare manageSettings: boolean;
  declare status: Status;
  declare passwordHash: string | null;
  declare credentialVersion: CreationOptional<number>;
  declare locale: CreationOptional<Locale>;
  declare deactivatedAt: Date | null;
  /** When access ends by itself (UTC instant the owner set in Italian time); null: no end. Cleared once deactivated. */
  declare accessEndsAt: CreationOptional<Date | null>;
  /** The end the owner's reminder was sent for, or waived for (set inside the reminder window); null: none yet. */
  declare remindedEndAt: CreationOptional<Date | null>;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;

  get fullName(): string {
    return `${this.firstName} ${this.lastName}`;
  }

  /**
   * Whether the end of access the owner set has come at `now`: from that instant the account lets
   * nobody in and its links are dead, even before the worker's AccessEnds has deactivated it.
   */
  accessEndedAt(now: Date): boolean {
    return this.accessEndsAt !== null && this.accessEndsAt !== undefined && this.accessEndsAt.getTime() <= now.getTime();
  }
}

export function defineCollaborator(sequelize: Sequelize) {
  const C = class extends Collaborator {};
  C.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      mailboxId: { type: DataTypes.INTEGER, allowNull: false },
      firstName: { type: DataTypes.STRING(80), allowNull: false },
      lastName: { type: DataTypes.STRING(80), allowNull: false },
      username: { type: DataTypes.STRING(300), allowNull: false },
      referenceEmail: { type: DataTypes.STRING(254), allowNull: false },
      accessLevel: { type: DataTypes.STRING(16), allowNull: false },
      manageSettings: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
      status: { type: DataTypes.STRING(16), allowNull: false },
      passwordHash: { type: DataTypes.STRING(60) },
      credentialVersion: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 },
      locale: { type: DataTypes.STRING(5), allowNull: false, defaultValue: 'it' },
      deactivatedAt: { type: DataTypes.DATE(3) },
      accessEndsAt: { type: DataTypes.DATE(3) },
      remindedEndAt: { type: DataTypes.DATE(3) },
      createdAt: DataTypes.DATE(3),
      updatedAt: DataTypes.DATE(3),
    },
    { sequelize, modelName: 'Collaborator', tableName: 'collaborators', underscored: true },
  );
  return C;
}
