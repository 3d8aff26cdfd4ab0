import { Op, type Transaction, type WhereOptions } from 'sequelize';
import type { Database } from '../db';
import type { AuditEvent, Collaborator, Mailbox } from '../models';
import type { Clock } from '../lib/clock';
import type { Actor } from './actor';
import { ipAddress } from '../lib/ip';
import { execute } from '../db/statements';

/** One record of an action on a collaborator, with its detail (none when absent). */
export interface AuditRecord {
  action: AuditAction;
  detail?: Record<string, unknown>;
}

export const AUDIT_ACTIONS = [
  'collaborator.created',
  'link.sent',
  'link.resent',
  'password.reset',
  'password.set',
  'password.changed',
  'password.change_failed',
  'collaborator.deactivated',
  'collaborator.removed',
  'collaborator.recreated',
  'collaborator.reactivated',
  'collaborator.renamed',
  'access.changed',
  'two_step.enabled',
  'two_step.disabled',
  'two_step.factor_added',
  'two_step.factor_removed',
  'two_step.recovery_code_used',
  'two_step.recovery_codes_renewed',
  'two_step.policy_changed',
  'app_password.created',
  'app_password.revoked',
  'identity.linked',
  'identity.unlinked',
  'access_end.changed',
  'collaborator.access_ended',
  'notices.changed',
  'notices.address_requested',
  'notices.address_confirmed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditFilter {
  /** A collaborator's id, or `owner` for the events about the owner's own account. */
  collaboratorId?: number | 'owner';
  action?: AuditAction;
  limit?: number;
}

export function isAuditAction(value: unknown): value is AuditAction {
  return typeof value === 'string' && (AUDIT_ACTIONS as readonly string[]).includes(value);
}

export const AUDIT_PAGE_SIZE = 50;

export interface AuditPage {
  rows: AuditEvent[];
  total: number;
  page: number;
  pages: number;
}

/** Someone the log has events about, removed collaborators included (by their username then). */
export interface AuditSubject {
  collaboratorId: number;
  subject: string;
}

const NEWEST_FIRST: Array<[string, string]> = [
  ['createdAt', 'DESC'],
  ['id', 'DESC'],
];

function whereOf(mailboxId: number, filter: AuditFilter): WhereOptions<AuditEvent> {
  const where: WhereOptions<AuditEvent> = { mailboxId };
  if (filter.collaboratorId) Object.assign(where, { collaboratorId: filter.collaboratorId === 'owner' ? null : filter.collaboratorId });
  if (filter.action) Object.assign(where, { action: filter.action });
  return where;
}

/** The activity log: who did what to which collaborator, when, from where. */
export class Audit {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async record(actor: Actor, action: AuditAction, collaborator: Collaborator, t: Transaction, detail?: Record<string, unknown>): Promise<void> {
    await this.recordAll(actor, [{ action, detail }], collaborator, t);
  }

  /** Records several actions on one collaborator, in this order, in one statement. */
  async recordAll(actor: Actor, records: readonly AuditRecord[], collaborator: Collaborator, t: Transaction): Promise<void> {
    await this.insert(actor, records, { mailboxId: collaborator.mailboxId, collaboratorId: collaborator.id, subject: collaborator.username }, t);
  }

  /** An event about the mailbox owner's own account. */
  async recordOwner(actor: Actor, action: AuditAction, mailbox: Mailbox, t: Transaction, detail?: Record<string, unknown>): Promise<void> {
    await this.insert(actor, [{ action, detail }], { mailboxId: mailbox.id, collaboratorId: null, subject: mailbox.address }, t);
  }

