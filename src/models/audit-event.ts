import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

export type ActorType = 'owner' | 'collaborator' | 'system' | 'anonymous';

export class AuditEvent extends Model<InferAttributes<AuditEvent>, InferCreationAttributes<AuditEvent>> {
  declare id: CreationOptional<number>;
  declare mailboxId: number;
  declare collaboratorId: number | null;
  /** The collaborator's username when the event happened: kept after removal. */
  declare subject: string | null;
  declare actorType: ActorType;
  declare actorId: number | null;
  declare actorName: string;
  declare action: string;
  declare ip: string | null;
  /** The User-Agent of the request (null for events recorded before migration 009, or without one). */
  declare userAgent: string | null;
  declare detail: string | null;
  declare createdAt: Date;
}

export function defineAuditEvent(sequelize: Sequelize) {
  const A = class extends AuditEvent {};
  A.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      mailboxId: { type: DataTypes.INTEGER, allowNull: false },
      collaboratorId: { type: DataTypes.INTEGER },
      subject: { type: DataTypes.STRING(300) },
      actorType: { type: DataTypes.STRING(16), allowNull: false },
      actorId: { type: DataTypes.INTEGER },
      actorName: { type: DataTypes.STRING(300), allowNull: false },
      action: { type: DataTypes.STRING(40), allowNull: false },
      ip: { type: DataTypes.STRING(64) },
      userAgent: { type: DataTypes.STRING(300) },
      detail: { type: DataTypes.TEXT },
      createdAt: { type: DataTypes.DATE(3), allowNull: false },
    },
    { sequelize, modelName: 'AuditEvent', tableName: 'audit_events', underscored: true, timestamps: false },
  );
  return A;
}
