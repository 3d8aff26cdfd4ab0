import { DataTypes, Model, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Sequelize } from 'sequelize';

/** One single-use recovery code of an account with two-step verification: only its keyed digest is kept. */
export class RecoveryCode extends Model<InferAttributes<RecoveryCode>, InferCreationAttributes<RecoveryCode>> {
  declare id: CreationOptional<number>;
  declare principalType: 'owner' | 'collaborator';
  declare principalId: number;
  declare codeHash: string;
  declare usedAt: Date | null;
  declare createdAt: CreationOptional<Date>;
  declare updatedAt: CreationOptional<Date>;
}

export function defineRecoveryCode(sequelize: Sequelize) {
  const R = class extends RecoveryCode {};
  R.init(
    {
      id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
      principalType: { type: DataTypes.STRING(16), allowNull: false },
      principalId: { type: DataTypes.INTEGER, allowNull: false },
      codeHash: { type: DataTypes.STRING(64), allowNull: false },
      usedAt: { type: DataTypes.DATE(3) },
      createdAt: DataTypes.DATE(3),
      updatedAt: DataTypes.DATE(3),
    },
    { sequelize, modelName: 'RecoveryCode', tableName: 'recovery_codes', underscored: true },
  );
  return R;
}