  /** The rows, by a plain multi-row INSERT (the same columns and values as the model would write). */
  private async insert(actor: Actor, records: readonly AuditRecord[], about: { mailboxId: number; collaboratorId: number | null; subject: string }, t: Transaction): Promise<void> {
    const COLUMNS = 11;
    const createdAt = this.clock.now();
    const common = [about.mailboxId, about.collaboratorId, about.subject, actor.type, actor.id, actor.name, ipAddress(actor.ip), actor.userAgent?.slice(0, 300) ?? null];
    const values = records.flatMap(({ action, detail }) => [...common, action, detail ? JSON.stringify(detail) : null, createdAt]);
    const rows = records.map((_, r) => `(${Array.from({ length: COLUMNS }, (_, c) => `$${r * COLUMNS + c + 1}`).join(', ')})`);
    await execute(
      this.db,
      `INSERT INTO audit_events (mailbox_id, collaborator_id, subject, actor_type, actor_id, actor_name, ip, user_agent, action, detail, created_at) VALUES ${rows.join(', ')}`,
      values,
      t,
    );
  }

  async list(mailboxId: number, filter: AuditFilter = {}): Promise<AuditEvent[]> {
    return this.db.models.AuditEvent.findAll({ where: whereOf(mailboxId, filter), order: NEWEST_FIRST, limit: filter.limit ?? 100 });
  }

  /** One page of the mailbox's log, newest first. */
  async page(mailboxId: number, filter: AuditFilter, page: number): Promise<AuditPage> {
    const where = whereOf(mailboxId, filter);
    const total = await this.db.models.AuditEvent.count({ where });
    const pages = Math.max(1, Math.ceil(total / AUDIT_PAGE_SIZE));
    const current = Math.min(Math.max(1, Math.floor(page) || 1), pages);
    const rows = await this.db.models.AuditEvent.findAll({ where, order: NEWEST_FIRST, limit: AUDIT_PAGE_SIZE, offset: (current - 1) * AUDIT_PAGE_SIZE });
    return { rows, total, page: current, pages };
  }

  /**
   * Every matching event, newest first, in batches (the CSV export). Events recorded after the
   * export began are left out, so that none shifts into a later batch and comes twice.
   */
  async *all(mailboxId: number, filter: AuditFilter, batchSize = 500): AsyncGenerator<AuditEvent[]> {
    const newest = await this.db.models.AuditEvent.max<number, AuditEvent>('id', { where: { mailboxId } });
    if (!newest) return;
    const where = { [Op.and]: [whereOf(mailboxId, filter), { id: { [Op.lte]: newest } }] };
    for (let offset = 0; ; offset += batchSize) {
      const rows = await this.db.models.AuditEvent.findAll({ where, order: NEWEST_FIRST, limit: batchSize, offset });
      if (rows.length > 0) yield rows;
      if (rows.length < batchSize) return;
    }
  }

  /** The collaborators the mailbox's log speaks of, for the filter. */
  async subjects(mailboxId: number): Promise<AuditSubject[]> {
    const rows = await this.db.models.AuditEvent.findAll({
      attributes: ['collaboratorId', 'subject'],
      where: { mailboxId, collaboratorId: { [Op.ne]: null } },
      group: ['collaboratorId', 'subject'],
      order: [['subject', 'ASC']],
    });
    const seen = new Map<number, string>();
    for (const row of rows) if (row.collaboratorId && !seen.has(row.collaboratorId)) seen.set(row.collaboratorId, row.subject ?? '');
    return [...seen].map(([collaboratorId, subject]) => ({ collaboratorId, subject }));
  }

  /** The current names of the mailbox's collaborators among `ids` (removed ones have none). */
  async namesOf(mailboxId: number, ids: Array<number | null>): Promise<Map<number, string>> {
    const wanted = [...new Set(ids.filter((id): id is number => id !== null))];
    if (wanted.length === 0) return new Map();
    const rows = await this.db.models.Collaborator.findAll({ attributes: ['id', 'firstName', 'lastName'], where: { mailboxId, id: wanted } });
    return new Map(rows.map((c) => [c.id, `${c.firstName} ${c.lastName}`]));
  }

  /** Drops the events recorded before `cutoff`; returns how many. */
  async prune(cutoff: Date): Promise<number> {
    return this.db.models.AuditEvent.destroy({ where: { createdAt: { [Op.lt]: cutoff } } });
  }
}
