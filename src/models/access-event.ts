import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** Whose sign-in it was: `unknown` when the typed username matched no account. */
export type AccessPrincipalType = 'owner' | 'collaborator' | 'unknown';
export type AccessOutcome = 'success' | 'failure';
/**
 * The mail services whose sign-ins Dovecot reports to the app (its service names, `%s`): IMAP, POP3,
 * SMTP submission, `smtp` for Postfix's SMTP AUTH checked through Dovecot's auth socket, and
 * `doveadm` for an operator's `doveadm auth test` (it signs in as the collaborator: it counts and shows).
 */
export const MAIL_PROTOCOLS = ['imap', 'pop3', 'submission', 'smtp', 'doveadm'] as const;
export type MailProtocol = (typeof MAIL_PROTOCOLS)[number];
/** The webmail's own sign-in, or a mail program's through the mail server (deploy/dovecot). */
export type AccessChannel = 'web' | MailProtocol;

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
  /** The browser's User-Agent, or the name and version a mail program gave in its IMAP ID. */
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
