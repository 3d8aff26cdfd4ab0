import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** What the outbox carries: emails, and notices to the mail server (doveadm). */
export type OutboxKind = 'email' | 'doveadm';
/** `queued`: never tried; `retrying`: failed at least once, will be tried again. */
export type DeliveryStatus = 'queued' | 'retrying' | 'sent' | 'failed';

export class OutboxMessage extends Model<InferAttributes<OutboxMessage>, InferCreationAttributes<OutboxMessage>> {
  declare id: CreationOptional<number>;
  declare kind: OutboxKind;
  declare mailboxId: number | null;
  declare collaboratorId: number | null;
  declare template: string;
  declare recipient: string | null;
  declare locale: string;
  /** JSON of the non-secret data the message is built from. */
  declare payload: string;
  /** The secret part (a link), encrypted with the app key; dropped once delivered. */
  declare secret: string | null;
  declare status: DeliveryStatus;
  declare attempts: CreationOptional<number>;
  /** When it is due; for a `failed` message, when it was given up (the outbox health counts by it). */
  declare nextAttemptAt: Date;
  /** The first failed attempt; null while none failed. */
  declare firstFailedAt: CreationOptional<Date | null>;
  declare leaseOwner: string | null;
  declare leaseUntil: Date | null;
  declare lastError: string | null;
  declare messageId: string | null;
  declare sentAt: Date | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export function defineOutboxMessage(sequelize: Sequelize) {
  const O = class extends OutboxMessage {};
  O.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      kind: { type: DataTypes.STRING(16), allowNull: false },
      mailboxId: { type: DataTypes.INTEGER },
      collaboratorId: { type: DataTypes.INTEGER },
      template: { type: DataTypes.STRING(40), allowNull: false },
      recipient: { type: DataTypes.STRING(320) },
      locale: { type: DataTypes.STRING(5), allowNull: false },
      payload: { type: DataTypes.TEXT, allowNull: false },
      secret: { type: DataTypes.TEXT },
      status: { type: DataTypes.STRING(16), allowNull: false },
      attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
      nextAttemptAt: { type: DataTypes.DATE(3), allowNull: false },
      firstFailedAt: { type: DataTypes.DATE(3) },
      leaseOwner: { type: DataTypes.STRING(64) },
      leaseUntil: { type: DataTypes.DATE(3) },
      lastError: { type: DataTypes.STRING(500) },
      messageId: { type: DataTypes.STRING(200) },
      sentAt: { type: DataTypes.DATE(3) },
      createdAt: DataTypes.DATE(3),
      updatedAt: DataTypes.DATE(3),
    },
    { sequelize, modelName: 'OutboxMessage', tableName: 'outbox_messages', underscored: true },
  );
  return O;
}
