import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/**
 * What the owner may be told about collaborators, in the order a digest lists them: what asks for
 * action first. `access_ended` is raised by the end-date feature (an account's end date passed).
 */
export const OWNER_NOTICE_EVENTS = ['email_failed', 'invitation_expired', 'access_ended', 'new_mail_device', 'password_self_reset', 'invitation_accepted'] as const;
export type OwnerNoticeEvent = (typeof OWNER_NOTICE_EVENTS)[number];

/** The owner's choices; a mailbox without a row has the defaults (every event, at once, to the mailbox). */
export class NoticeSetting extends Model<InferAttributes<NoticeSetting>, InferCreationAttributes<NoticeSetting>> {
  declare mailboxId: number;
  /** Where notices go, confirmed; null: the mailbox itself. */
  declare address: string | null;
  /** An address the owner asked for, not confirmed yet: nothing goes to it. */
  declare pendingAddress: CreationOptional<string | null>;
  /** SHA-256 (hex) of the token emailed to `pendingAddress`; the token itself is never stored. */
  declare pendingTokenDigest: CreationOptional<string | null>;
  /** When that token stops confirming. */
  declare pendingExpiresAt: CreationOptional<Date | null>;
  /** The events turned off, comma-separated (an event added later is on by default). */
  declare eventsOff: string;
  /** The hour (0–23, Italian time) of the daily digest; null: each notice at once. */
  declare digestHour: number | null;
  /** The Italian day (`YYYY-MM-DD`) whose digest was claimed last. */
  declare digestDay: string | null;
  declare updatedAt: CreationOptional<Date>;
}

/** A notice waiting for the next digest, with the collaborator's names as they were then. */
export class OwnerNotice extends Model<InferAttributes<OwnerNotice>, InferCreationAttributes<OwnerNotice>> {
  declare id: CreationOptional<number>;
  declare mailboxId: number;
  declare event: OwnerNoticeEvent;
  declare collaboratorId: number | null;
  declare firstName: string;
  declare lastName: string;
  declare username: string;
  declare detail: string | null;
  declare occurredAt: Date;
}

/** A device a collaborator's mail programs signed in from (see MailDevices in owner-notices.ts). */
export class MailDevice extends Model<InferAttributes<MailDevice>, InferCreationAttributes<MailDevice>> {
  declare id: CreationOptional<number>;
  declare collaboratorId: number;
  declare device: string;
  declare firstSeenAt: Date;
}

export function defineNoticeSetting(sequelize: Sequelize) {
  const S = class extends NoticeSetting {};
  S.init(
    {
      mailboxId: { type: DataTypes.INTEGER, primaryKey: true },
      address: { type: DataTypes.STRING(254) },
      pendingAddress: { type: DataTypes.STRING(254) },
      pendingTokenDigest: { type: DataTypes.STRING(64) },
      pendingExpiresAt: { type: DataTypes.DATE(3) },
      eventsOff: { type: DataTypes.STRING(200), allowNull: false, defaultValue: '' },
      digestHour: { type: DataTypes.INTEGER },
      digestDay: { type: DataTypes.STRING(10) },
      updatedAt: DataTypes.DATE(3),
    },
    { sequelize, modelName: 'NoticeSetting', tableName: 'notice_settings', underscored: true, createdAt: false },
  );
  return S;
}

export function defineOwnerNotice(sequelize: Sequelize) {
  const N = class extends OwnerNotice {};
  N.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      mailboxId: { type: DataTypes.INTEGER, allowNull: false },
      event: { type: DataTypes.STRING(32), allowNull: false },
      collaboratorId: { type: DataTypes.INTEGER },
      firstName: { type: DataTypes.STRING(80), allowNull: false },
      lastName: { type: DataTypes.STRING(80), allowNull: false },
      username: { type: DataTypes.STRING(300), allowNull: false },
      detail: { type: DataTypes.STRING(300) },
      occurredAt: { type: DataTypes.DATE(3), allowNull: false },
    },
    { sequelize, modelName: 'OwnerNotice', tableName: 'owner_notices', underscored: true, timestamps: false },
  );
  return N;
}

export function defineMailDevice(sequelize: Sequelize) {
  const D = class extends MailDevice {};
  D.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      collaboratorId: { type: DataTypes.INTEGER, allowNull: false },
      device: { type: DataTypes.STRING(200), allowNull: false },
      firstSeenAt: { type: DataTypes.DATE(3), allowNull: false },
    },
    { sequelize, modelName: 'MailDevice', tableName: 'mail_devices', underscored: true, timestamps: false },
  );
  return D;
}
