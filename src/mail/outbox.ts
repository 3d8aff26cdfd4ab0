import { Op, type Transaction } from 'sequelize';
import { v4 as uuidv4 } from 'uuid';
import type { Database } from '../db';
import { listChanged } from '../db/list-versions';
import { execute, instantOf, select } from '../db/statements';
import type { OutboxMessage } from '../models';
import type { Clock } from '../lib/clock';
import type { Sealer } from '../lib/secrets';
import type { Locale } from '../i18n';
import type { EmailPayload, EmailTemplate } from './message-types';
import { serverName, type MailServerCommand } from './doveadm';
import type { Redact } from './redact';

export interface EmailToQueue {
  template: EmailTemplate;
  to: string;
  locale: Locale;
  mailboxId: number;
  /** Null for an email to the owner. */
  collaboratorId: number | null;
  payload: EmailPayload;
  /** The link: sealed at rest, dropped once delivered. */
  link?: string;
}

/** Which emails to count: of one mailbox, of these templates, queued after `since`, optionally to one address. */
export interface EmailCount {
  mailboxId: number;
  templates: readonly EmailTemplate[];
  since: Date;
  /** Compared case-insensitively, as mail systems treat addresses in practice. */
  recipient?: string;
  /** Counting stops there: a limit only asks whether it is reached. */
  atMost: number;
}

/** Delivers one claimed message; throws to have it retried. Returns the Message-ID when there is one. */
export type Deliver = (message: OutboxMessage, secret: string | undefined) => Promise<string | null>;

/** One failed delivery attempt, fit for a log line: which message, and why, without its link. */
export interface FailedAttempt {
  outboxId: number;
  kind: OutboxMessage['kind'];
  template: string;
  /** The Dovecot a mail-server command is for (host:port); absent for emails. */
  server?: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** null for mail-server commands: they are never given up. */
  maxAttempts: number | null;
  /** The last attempt: the message is marked failed and never tried again. */
  final: boolean;
  /** When the next attempt is due (the domain clock's time); null after the last one. */
  retryAt: Date | null;
  /** Milliseconds from this failure to the next attempt; null after the last one. */
  retryInMs: number | null;
  reason: string;
}

export type FailureListener = (failure: FailedAttempt) => void;

/** Called in the transaction that marks an email to a collaborator failed for good, with the reason. */
export type GiveUpListener = (message: OutboxMessage, reason: string, t: Transaction) => Promise<void>;

export interface WorkerOptions {
  /** How long a claim holds before another worker may take the message over. */
  leaseMs: number;
  /**
   * Attempts after which an email that keeps failing for a passing reason (refusedForGood says
   * which are not) is given up: with the backoff below, the default reaches about five days, the
   * queue lifetime of Postfix (`maximal_queue_lifetime`), so an SMTP server down for a weekend loses
   * nothing.
   */
  maxAttempts: number;
  /** First retry delay; doubled each attempt, capped by maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  batchSize: number;
  /** Messages sent at the same time (the SMTP pool of transport.ts opens as many connections). */
  concurrency: number;
}

export const DEFAULT_WORKER_OPTIONS: WorkerOptions = {
  leaseMs: 60_000,
  // 30 s, 1, 2, 4 … 32 min (about an hour in all), then hourly: about five days.
  maxAttempts: 125,
  backoffMs: 30_000,
  maxBackoffMs: 3_600_000,
  batchSize: 100,
  concurrency: 10,
};

/**
 * The mail-server lane: commands to Dovecot are retried quickly and never given up (a collaborator
 * locked out on paper but still connected is worse than a request a second to a Dovecot that is down), and all claimed
 * commands go out at once, one request per Dovecot.
 */
