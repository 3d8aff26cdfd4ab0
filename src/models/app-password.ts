import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';
import type { MailProtocol } from './access-event';

/** What a device may do with its app password: read and send (IMAP, POP3, SMTP) or only read (IMAP, POP3). */
export const APP_PASSWORD_SCOPES = ['read_send', 'read_only'] as const;
export type AppPasswordScope = (typeof APP_PASSWORD_SCOPES)[number];

/**
 * A collaborator's password for one mail program (issue 11). Only the bcrypt hash is stored; `prefix`
 * is the password's first characters, unique per collaborator, by which the mail server picks the row
 * (view `mail_app_passwords`, deploy/dovecot). Last use comes from Dovecot's auth policy reports.
 */
export class AppPassword extends Model<InferAttributes<AppPassword>, InferCreationAttributes<AppPassword>> {
  declare id: CreationOptional<number>;
  declare collaboratorId: number;
  declare name: string;
  declare prefix: string;
  declare passwordHash: string;
  declare scope: AppPasswordScope;
  declare lastUsedAt: Date | null;
  declare lastProtocol: MailProtocol | null;
  declare lastIp: string | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export function defineAppPassword(sequelize: Sequelize) {
  const A = class extends AppPassword {};
  A.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      collaboratorId: { type: DataTypes.INTEGER, allowNull: false },
      name: { type: DataTypes.STRING(80), allowNull: false },
      prefix: { type: DataTypes.STRING(16), allowNull: false },
      passwordHash: { type: DataTypes.STRING(60), allowNull: false },
      scope: { type: DataTypes.STRING(16), allowNull: false },
      lastUsedAt: { type: DataTypes.DATE(3) },
      lastProtocol: { type: DataTypes.STRING(16) },
      lastIp: { type: DataTypes.STRING(64) },
      createdAt: DataTypes.DATE(3),
      updatedAt: DataTypes.DATE(3),
    },
    { sequelize, modelName: 'AppPassword', tableName: 'app_passwords', underscored: true },
  );
  return A;
}
