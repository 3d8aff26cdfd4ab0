import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** Whose sign-in it was: `unknown` when the typed username matched no account. */
export type AccessPrincipalType = 'owner' | 'collaborator' | 'unknown';
export type AccessOutcome = 'success' | 'failure';
/** Only web sign-ins are seen: mail programs authenticate at the mail server. */
export type AccessChannel = 'web';

export class AccessEvent extends Model<InferAttributes<AccessEvent>, InferCreationAttributes<AccessEvent>> {
  declare id: CreationOptional<number>;
  declare mailboxId: number | null;
  declare collaboratorId: number | null;
  declare principalType: AccessPrincipalType;
  /** The account's username, or the typed one (truncated) when it matched no account. */
  declare username: string;
  declare channel: AccessChannel;
  declare outcome: AccessOutcome;
  declare ip: string | null;
  declare userAgent: string | null;
  declare createdAt: Date;
}

export function defineAccessEvent(sequelize: Sequelize) {
  const A = class extends AccessEvent {};
  A.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      mailboxId: { type: DataTypes.INTEGER },
      collaboratorId: { type: DataTypes.INTEGER },
      principalType: { type: DataTypes.STRING(16), allowNull: false },
      username: { type: DataTypes.STRING(300), allowNull: false },
      channel: { type: DataTypes.STRING(16), allowNull: false },
      outcome: { type: DataTypes.STRING(16), allowNull: false },
      ip: { type: DataTypes.STRING(64) },
      userAgent: { type: DataTypes.STRING(300) },
      createdAt: { type: DataTypes.DATE(3), allowNull: false },
    },
    { sequelize, modelName: 'AccessEvent', tableName: 'access_events', underscored: true, timestamps: false },
  );
  return A;
}
