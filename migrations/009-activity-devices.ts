import { DataTypes } from 'sequelize';
import type { MigrationContext } from '../src/db/migrate';

type Step = (context: { context: MigrationContext }) => Promise<void>;

/**
 * The device of each activity-log event (issue 14): the request's User-Agent, which the log shows in
 * words ("Chrome su Windows"). Events recorded before have none.
 */
export const up: Step = async ({ context: { queryInterface: q } }) => {
  await q.addColumn('audit_events', 'user_agent', { type: DataTypes.STRING(300) });
};

export const down: Step = async ({ context: { queryInterface: q } }) => {
  await q.removeColumn('audit_events', 'user_agent');
};
