import { DataTypes } from 'sequelize';
import type { MigrationContext } from '../src/db/migrate';

type Step = (context: { context: MigrationContext }) => Promise<void>;

/**
 * Readiness and metrics (src/mail/outbox-health.ts) count each lane's backlog by status on every
 * probe and scrape: one index answers them all from its entries alone, sent rows never read. A
 * message's first failure is kept, so "failing since" is a fact rather than a guess.
 */
export const up: Step = async ({ context: { queryInterface: q } }) => {
  await q.addColumn('outbox_messages', 'first_failed_at', { type: DataTypes.DATE(3), allowNull: true });
  await q.addIndex('outbox_messages', ['kind', 'status', 'next_attempt_at'], { name: 'outbox_lane_status' });
};

export const down: Step = async ({ context: { queryInterface: q } }) => {
  await q.removeIndex('outbox_messages', 'outbox_lane_status');
  await q.removeColumn('outbox_messages', 'first_failed_at');
};
