import type { Config } from '../config';
import type { Database } from '../db';
import { Outbox, DEFAULT_WORKER_OPTIONS, type WorkerOptions } from '../mail/outbox';
import { redactor } from '../mail/redact';
import type { Clock } from '../lib/clock';
import { Accounts } from './accounts';
import { Audit } from './audit';
import { Collaborations } from './collaborators';
import { CollaboratorChanges } from './collaborator-changes';
import { Directory } from './directory';
import { SelfService } from './self-service';
import { Links } from './links';
import { deriveKey, Sealer } from '../lib/secrets';
import { createRateLimits, type RateLimits } from './rate-limits';
import { BackgroundTasks } from './background';
import { AccessHistory } from './access-history';
import { AuthPolicy } from './auth-policy';
import { AppPasswords } from './app-passwords';
import { Maintenance } from './maintenance';
import type { ScheduledJob } from '../mail/worker';
import { MailboxRecords, MailDomains } from './mailboxes';
import { TwoStep } from './two-step';
import { Passkeys } from './passkeys';
import { AccessEnds } from './access-end';
import { OwnerNotices } from './owner-notices';
import { Identities } from './identities';

export interface Domain {
  db: Database;
  clock: Clock;
  config: Config;
  links: Links;
  outbox: Outbox;
  audit: Audit;
  accounts: Accounts;
  /** The owner's transitions of collaborator accounts. */
  collaborations: Collaborations;
  /** The owner's read side: list, find, details. */
  directory: Directory;
  /** The collaborator's own password flows: link, change, forgot. */
  selfService: SelfService;
  /** The collaborator's passwords for mail programs, one per device. */
  appPasswords: AppPasswords;
  rateLimits: RateLimits;
  background: BackgroundTasks;
  accessHistory: AccessHistory;
  /** Dovecot's auth policy server: mail-program sign-ins through the web's limits and history. */
  authPolicy: AuthPolicy;
  maintenance: Maintenance;
  /** What the owner is told about collaborators: settings, notices at once or in a daily digest. */
  ownerNotices: OwnerNotices;
  /** Access that ends at a date the owner set: the endings and the owner's reminders. */
  accessEnds: AccessEnds;
  /** What the worker runs on its own schedule (startWorker's `scheduled`): retention, the owner's digests, expired invitations, access ends. */
  scheduled: ScheduledJob[];
  /** Second factors (TOTP, passkeys) and recovery codes of owners and collaborators. */
  twoStep: TwoStep;
  /** WebAuthn registration and sign-in of passkeys, stored as second factors. */
  passkeys: Passkeys;
  /** OpenID Connect identities (Google, Microsoft 365…) linked to accounts for signing in. */
  identities: Identities;
  mailboxes: MailboxRecords;
  /** The mail domains autoconfig and Autodiscover answer for. */
  mailDomains: MailDomains;
}

/** Wires the domain services to one database and one clock. */
export function createDomain(
  db: Database,
  config: Config,
  clock: Clock,
  workerOptions: WorkerOptions = { ...DEFAULT_WORKER_OPTIONS, leaseMs: config.outboxLeaseSeconds * 1000 },
): Domain {
  const links = new Links(db, clock, config.linkTtl);
  const sealer = new Sealer(config.sessionSecret);
  const outbox = new Outbox(db, clock, sealer, redactor({ smtpUrl: config.smtpUrl, doveadmApiKey: config.mailServer.doveadmApiKey }), workerOptions);
  const audit = new Audit(db, clock);
  const ownerNotices = new OwnerNotices(db, clock, config, outbox, audit);
  outbox.whenGivenUp((message, reason, t) => ownerNotices.emailFailed(message, reason, t));
  const accounts = new Accounts(db, clock, config, audit);
  const changes = new CollaboratorChanges(db, config, links, outbox, audit, ownerNotices);
  const twoStep = new TwoStep(db, clock, sealer, deriveKey(config.sessionSecret, 'recovery-codes'), outbox, audit, changes);
  const collaborations = new Collaborations(db, clock, config, links, outbox, audit, changes, twoStep);
  const appPasswords = new AppPasswords(db, clock, config, audit, changes);
  const directory = new Directory(db, clock, links, outbox, audit, twoStep, appPasswords);
  const selfService = new SelfService(db, config, links, audit, changes, clock);
  const rateLimits = createRateLimits(db, config);
  const accessHistory = new AccessHistory(db, clock, ownerNotices);
  const maintenance = new Maintenance(clock, audit, accessHistory);
  const accessEnds = new AccessEnds(db, clock, config, outbox, collaborations);
  return { db, clock, config, links, outbox, audit, accounts, collaborations, directory, selfService, appPasswords, rateLimits, background: new BackgroundTasks(), accessHistory, authPolicy: new AuthPolicy(rateLimits, accessHistory, appPasswords), maintenance, ownerNotices, accessEnds, scheduled: [maintenance, ownerNotices.digests, ownerNotices.expiries, accessEnds], twoStep, passkeys: new Passkeys(db, clock, twoStep, config), identities: new Identities(db, clock, twoStep), mailboxes: new MailboxRecords(db), mailDomains: new MailDomains(db, clock, config.mailServer.domains) };
}