export interface CommandLaneOptions {
  /** Above the doveadm request timeout (10 s), so a claim never lapses while its request waits. */
  leaseMs: number;
  /** First retry delay; doubled each attempt, capped by maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  batchSize: number;
}

export const DEFAULT_COMMAND_LANE_OPTIONS: CommandLaneOptions = {
  leaseMs: 30_000,
  backoffMs: 250,
  maxBackoffMs: 1_000,
  batchSize: 100,
};

/**
 * Whether an email's delivery failed for a reason no later attempt can change: the server refused
 * this message's recipient or its content with a permanent reply (5xx to RCPT TO or to the data:
 * RFC 5321 §4.2.1, a client "SHOULD NOT repeat the exact request"), or the recipient is no address.
 * The error is nodemailer's, which names the command a reply answered. Anything else — no
 * connection, TLS, a refused login or sender, a 4xx, a timeout — is the state of the server or of
 * its configuration, and is retried.
 */
export function refusedForGood(error: unknown): boolean {
  const { responseCode, command, code } = (error ?? {}) as { responseCode?: unknown; command?: unknown; code?: unknown };
  if (code === 'EENVELOPE' && command === 'API') return true;
  return typeof responseCode === 'number' && responseCode >= 500 && responseCode < 600 && (command === 'RCPT TO' || command === 'DATA');
}

/** Which rows a claim takes: emails, or mail-server commands (the lane of their own). */
type Lane = OutboxMessage['kind'];

/** The Dovecot endpoint a command row is for; none in rows queued before there was one row per endpoint. */
export function commandEndpoint(message: Pick<OutboxMessage, 'payload'>): string | undefined {
  const { endpoint } = JSON.parse(message.payload) as { endpoint?: unknown };
  return typeof endpoint === 'string' ? endpoint : undefined;
}

/**
 * The transactional outbox: messages are rows written in the transaction of the state change that
 * causes them, then delivered by workers that claim rows with a lease.
 */
/** A collaborator's row in the Collaborations list shows its last email and that email's state. */
const shownInList = (message: Pick<OutboxMessage, 'kind' | 'collaboratorId' | 'mailboxId'>) => message.kind === 'email' && message.collaboratorId !== null && message.mailboxId !== null;

export class Outbox {
  readonly workerId = uuidv4();
  private readonly commandListeners = new Set<() => void>();
  /** Delivered messages whose mark waits for the write under way (see markSent). */
  private unmarked: Array<{ id: number; messageId: string | null; listMailboxId: number | null; written: () => void; failed: (error: unknown) => void }> = [];
  private marking: Promise<void> | null = null;
  private givenUp: GiveUpListener | null = null;

  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly sealer: Sealer,
    /** Cuts the mail credentials out of a failure's reason before it is stored or told (redact.ts). */
    private readonly redact: Redact,
    private readonly options: WorkerOptions = DEFAULT_WORKER_OPTIONS,
    private readonly commandOptions: CommandLaneOptions = DEFAULT_COMMAND_LANE_OPTIONS,
  ) {}

  /**
   * Calls `listener` once a transaction that queued mail-server commands has committed, so a worker
   * of this process sends them at once instead of at its next tick. Returns the unsubscribe.
   */
  onCommandsQueued(listener: () => void): () => void {
    this.commandListeners.add(listener);
    return () => this.commandListeners.delete(listener);
  }

  /**
   * Sets what happens, in the same transaction, when an email to a collaborator fails for good (the
   * owner is told: owner-notices.ts). Emails to nobody's collaborator, the owner's notices among them,
   * never call it, so a notice that fails tells nothing about itself.
   */
  whenGivenUp(listener: GiveUpListener): void {
    this.givenUp = listener;
  }

  async enqueueEmail(email: EmailToQueue, t: Transaction): Promise<void> {
    await this.enqueue(
      {
        kind: 'email',
        template: email.template,
        recipient: email.to,
        locale: email.locale,
        mailboxId: email.mailboxId,
        collaboratorId: email.collaboratorId,
        payload: JSON.stringify(email.payload),
        secret: email.link ? this.sealer.seal(email.link) : null,
      },
      t,
    );
  }

  /**
   * Queues `command` for `username` on each Dovecot of `endpoints` (doveadm API URLs): one row per
   * endpoint, so one server down holds no other back, each delivered by the mail-server lane.
   */
  async enqueueMailServerCommand(
    command: MailServerCommand,
    username: string,
    endpoints: readonly string[],
    ids: { mailboxId: number; collaboratorId: number },
    t: Transaction,
  ): Promise<void> {
    if (endpoints.length === 0) return;
    for (const endpoint of endpoints) {
      await this.enqueue(
        { kind: 'doveadm', template: command, recipient: username, locale: 'it', payload: JSON.stringify({ endpoint }), secret: null, ...ids },
        t,
      );
    }
    t.afterCommit(() => this.commandListeners.forEach((listener) => listener()));
  }

  /** One row, queued at the domain's time (the sending limits count emails by it), by a plain INSERT. */
  private async enqueue(fields: Pick<OutboxMessage, 'kind' | 'template' | 'recipient' | 'locale' | 'mailboxId' | 'collaboratorId' | 'payload' | 'secret'>, t: Transaction): Promise<void> {
    const now = this.clock.now();
    await execute(
      this.db,
      `INSERT INTO outbox_messages (kind, template, recipient, locale, mailbox_id, collaborator_id, payload, secret, status, attempts, next_attempt_at, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', 0, $9, $10, $11)`,
      [fields.kind, fields.template, fields.recipient, fields.locale, fields.mailboxId, fields.collaboratorId, fields.payload, fields.secret, now, now, new Date()],
      t,
    );
    if (shownInList(fields)) await listChanged(this.db.sequelize, { mailboxId: fields.mailboxId as number }, t);
  }

