import type { MigrationContext } from '../src/db/migrate';

type Step = (context: { context: MigrationContext }) => Promise<void>;

/**
 * The Collaborations list filtered and sorted (issue 14). Each row shows its collaborator's latest
 * successful sign-in: an index probe per row, rather than a scan of the mailbox's sign-ins. A filter
 * by status counts its rows on the mailbox's part of the status index.
 */
export const up: Step = async ({ context: { queryInterface: q } }) => {
  await q.addIndex('access_events', ['collaborator_id', 'outcome', 'created_at'], { name: 'access_collaborator_outcome_time' });
  await q.addIndex('collaborators', ['mailbox_id', 'status'], { name: 'collaborators_mailbox_status' });
};

export const down: Step = async ({ context: { queryInterface: q } }) => {
  await q.removeIndex('collaborators', 'collaborators_mailbox_status');
  await q.removeIndex('access_events', 'access_collaborator_outcome_time');
};
