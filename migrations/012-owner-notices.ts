import { DataTypes, Op } from 'sequelize';
import type { MigrationContext } from '../src/db/migrate';

type Step = (context: { context: MigrationContext }) => Promise<void>;

/**
 * What the owner is told about collaborators (src/domain/owner-notices.ts): the owner's choices (one
 * row per mailbox, none until saved: the defaults; an address takes effect once confirmed by a link
 * emailed to it), the notices waiting for the daily digest, the
 * invitation links whose expiry was told, and the devices (program and network) each collaborator's
 * mail programs signed in from.
 */
export const up: Step = async ({ context: { queryInterface: q } }) => {
  await q.createTable('notice_settings', {
    mailbox_id: { type: DataTypes.INTEGER, primaryKey: true, references: { model: 'mailboxes', key: 'id' }, onDelete: 'CASCADE' },
    address: { type: DataTypes.STRING(254) },
    // An address asked for and not confirmed yet: the SHA-256 of the emailed token (hex), its expiry.
    pending_address: { type: DataTypes.STRING(254) },
    pending_token_digest: { type: DataTypes.STRING(64) },
    pending_expires_at: { type: DataTypes.DATE(3) },
    events_off: { type: DataTypes.STRING(200), allowNull: false, defaultValue: '' },
    digest_hour: { type: DataTypes.INTEGER },
    digest_day: { type: DataTypes.STRING(10) },
    updated_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await q.createTable('owner_notices', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    mailbox_id: { type: DataTypes.INTEGER, allowNull: false, references: { model: 'mailboxes', key: 'id' }, onDelete: 'CASCADE' },
    event: { type: DataTypes.STRING(32), allowNull: false },
    // No foreign key: a notice outlives the account it names (removed before the digest went out).
    collaborator_id: { type: DataTypes.INTEGER },
    first_name: { type: DataTypes.STRING(80), allowNull: false },
    last_name: { type: DataTypes.STRING(80), allowNull: false },
    username: { type: DataTypes.STRING(300), allowNull: false },
    detail: { type: DataTypes.STRING(300) },
    occurred_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await q.addIndex('owner_notices', ['mailbox_id', 'id'], { name: 'owner_notices_mailbox' });
  await q.addColumn('links', 'expiry_noticed_at', { type: DataTypes.DATE(3) });
  // Invitations that expired before this release are old news: the owner is told of later ones only.
  const now = new Date();
  await q.bulkUpdate('links', { expiry_noticed_at: now }, { purpose: 'invitation', expires_at: { [Op.lte]: now } });
  await q.createTable('mail_devices', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    collaborator_id: { type: DataTypes.INTEGER, allowNull: false, references: { model: 'collaborators', key: 'id' }, onDelete: 'CASCADE' },
    device: { type: DataTypes.STRING(200), allowNull: false },
    first_seen_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await q.addIndex('mail_devices', ['collaborator_id', 'device'], { name: 'mail_devices_device', unique: true });
};

export const down: Step = async ({ context: { queryInterface: q } }) => {
  await q.dropTable('mail_devices');
  await q.removeColumn('links', 'expiry_noticed_at');
  await q.dropTable('owner_notices');
  await q.dropTable('notice_settings');
};