  /**
   * The emails to a collaborator not sent yet are given up (failed, their links dropped), in the
   * caller's transaction: for an account recreated because its reference email was wrong, nothing
   * more goes to that address. One a worker is sending at this moment still goes out.
   */
  async cancelEmails(collaboratorId: number, t: Transaction): Promise<void> {
    await this.db.models.OutboxMessage.update(
      { status: 'failed', nextAttemptAt: this.clock.now(), secret: null, lastError: 'cancelled: the reference email was corrected' },
      { where: { collaboratorId, kind: 'email', status: { [Op.in]: ['queued', 'retrying'] } }, transaction: t },
    );
  }

  /** How many emails match, up to `atMost`, and when the oldest of them was queued (null when none). */
  async countEmails(count: EmailCount, t: Transaction): Promise<{ count: number; oldest: Date | null }> {
    return (await this.countEmailsEach([count], t))[0] as { count: number; oldest: Date | null };
  }

  /**
   * countEmails for each of `counts`, in one statement. Each count reads no further than its limit
   * needs (the cost stays that of the limit's rows) and gives one number, not the rows.
   */
  async countEmailsEach(counts: readonly EmailCount[], t: Transaction): Promise<Array<{ count: number; oldest: Date | null }>> {
    const values: unknown[] = [];
    const param = (value: unknown) => `$${values.push(value)}`;
    const columns = counts.map(({ mailboxId, templates, since, recipient, atMost }, i) => {
      if (!Number.isSafeInteger(atMost) || atMost < 0) throw new Error(`countEmails: atMost must be a whole number, got ${atMost}`);
      const where = [
        `mailbox_id = ${param(mailboxId)}`,
        "kind = 'email'",
        `template IN (${templates.map(param).join(', ')})`,
        `created_at > ${param(since)}`,
        ...(recipient === undefined ? [] : [`LOWER(recipient) = ${param(recipient.toLowerCase())}`]),
      ].join(' AND ');
      return `(SELECT COUNT(*) FROM (SELECT 1 AS one FROM outbox_messages WHERE ${where} LIMIT ${atMost}) counted) AS count${i}, (SELECT MIN(created_at) FROM outbox_messages WHERE ${where}) AS oldest${i}`;
    });
    const [row] = await select(this.db, `SELECT ${columns.join(', ')}`, values, t);
    return counts.map((_, i) => ({ count: Number(row?.[`count${i}`] ?? 0), oldest: instantOf(row?.[`oldest${i}`]) }));
  }

  /**
   * Claims due messages of one lane with a conditional update: a row is ours only when our update
   * touched it, so two workers never hold the same claim. An expired lease (a crashed worker) makes
   * the row claimable again.
   */
  async claim(lane: Lane): Promise<OutboxMessage[]> {
    const { OutboxMessage } = this.db.models;
    const now = this.clock.now();
    const { batchSize, leaseMs } = lane === 'email' ? this.options : this.commandOptions;
    const due = {
      kind: lane,
      status: { [Op.in]: ['queued', 'retrying'] },
      nextAttemptAt: { [Op.lte]: now },
      [Op.or]: [{ leaseUntil: null }, { leaseUntil: { [Op.lt]: now } }],
    };
    const candidates = await OutboxMessage.findAll({ attributes: ['id'], where: due, order: [['id', 'ASC']], limit: batchSize });
    if (candidates.length === 0) return [];
    const ids = candidates.map((c) => c.id);
    const leaseUntil = new Date(now.getTime() + leaseMs);
    // One conditional update for the batch: rows another worker claimed meanwhile no longer match `due`
    // (a transaction that lost a conflict on a Galera cluster runs again, and then finds them claimed).
    // A transaction, not a statement of its own: on SQLite it then waits for this process's other
    // writes in JavaScript, not in SQLite's busy handler on a thread of libuv's pool (Database#transaction).
    await this.db.transaction((t) => OutboxMessage.update(
      { leaseOwner: this.workerId, leaseUntil, attempts: this.db.sequelize.literal('attempts + 1') as unknown as number },
      { where: { id: ids, ...due }, transaction: t },
    ));
    return OutboxMessage.findAll({ where: { id: ids, leaseOwner: this.workerId, leaseUntil }, order: [['id', 'ASC']] });
  }

