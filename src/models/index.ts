import type { Sequelize } from 'sequelize';
import { defineMailbox } from './mailbox';
import { defineCollaborator } from './collaborator';
import { defineLink } from './link';
import { defineOutboxMessage } from './outbox-message';
import { defineAuditEvent } from './audit-event';
import { defineSession } from './session';
import { defineAccessEvent } from './access-event';
import { defineSecondFactor } from './second-factor';
import { defineRecoveryCode } from './recovery-code';
import { defineAppPassword } from './app-password';
import { defineLinkedIdentity } from './linked-identity';
import { defineMailDevice, defineNoticeSetting, defineOwnerNotice } from './owner-notice';

/** The models bound to one database; tests hold several at once (SQLite and MariaDB). */
export function defineModels(sequelize: Sequelize) {
  return {
    Mailbox: defineMailbox(sequelize),
    Collaborator: defineCollaborator(sequelize),
    Link: defineLink(sequelize),
    OutboxMessage: defineOutboxMessage(sequelize),
    AuditEvent: defineAuditEvent(sequelize),
    Session: defineSession(sequelize),
    AccessEvent: defineAccessEvent(sequelize),
    SecondFactor: defineSecondFactor(sequelize),
    RecoveryCode: defineRecoveryCode(sequelize),
    AppPassword: defineAppPassword(sequelize),
    NoticeSetting: defineNoticeSetting(sequelize),
    OwnerNotice: defineOwnerNotice(sequelize),
    MailDevice: defineMailDevice(sequelize),
    LinkedIdentity: defineLinkedIdentity(sequelize),
  };
}

export type Models = ReturnType<typeof defineModels>;

export { Mailbox } from './mailbox';
export { Collaborator, ACCESS_LEVELS, STATUSES, type AccessLevel, type Status } from './collaborator';
export { Link, LINK_PURPOSES, type LinkPurpose, type LinkState } from './link';
export { OutboxMessage, type OutboxKind, type DeliveryStatus } from './outbox-message';
export { AuditEvent, type ActorType } from './audit-event';
export { Session } from './session';
export { AccessEvent, MAIL_PROTOCOLS, type MailProtocol, type AccessChannel, type AccessOutcome, type AccessPrincipalType } from './access-event';
export { SecondFactor, SECOND_FACTOR_KINDS, type SecondFactorKind } from './second-factor';
export { RecoveryCode } from './recovery-code';
export { AppPassword, APP_PASSWORD_SCOPES, type AppPasswordScope } from './app-password';
export { NoticeSetting, OwnerNotice, MailDevice, OWNER_NOTICE_EVENTS, type OwnerNoticeEvent } from './owner-notice';
export { LinkedIdentity } from './linked-identity';
