import { DataTypes } from 'sequelize';
import type { MigrationContext } from '../src/db/migrate';

type Step = (context: { context: MigrationContext }) => Promise<void>;

/**
 * Identities of OpenID Connect providers (Google, Microsoft 365…) linked to an owner or a collaborator
 * (issue 16). An identity is its issuer and subject (OpenID Connect Core §5.7: the only stable,
 * unique pair), never an email address: the unique index on both makes one identity belong to one
 * account. Both columns compare byte for byte (BINARY on MariaDB/MySQL, SQLite's default): a subject
 * differing only in case is another person.
 */
export const up: Step = async ({ context: { queryInterface: q } }) => {
  await q.createTable('linked_identities', {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    principal_type: { type: DataTypes.STRING(16), allowNull: false },
    principal_id: { type: DataTypes.INTEGER, allowNull: false },
    provider: { type: DataTypes.STRING(16), allowNull: false },
    issuer: { type: DataTypes.STRING(255).BINARY, allowNull: false },
    subject: { type: DataTypes.STRING(255).BINARY, allowNull: false },
    // Shown to its holder to tell two linked accounts apart; never used to find anyone.
    email: { type: DataTypes.STRING(254) },
    last_used_at: { type: DataTypes.DATE(3) },
    created_at: { type: DataTypes.DATE(3), allowNull: false },
    updated_at: { type: DataTypes.DATE(3), allowNull: false },
  });
  await q.addIndex('linked_identities', ['issuer', 'subject'], { name: 'linked_identities_issuer_subject', unique: true });
  await q.addIndex('linked_identities', ['principal_type', 'principal_id'], { name: 'linked_identities_principal' });
};

export const down: Step = async ({ context: { queryInterface: q } }) => {
  await q.dropTable('linked_identities');
};
