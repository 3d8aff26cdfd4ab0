import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** A web session (express-session store row), tagged with who it belongs to so it can be revoked. */
export class Session extends Model<InferAttributes<Session>, InferCreationAttributes<Session>> {
  declare sid: string;
  declare expires: Date | null;
  declare data: string | null;
  /** `owner:<mailbox id>` or `collaborator:<id>`; null before sign-in. */
  declare principal: string | null;
  declare ip: string | null;
  declare userAgent: string | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export function defineSession(sequelize: Sequelize) {
  const S = class extends Session {};
  S.init(
    {
      sid: { type: DataTypes.STRING(64), primaryKey: true },
      expires: { type: DataTypes.DATE(3) },
      data: { type: DataTypes.TEXT },
      principal: { type: DataTypes.STRING(40) },
      ip: { type: DataTypes.STRING(64) },
      userAgent: { type: DataTypes.STRING(300) },
      createdAt: DataTypes.DATE(3),
      updatedAt: DataTypes.DATE(3),
    },
    { sequelize, modelName: 'Session', tableName: 'sessions', underscored: true },
  );
  return S;
}
