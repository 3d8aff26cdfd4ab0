import type { AuditEvent } from '../models';
import type { AuditAction } from '../domain/audit';
import type { Translate } from '../i18n';
import { deviceOf } from '../lib/user-agent';
import { isLocalNetwork, shortAddress } from '../lib/ip';

/** One event of the activity log in words, as the owner reads it on a page or in the export. */
export interface ActivityEntry {
  /** "Hai aggiunto Giulia Bianchi", "Mario Rossi ha impostato la password". */
  sentence: string;
  /** The event's particulars in words ("Accesso: Lettura · link valido fino al …"), '' when none. */
  details: string;
  /** The collaborator's username then (kept after removal), or the mailbox address for the owner's own account. */
  subject: string;
  /** The browser or program and the system: "Chrome su Windows", "Thunderbird"; '' when not recorded. */
  device: string;
  /** Where from, as far as can honestly be told without a GeoIP database: "rete locale", "indirizzo 203.0.113.7"; '' when unknown. */
  place: string;
}

/**
 * Who reads the sentences: the owner on the pages ("Hai aggiunto …"), or anyone the export is handed
 * to ("Il titolare ha aggiunto …").
 */
export type Reader = 'owner' | 'anyone';

export interface DescribeOptions {
  t: Translate;
  /** The page's date format (src/i18n/dates.ts). */
  date: (d: Date | string | null | undefined) => string;
  /** Current names of collaborators by id (Audit.namesOf); a removed one is named by its username. */
  names: Map<number, string>;
  reader: Reader;
}

/** The sentence each action reads as (activity.events.<kind> in the texts). */
const KINDS: Record<AuditAction, string> = {
  'collaborator.created': 'added',
  'link.sent': 'resetLinkSent',
  'link.resent': 'linkResent',
  'password.reset': 'passwordReset',
  'password.set': 'passwordSet',
  'password.changed': 'passwordChanged',
  'password.change_failed': 'passwordChangeFailed',
  'collaborator.deactivated': 'deactivated',
  'collaborator.removed': 'removed',
  'collaborator.recreated': 'recreated',
  'collaborator.reactivated': 'reactivated',
  'collaborator.renamed': 'renamed',
  'access.changed': 'accessChanged',
  'two_step.enabled': 'twoStepEnabled',
  'two_step.disabled': 'twoStepDisabled',
  'two_step.factor_added': 'factorAdded',
  'two_step.factor_removed': 'factorRemoved',
  'two_step.recovery_code_used': 'recoveryCodeUsed',
  'two_step.recovery_codes_renewed': 'recoveryCodesRenewed',
  'two_step.policy_changed': 'policyOptional',
  'app_password.created': 'appPasswordCreated',
  'app_password.revoked': 'appPasswordRevoked',
  'identity.linked': 'identityLinked',
  'identity.unlinked': 'identityUnlinked',
  'access_end.changed': 'accessEndSet',
  // Recorded as the system's: the owner chose the date, nobody acted at that moment.
  'collaborator.access_ended': 'accessEnded',
  'notices.changed': 'noticesChanged',
  'notices.address_requested': 'noticeAddressRequested',
  'notices.address_confirmed': 'noticeAddressConfirmed',
};

/** The detail the domain stored (JSON), or {} for none or for text that is not a JSON object. */
function detailOf(event: AuditEvent): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(event.detail ?? '{}');
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function kindOf(event: AuditEvent, detail: Record<string, unknown>): string {
  // A forgot-password link is asked for by whoever typed the username: not an action of the owner's.
  if (event.action === 'link.sent' && detail.purpose === 'self_reset') return 'selfResetRequested';
  // Recorded before an addition's one record said it (the invitation of an older addition).
  if (event.action === 'link.sent' && detail.purpose === 'invitation') return 'invitationSent';
  if (event.action === 'two_step.policy_changed' && detail.required === true) return 'policyRequired';
  // Recorded on both ids: the account closed, and the one that took its place.
  if (event.action === 'collaborator.recreated' && detail.from === event.collaboratorId) return 'replaced';
  if (event.action === 'access_end.changed' && detail.accessEndsAt === null) return 'accessEndRemoved';
  return KINDS[event.action as AuditAction] ?? 'other';
}

/** The part of a username before the mailbox: what its holder types and is known by. */
const chosenPart = (username: string) => username.split('/')[0] ?? username;