  /**
   * Delivers the emails that are due; returns how many were sent, once all of them are marked sent
   * (rejects when a mark failed, as when a lane fails). Each failed attempt is told to `onFailure`.
   */
  async runOnce(deliver: Deliver, onFailure?: FailureListener): Promise<number> {
    const claimed = await this.claim('email');
    const marks: Array<Promise<void>> = [];
    let next = 0;
    // A few lanes at once, so a pooled SMTP transport sends over several connections. A lane goes on
    // to its next email while the last one's mark is written: the marks of all lanes go in one write.
    const lane = async () => {
      for (let message = claimed[next++]; message; message = claimed[next++]) {
        // A slow server may have used up this claim while earlier messages went out: another worker
        // may hold the message by now, and sending it here as well would deliver it twice.
        if ((message.leaseUntil?.getTime() ?? 0) <= this.clock.now().getTime()) continue;
        const delivered = await this.attempt(message, deliver, onFailure);
        if (!delivered) continue;
        // Handled now (a failed mark is no unhandled rejection while the lanes go on), thrown below.
        delivered.mark.catch(() => undefined);
        marks.push(delivered.mark);
      }
    };
    const lanes = await Promise.allSettled(Array.from({ length: Math.min(this.options.concurrency, claimed.length) }, lane));
    // Every mark written or failed before the pass ends: a failed one does not leave the others in flight.
    const written = await Promise.allSettled(marks);
    const failed = [...written, ...lanes].find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) throw failed.reason;
    return marks.length;
  }

  /** Claims the due mail-server commands and sends them (runCommands = claim, then deliverCommands). */
  async runCommands(deliver: Deliver, onFailure?: FailureListener): Promise<number> {
    return this.deliverCommands(await this.claim('doveadm'), deliver, onFailure);
  }

  /** Sends claimed commands all at once (one request per Dovecot); returns how many went through. */
  async deliverCommands(claimed: OutboxMessage[], deliver: Deliver, onFailure?: FailureListener): Promise<number> {
    const results = await Promise.all(claimed.map((message) => this.deliverOne(message, deliver, onFailure)));
    return results.filter(Boolean).length;
  }

  /**
   * The Dovecots (host:port) where the collaborator's mail programs may still be connected: a kick
   * for them failed at least once and has not gone through yet.
   */
  async pendingKicks(collaboratorId: number): Promise<string[]> {
    const rows = await this.db.models.OutboxMessage.findAll({
      attributes: ['payload'],
      where: { collaboratorId, kind: 'doveadm', template: 'kick', status: 'retrying' },
      order: [['id', 'ASC']],
    });
    const servers = rows.map((row) => commandEndpoint(row)).filter((url): url is string => url !== undefined).map(serverName);
    return [...new Set(servers)];
  }

  /** Delivers one message; resolves once it is marked sent (true), or its failure recorded (false). */
  private async deliverOne(message: OutboxMessage, deliver: Deliver, onFailure?: FailureListener): Promise<boolean> {
    const delivered = await this.attempt(message, deliver, onFailure);
    if (delivered) await delivered.mark;
    return delivered !== null;
  }

  /**
   * One delivery attempt: resolves, once the message is delivered, with its mark (markSent) still
   * being written, or null once its failure is recorded (retry or give-up, in one transaction).
   */
  private async attempt(message: OutboxMessage, deliver: Deliver, onFailure?: FailureListener): Promise<{ mark: Promise<void> } | null> {
    const mine = { id: message.id, leaseOwner: this.workerId };
    let secret: string | undefined;
    let messageId: string | null;
    try {
      secret = message.secret ? this.sealer.open(message.secret) : undefined;
      messageId = await deliver(message, secret);
    } catch (error) {
      const command = message.kind === 'doveadm';
      const { backoffMs, maxBackoffMs } = command ? this.commandOptions : this.options;
      const maxAttempts = command ? null : this.options.maxAttempts;
      const failed = maxAttempts !== null && (message.attempts >= maxAttempts || refusedForGood(error));
      // The exponent is capped so that a command retried for days computes no Infinity.
      const delay = Math.min(backoffMs * 2 ** Math.min(message.attempts - 1, 30), maxBackoffMs);
      const now = this.clock.now();
      const retryAt = new Date(now.getTime() + delay);
      const reason = describe(error, secret, this.redact);
      await this.db.transaction(async (t) => {
        const fields = {
          status: failed ? 'failed' : 'retrying',
          // A message given up keeps when that happened (readiness counts the last hour's by it).
          nextAttemptAt: failed ? now : retryAt,
          firstFailedAt: message.firstFailedAt ?? now,
          lastError: reason,
          leaseOwner: null,
          leaseUntil: null,
          // A message that will never go out keeps no link.
          ...(failed ? { secret: null } : {}),
        } as const;
        await this.db.models.OutboxMessage.update(fields, { where: mine, transaction: t });
        if (shownInList(message)) await listChanged(this.db.sequelize, { mailboxId: message.mailboxId as number }, t);
        if (failed && shownInList(message)) await this.givenUp?.(message, reason, t);
      });
      const endpoint = command ? commandEndpoint(message) : undefined;
      onFailure?.({
        outboxId: message.id,
        kind: message.kind,
        template: message.template,
        ...(endpoint ? { server: serverName(endpoint) } : {}),
        attempt: message.attempts,
        maxAttempts,
        final: failed,
        retryAt: failed ? null : retryAt,
        retryInMs: failed ? null : delay,
        reason,
      });
      return null;
    }
    // Sent: a failed mark must not count as a failed delivery, or the email would go out again.
    return { mark: this.markSent(message, messageId) };
  }

  /**
   * Marks a delivered message sent (resolves once written). A mark is written at once, or, when a
   * write is under way, with every mark that came meanwhile in the next one: one statement and one
   * commit for them all, so no mark waits longer than alone, and SQLite (one writer at a time)
   * does not queue a commit per email behind the deliveries.
   */
  private markSent(message: OutboxMessage, messageId: string | null): Promise<void> {
    // The list whose row shows this email: its mailbox, known from the claimed row (a row's kind,
    // mailbox and collaborator never change once queued).
    const listMailboxId = shownInList(message) ? (message.mailboxId as number) : null;
    return new Promise((written, failed) => {
      this.unmarked.push({ id: message.id, messageId, listMailboxId, written, failed });
      this.marking ??= this.writeMarks();
    });
  }

  private async writeMarks(): Promise<void> {
    while (this.unmarked.length > 0) {
      const marks = this.unmarked.splice(0);
      const ids = marks.map((m) => m.id);
      // One plain statement (src/db/statements.ts) for them all, each row its own Message-ID; the
      // columns Model.update would write, updated_at included.
      const values: unknown[] = [this.clock.now(), new Date(), this.workerId];
      const param = (value: unknown) => `$${values.push(value)}`;
      const messageIds = `CASE id ${marks.map((m) => `WHEN ${param(m.id)} THEN ${param(m.messageId)}`).join(' ')} END`;
      const sql = `UPDATE outbox_messages SET status = 'sent', sent_at = $1, message_id = ${messageIds}, secret = NULL, lease_owner = NULL, lease_until = NULL, last_error = NULL, updated_at = $2
        WHERE lease_owner = $3 AND id IN (${ids.map(param).join(', ')})`;
      try {
        // A lost conflict runs again (on a Galera cluster, the list versions are one row per mailbox).
        await this.db.transaction(async (t) => {
          await execute(this.db, sql, values, t);
          // By the mailboxes the claimed rows named, not by a read of the outbox: without statistics,
          // SQLite read `id IN (…5 or more) AND kind = 'email'` by the index on kind, every email ever
          // queued (a quarter of a second a write with a million), where the mailboxes cost nothing.
          await listChanged(this.db.sequelize, { mailboxIds: [...new Set(marks.flatMap((m) => (m.listMailboxId === null ? [] : [m.listMailboxId])))] }, t);
        });
        marks.forEach((m) => m.written());
      } catch (error) {
        marks.forEach((m) => m.failed(error));
      }
    }
    this.marking = null;
  }

  async emailsOf(collaboratorId: number, limit = 10): Promise<OutboxMessage[]> {
    return this.db.models.OutboxMessage.findAll({
      attributes: { exclude: ['secret', 'payload'] },
      where: { collaboratorId, kind: 'email' },
      order: [['id', 'DESC']],
      limit,
    });
  }
}

/**
 * An error for the owner's eyes and the logs: short, and never the message's content. A server may
 * quote what it refused or what the client sent (AUTH), so the link and its token are cut out, then
 * the mail credentials in any form (and anything else token-like).
 */
function describe(error: unknown, link: string | undefined, redact: Redact): string {
  const text = error instanceof Error ? `${(error as NodeJS.ErrnoException).code ?? error.name}: ${error.message}` : String(error);
  const withoutLink = link ? text.split(link).join(':redacted').split(link.slice(link.lastIndexOf('/') + 1)).join(':redacted') : text;
  return redact(withoutLink).slice(0, 500);
}
