import { Op, type Transaction, type WhereOptions } from 'sequelize';
import type { Database } from '../db';
import type { AuditEvent, Collaborator } from '../models';
import type { Clock } from './clock';
import type { Actor } from './actor';

export const AUDIT_ACTIONS = [
  'collaborator.created',
  'link.sent',
  'link.resent',
  'password.reset',
  'password.set',
  'password.changed',
  'collaborator.deactivated',
  'collaborator.removed',
  'access.changed',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditFilter {
  collaboratorId?: number;
  action?: AuditAction;
  limit?: number;
}

/** The activity log: who did what to which collaborator, when, from where. */
export class Audit {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
  ) {}

  async record(actor: Actor, action: AuditAction, collaborator: Collaborator, t: Transaction, detail?: Record<string, unknown>): Promise<void> {
    await this.db.models.AuditEvent.create(
      {
        mailboxId: collaborator.mailboxId,
        collaboratorId: collaborator.id,
        subject: collaborator.username,
        actorType: actor.type,
        actorId: actor.id,
        actorName: actor.name,
        action,
        ip: actor.ip ?? null,
        detail: detail ? JSON.stringify(detail) : null,
        createdAt: this.clock.now(),
      },
      { transaction: t },
    );
  }

  async list(mailboxId: number, filter: AuditFilter = {}): Promise<AuditEvent[]> {
    const where: WhereOptions<AuditEvent> = { mailboxId };
    if (filter.collaboratorId) Object.assign(where, { collaboratorId: filter.collaboratorId });
    if (filter.action) Object.assign(where, { action: filter.action });
    return this.db.models.AuditEvent.findAll({ where, order: [['createdAt', 'DESC'], ['id', 'DESC']], limit: filter.limit ?? 100 });
  }

  /** Drops events older than the retention period; returns how many. */
  async prune(olderThanDays: number): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - olderThanDays * 86_400_000);
    return this.db.models.AuditEvent.destroy({ where: { createdAt: { [Op.lt]: cutoff } } });
  }
}
