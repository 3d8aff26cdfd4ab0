import { Router, type Request } from 'express';
import { AUDIT_ACTIONS, isAuditAction, type AuditFilter } from '../../domain/audit';
import { csvLine, UTF8_BOM } from '../csv';
import { ownerOf, type Feature } from '../context';

/** The filter as the form sends it: `collaborator` (an id or `owner`), `action`; anything else is ignored. */
function filterOf(req: Request): AuditFilter & { collaborator: string } {
  const collaborator = typeof req.query.collaborator === 'string' ? req.query.collaborator : '';
  const id = Number(collaborator);
  const collaboratorId = collaborator === 'owner' ? 'owner' : Number.isSafeInteger(id) && id > 0 ? id : undefined;
  const action = isAuditAction(req.query.action) ? req.query.action : undefined;
  return { collaboratorId, action, collaborator: collaboratorId ? String(collaboratorId) : '' };
}

/** The query string of a filter, for page links and the CSV link. */
function queryOf(filter: AuditFilter, page?: number): string {
  const params = new URLSearchParams();
  if (filter.collaboratorId) params.set('collaborator', String(filter.collaboratorId));
  if (filter.action) params.set('action', filter.action);
  if (page && page > 1) params.set('page', String(page));
  const query = params.toString();
  return query ? `?${query}` : '';
}

/**
 * Settings → Activity: the mailbox's log of actions on collaborators, filtered, paged, exported.
 * Answers `/activity` and `/activity.csv` under where it is mounted, behind the owner guard.
 */
export function activityRouter({ domain: { audit }, pages }: Feature): Router {
  const router = Router();

  // GET /settings/activity
  router.get('/activity', async (req, res) => {
    const mailbox = ownerOf(res);
    const filter = filterOf(req);
    const [list, subjects] = await Promise.all([audit.page(mailbox.id, filter, Number(req.query.page ?? 1)), audit.subjects(mailbox.id)]);
    const names = await audit.namesOf(mailbox.id, list.rows.map((e) => e.collaboratorId));
    await pages.render(req, res, { page: 'plugin/activity/index', fragment: 'plugin/activity/_table' }, { list, names, subjects, filter, actions: AUDIT_ACTIONS, queryOf });
  });

  // GET /settings/activity.csv
  router.get('/activity.csv', async (req, res) => {
    const mailbox = ownerOf(res);
    const { t, date } = res.locals;
    res.attachment(`activity-${new Date().toISOString().slice(0, 10)}.csv`).type('text/csv; charset=utf-8');
    res.write(UTF8_BOM + csvLine(['utc', 'europe_rome', 'actor', 'actor_type', 'action', 'action_code', 'collaborator', 'collaborator_name', 'ip', 'detail']));
    for await (const batch of audit.all(mailbox.id, filterOf(req))) {
      const names = await audit.namesOf(mailbox.id, batch.map((e) => e.collaboratorId));
      const lines = batch.map((e) =>
        csvLine([
          e.createdAt.toISOString(),
          date(e.createdAt),
          e.actorName,
          e.actorType,
          t(`audit.${e.action}`),
          e.action,
          e.subject,
          e.collaboratorId ? names.get(e.collaboratorId) : '',
          e.ip,
          e.detail,
        ]),
      );
      res.write(lines.join(''));
    }
    res.end();
  });

  return router;
}
