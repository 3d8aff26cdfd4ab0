import { DataTypes } from 'sequelize';
import type { MigrationContext } from '../src/db/migrate';

type Step = (context: { context: MigrationContext }) => Promise<void>;

const id = { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true, allowNull: false };
const timestamp = { type: DataTypes.DATE(3), allowNull: false };
const optionalTimestamp = { type: DataTypes.DATE(3), allowNull: true };

export const up: Step = async ({ context: { queryInterface: q } }) => {
  await q.createTable('mailboxes', {
    id,
    address: { type: DataTypes.STRING(254), allowNull: false, unique: true },
    display_name: { type: DataTypes.STRING(120), allowNull: true },
    password_hash: { type: DataTypes.STRING(60), allowNull: true },
    credential_version: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 },
    locale: { type: DataTypes.STRING(5), allowNull: false, defaultValue: 'it' },
    created_at: timestamp,
    updated_at: timestamp,
  });

  await q.createTable('collaborators', {
    id,
    mailbox_id: { type: DataTypes.INTEGER, allowNull: false, references: { model: 'mailboxes', key: 'id' }, onDelete: 'CASCADE' },
    first_name: { type: DataTypes.STRING(80), allowNull: false },
    last_name: { type: DataTypes.STRING(80), allowNull: false },
    username: { type: DataTypes.STRING(300), allowNull: false, unique: true },
    reference_email: { type: DataTypes.STRING(254), allowNull: false },
    access_level: { type: DataTypes.STRING(16), allowNull: false },
    manage_settings: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false },
    status: { type: DataTypes.STRING(16), allowNull: false },
    password_hash: { type: DataTypes.STRING(60), allowNull: true },
    credential_version: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 1 },
    locale: { type: DataTypes.STRING(5), allowNull: false, defaultValue: 'it' },
    deactivated_at: optionalTimestamp,
    created_at: timestamp,
    updated_at: timestamp,
  });
  // The list is ordered by name within a mailbox and paged: this index serves both.
  await q.addIndex('collaborators', ['mailbox_id', 'last_name', 'first_name', 'id'], { name: 'collaborators_mailbox_name' });

  await q.createTable('links', {
    id,
    collaborator_id: { type: DataTypes.INTEGER, allowNull: false, references: { model: 'collaborators', key: 'id' }, onDelete: 'CASCADE' },
    purpose: { type: DataTypes.STRING(16), allowNull: false },
    token_digest: { type: DataTypes.STRING(64), allowNull: false, unique: true },
    expires_at: timestamp,
    used_at: optionalTimestamp,
    revoked_at: optionalTimestamp,
    created_at: timestamp,
  });
  await q.addIndex('links', ['collaborator_id', 'id'], { name: 'links_collaborator' });

  await q.createTable('outbox_messages', {
    id,
    kind: { type: DataTypes.STRING(16), allowNull: false },
    mailbox_id: { type: DataTypes.INTEGER, allowNull: true },
    collaborator_id: { type: DataTypes.INTEGER, allowNull: true },
    template: { type: DataTypes.STRING(40), allowNull: false },
    recipient: { type: DataTypes.STRING(320), allowNull: true },
    locale: { type: DataTypes.STRING(5), allowNull: false, defaultValue: 'it' },
    payload: { type: DataTypes.TEXT, allowNull: false },
    secret: { type: DataTypes.TEXT, allowNull: true },
    status: { type: DataTypes.STRING(16), allowNull: false },
    attempts: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    next_attempt_at: timestamp,
    lease_owner: { type: DataTypes.STRING(64), allowNull: true },
    lease_until: optionalTimestamp,
    last_error: { type: DataTypes.STRING(500), allowNull: true },
    message_id: { type: DataTypes.STRING(200), allowNull: true },
    sent_at: optionalTimestamp,
    created_at: timestamp,
    updated_at: timestamp,
  });
  await q.addIndex('outbox_messages', ['status', 'next_attempt_at'], { name: 'outbox_due' });
  await q.addIndex('outbox_messages', ['collaborator_id', 'id'], { name: 'outbox_collaborator' });

  await q.createTable('audit_events', {
    id,
    mailbox_id: { type: DataTypes.INTEGER, allowNull: false },
    // No foreign key: the history outlives a removed collaborator.
    collaborator_id: { type: DataTypes.INTEGER, allowNull: true },
    subject: { type: DataTypes.STRING(300), allowNull: true },
    actor_type: { type: DataTypes.STRING(16), allowNull: false },
    actor_id: { type: DataTypes.INTEGER, allowNull: true },
    actor_name: { type: DataTypes.STRING(300), allowNull: false },
    action: { type: DataTypes.STRING(40), allowNull: false },
    ip: { type: DataTypes.STRING(64), allowNull: true },
    detail: { type: DataTypes.TEXT, allowNull: true },
    created_at: timestamp,
  });
  await q.addIndex('audit_events', ['mailbox_id', 'created_at'], { name: 'audit_mailbox_time' });
  await q.addIndex('audit_events', ['collaborator_id', 'created_at'], { name: 'audit_collaborator_time' });

  await q.createTable('sessions', {
    sid: { type: DataTypes.STRING(64), primaryKey: true, allowNull: false },
    expires: { type: DataTypes.DATE(3), allowNull: true },
    data: { type: DataTypes.TEXT, allowNull: true },
    principal: { type: DataTypes.STRING(40), allowNull: true },
    ip: { type: DataTypes.STRING(64), allowNull: true },
    user_agent: { type: DataTypes.STRING(300), allowNull: true },
    created_at: timestamp,
    updated_at: timestamp,
  });
  await q.addIndex('sessions', ['principal'], { name: 'sessions_principal' });
  await q.addIndex('sessions', ['expires'], { name: 'sessions_expires' });
};

export const down: Step = async ({ context: { queryInterface: q } }) => {
  for (const table of ['sessions', 'audit_events', 'outbox_messages', 'links', 'collaborators', 'mailboxes']) {
    await q.dropTable(table);
  }
};
