import type { AccessLevel, Mailbox, OwnerNoticeEvent } from '../models';
import type { Locale } from '../i18n';
import type { MailProgramSettings } from '../config';

/** Every email the app sends. */
export const EMAIL_TEMPLATES = [
  'invitation',
  'owner_reset',
  'self_reset',
  'password_set',
  'password_changed',
  'deactivated',
  'two_step_enabled',
  'two_step_disabled',
  'recovery_code_used',
  'two_step_changed',
  'app_password_created',
  'identity_linked',
  'access_ended',
  'access_end_reminder',
  'owner_notice',
  'owner_digest',
  'notice_address',
] as const;
export type EmailTemplate = (typeof EMAIL_TEMPLATES)[number];


/** The non-secret facts an email is built from (stored in the outbox as JSON). */
export interface EmailPayload {
  firstName: string;
  lastName: string;
  /** Full username, `chosen/mailbox`. */
  username: string;
  /** The PEC mailbox address the collaborator works in. */
  mailbox: string;
  /**
   * The owner's name as the mailbox shows it (its display name), named in the subject, the first line
   * and the From; absent when the mailbox has none (and in rows queued before it existed): the
   * mailbox address stands in.
   */
  ownerName?: string;
  /** A collaborator's access level; absent in an email to the owner. */
  accessLevel?: AccessLevel;
  /** `owner` for an email about the owner's own account (its footer differs). */
  audience?: 'owner';
  /** ISO date the link stops working (link emails only: the collaborators' and notice_address). */
  expiresAt?: string;
  /** ISO instant a collaborator's access ends or ended (access_ended, access_end_reminder). */
  accessEndsAt?: string;
  /** The collaborator an email to the owner is about, by name (access_end_reminder). */
  collaborator?: string;
  /** The app password created: its name and ISO creation time (app_password_created only). */
  appPassword?: { name: string; createdAt: string };
  /** The provider whose identity was linked, as people know it (`Google`, `Microsoft`) (identity_linked only). */
  identityProvider?: string;
  /** What happened to collaborators (owner_notice: one; owner_digest: the day's), oldest first. */
  notices?: NoticeLine[];
}

/** One thing that happened to a collaborator, told to the owner (src/domain/owner-notices.ts). */
export interface NoticeLine {
  event: OwnerNoticeEvent;
  /** The collaborator's first and last name. */
  name: string;
  /** Full username, `chosen/mailbox`. */
  username: string;
  /** ISO time it happened. */
  at: string;
  /** A fact in the collaborator's data (a server's refusal, a mail program and its network), or absent. */
  detail?: string;
  /** Where the owner can act: the collaborator's details page, or the list once the account is gone. */
  url: string;
}

/**
 * The payload of an email to the mailbox's owner (greeted by the mailbox's display name, else its
 * address; the owner's footer), with what its template adds.
 */
export function ownerPayload(mailbox: Pick<Mailbox, 'address' | 'displayName'>, extra: Partial<EmailPayload> = {}): EmailPayload {
  return {
    firstName: mailbox.displayName ?? mailbox.address,
    lastName: '',
    username: mailbox.address,
    mailbox: mailbox.address,
    ...(mailbox.displayName ? { ownerName: mailbox.displayName } : {}),
    audience: 'owner',
    ...extra,
  };
}

export interface EmailInput {
  template: EmailTemplate;
  locale: Locale;
  payload: EmailPayload;
  /** The single-use link (invitation, owner_reset, self_reset, notice_address), or the extension page (access_end_reminder); absent for notices. */
  link?: string;
  /** Where mail programs connect; from configuration. */
  mailServer: MailProgramSettings;
  /** Where the collaborator signs in to webmail (BASE_URL/login). */
  signInUrl: string;
}

export interface BuiltEmail {
  /** The display name of the From header (its address is the configured MAIL_FROM's), e.g. `Studio Rossi (via PEC Collaborazioni)`. */
  fromName: string;
  subject: string;
  text: string;
  html: string;
}