const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** What a change of the notification settings set (notices.changed): the events on, the delivery, the address. */
function noticeDetails(detail: Record<string, unknown>, t: Translate): string[] {
  const parts: string[] = [];
  if (Array.isArray(detail.events)) {
    const events = detail.events.filter((event): event is string => typeof event === 'string').map((event) => t(`notifications.event.${event}`));
    parts.push(t('activity.detail.noticeEvents', { events: events.length > 0 ? events.join('; ') : t('activity.detail.noticeNone') }));
  }
  if (typeof detail.digestHour === 'number') parts.push(t('activity.detail.digestAt', { hour: `${String(detail.digestHour).padStart(2, '0')}:00` }));
  else if (detail.delivery === 'immediate') parts.push(t('activity.detail.immediate'));
  return parts;
}

function detailsOf(event: AuditEvent, detail: Record<string, unknown>, { t, date }: DescribeOptions): string {
  const parts: string[] = event.action === 'notices.changed' ? noticeDetails(detail, t) : [];
  if (event.action === 'notices.changed' && typeof detail.address === 'string') parts.push(t('activity.detail.noticeAddress', { address: detail.address }));
  const level = (value: unknown) => t(`access.${text(value)}`);
  if (typeof detail.from === 'string' && typeof detail.to === 'string') parts.push(t('activity.detail.accessChange', { from: level(detail.from), to: level(detail.to) }));
  else if (typeof detail.accessLevel === 'string') parts.push(t('activity.detail.access', { level: level(detail.accessLevel) }));
  const before = detail.from as { firstName?: unknown; lastName?: unknown } | undefined;
  if (typeof before?.firstName === 'string' && typeof before.lastName === 'string') parts.push(t('activity.detail.renamed', { name: `${before.firstName} ${before.lastName}` }));
  if (typeof detail.manageSettings === 'boolean') parts.push(t(detail.manageSettings ? 'details.manageSettingsYes' : 'details.manageSettingsNo'));
  if (typeof detail.expiresAt === 'string') parts.push(t('activity.detail.linkUntil', { date: date(detail.expiresAt) }));
  if (typeof detail.accessEndsAt === 'string') parts.push(t('activity.detail.accessUntil', { date: date(detail.accessEndsAt) }));
  if (detail.kind === 'totp' || detail.kind === 'passkey') parts.push(t(`activity.detail.factor.${detail.kind}`));
  if (typeof detail.name === 'string') parts.push(`“${detail.name}”`);
  if (detail.scope === 'read_send' || detail.scope === 'read_only') parts.push(t(`appPasswords.scopes.${detail.scope}`));
  return parts.join(' · ');
}

/**
 * A browser or mail program in words ("Chrome su Windows", "Thunderbird", "iPhone"). A program the
 * parser does not know is named as it named itself (a mail program's IMAP ID); '' when none was recorded.
 */
export function describeDevice(userAgent: string | null, t: Translate, { program = false }: { program?: boolean } = {}): string {
  if (!userAgent) return '';
  const { browser, system } = deviceOf(userAgent);
  if (browser && system) return t('account.deviceOn', { browser, system });
  return browser ?? system ?? (program ? userAgent.slice(0, 60) : t('account.unknownDevice'));
}

/** Where a request came from, in words: the local network, or the address shortened; '' when unknown. */
export function describePlace(ip: string | null, t: Translate): string {
  if (isLocalNetwork(ip)) return t('activity.place.local');
  const address = shortAddress(ip);
  return address ? t('activity.place.address', { address }) : '';
}

/** One event in words for `reader` (see ActivityEntry). */
export function describeEvent(event: AuditEvent, options: DescribeOptions): ActivityEntry {
  const { t, names, reader } = options;
  const detail = detailOf(event);
  const subject = event.subject ?? '';
  const name = (event.collaboratorId && names.get(event.collaboratorId)) || chosenPart(subject);
  const form = event.actorType === 'owner' && reader === 'owner' ? 'you' : 'other';
  const actor =
    event.actorType === 'collaborator'
      ? (event.actorId && names.get(event.actorId)) || chosenPart(event.actorName)
      : t(`activity.actors.${event.actorType}`);
  return {
    sentence: t(`activity.events.${kindOf(event, detail)}.${form}`, { actor, name, username: chosenPart(subject), address: text(detail.address), provider: text(detail.provider) }),
    details: detailsOf(event, detail, options),
    subject,
    device: describeDevice(event.userAgent, t),
    place: describePlace(event.ip, t),
  };
}
