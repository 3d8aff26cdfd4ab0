import { DataTypes } from 'sequelize';
import type { MigrationContext } from '../src/db/migrate';

type Step = (context: { context: MigrationContext }) => Promise<void>;

const principal = {
  principal_type: { type: DataTypes.STRING(16), allowNull: false },
  principal_id: { type: DataTypes.INTEGER, allowNull: false },
};

// A collaborator with a second factor, or of a mailbox whose owner requires one, signs in to mail
// programs with app passwords only: the view the mail server reads shows its web password as NULL
// (Dovecot's query skips NULL), but keeps the row, which Postfix reads to know who may send as the
// mailbox. Name and columns stay (outside mail servers).
const mailAccounts = (passwordHash: string) => `
    CREATE VIEW mail_accounts AS
    SELECT c.username AS username, ${passwordHash} AS password_hash, m.address AS mailbox
    FROM collaborators c JOIN mailboxes m ON m.id = c.mailbox_id
    WHERE c.status = 'active' AND c.access_level = 'mail_clients' AND c.password_hash IS NOT NULL`;
const WEB_PASSWORD_UNLESS_TWO_STEP = `CASE WHEN m.two_step_required = 1 OR EXISTS (SELECT 1 FROM second_factors f
      WHERE f.principal_type = 'collaborator' AND f.principal_id = c.id) THEN NULL ELSE c.password_hash END`;

/**
 * Two-step verification (issue 11): second factors of owners and collaborators (a TOTP secret, sealed,
 * or a WebAuthn passkey's public key), their single-use recovery codes (SHA-256 under the app's key),
 * and the owner's policy that collaborators must use it.
 */
export const up: Step = async ({ context: { sequelize, queryInterface: q } }) => {
  await q.createTable('second_factors', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    ...principal,
    kind: { type: DataTypes.STRING(16), allowNull: false },
    name: { type: DataTypes.STRING(80) },
    // TOTP: the sealed RFC 6238 secret and the last time step accepted (a code is accepted once).
    secret: { type: DataTypes.TEXT },
    last_step: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    // Passkey: the credential id (base64url), its digest for uniqueness, public key and counter.
    credential_id: { type: DataTypes.TEXT },
    credential_key: { type: DataTypes.STRING(64) },
    public_key: { type: DataTypes.TEXT },
    sign_count: { type: DataTypes.BIGINT, allowNull: false, defaultValue: 0 },
    transports: { type: DataTypes.STRING(200) },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
    updated_at: { type: DataTypes.DATE(3), allowNull: false },
    last_used_at: { type: DataTypes.DATE(3) },
  });
  await q.addIndex('second_factors', ['principal_type', 'principal_id'], { name: 'second_factors_principal' });
  await q.addIndex('second_factors', ['credential_key'], { name: 'second_factors_credential', unique: true });
  await q.createTable('recovery_codes', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    ...principal,
    code_hash: { type: DataTypes.STRING(64), allowNull: false },
    used_at: { type: DataTypes.DATE(3) },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
    updated_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await q.addIndex('recovery_codes', ['principal_type', 'principal_id'], { name: 'recovery_codes_principal' });
  await q.addColumn('mailboxes', 'two_step_required', { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: false });
  await sequelize.query('DROP VIEW mail_accounts');
  await sequelize.query(mailAccounts(WEB_PASSWORD_UNLESS_TWO_STEP));
};

export const down: Step = async ({ context: { sequelize, queryInterface: q } }) => {
  await sequelize.query('DROP VIEW mail_accounts');
  await sequelize.query(mailAccounts('c.password_hash'));
  await q.removeColumn('mailboxes', 'two_step_required');
  await q.dropTable('recovery_codes');
  await q.dropTable('second_factors');
};
