import { DataTypes } from 'sequelize';
import type { MigrationContext } from '../src/db/migrate';

type Step = (context: { context: MigrationContext }) => Promise<void>;

// Sign-ins (successful or not) as the owner sees them under Settings → Access history.
export const up: Step = async ({ context: { queryInterface: q } }) => {
  await q.createTable('access_events', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false },
    // No foreign keys: the history outlives a removed collaborator; null when no mailbox matched.
    mailbox_id: { type: DataTypes.INTEGER, allowNull: true },
    collaborator_id: { type: DataTypes.INTEGER, allowNull: true },
    principal_type: { type: DataTypes.STRING(16), allowNull: false },
    username: { type: DataTypes.STRING(300), allowNull: false },
    channel: { type: DataTypes.STRING(16), allowNull: false },
    outcome: { type: DataTypes.STRING(16), allowNull: false },
    ip: { type: DataTypes.STRING(64), allowNull: true },
    user_agent: { type: DataTypes.STRING(300), allowNull: true },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await q.addIndex('access_events', ['mailbox_id', 'created_at'], { name: 'access_mailbox_time' });
  await q.addIndex('access_events', ['created_at'], { name: 'access_time' });
};

export const down: Step = async ({ context: { queryInterface: q } }) => {
  await q.dropTable('access_events');
};
