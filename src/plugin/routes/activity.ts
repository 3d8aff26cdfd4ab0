import { Router, type Request } from 'express';
import { AUDIT_ACTIONS, isAuditAction, type AuditFilter } from '../../domain/audit';
import type { AuditEvent } from '../../models';
import type { Locale, Translate } from '../../i18n';
import { spreadsheetDateTime } from '../../i18n/dates';
import { CSV_SEPARATORS, csvLines, UTF8_BOM } from '../csv';
import { describeEvent, type ActivityEntry } from '../activity-text';
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

/** The export's columns, headed in the reader's language (activity.csv.*). */
const CSV_COLUMNS = ['local', 'utc', 'event', 'details', 'username', 'device', 'ip'] as const;

/**
 * One event as a record of the export: times a spreadsheet reads as dates (Italian time, and UTC for
 * the hour the clocks go back), the sentence for whoever the file is handed to, the details in words,
 * and the full address: the export is the record, the pages shorten it.
 */
function csvRecord(event: AuditEvent, entry: ActivityEntry): string[] {
  const { sentence, details, subject, device } = entry;
  return [spreadsheetDateTime(event.createdAt), spreadsheetDateTime(event.createdAt, 'UTC'), sentence, details, subject, device, event.ip ?? ''];
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
    const { t, date, locale } = res.locals as { t: Translate; date: (d: Date | string | null | undefined) => string; locale: Locale };
    const separator = CSV_SEPARATORS[locale];
    res.attachment(`activity-${new Date().toISOString().slice(0, 10)}.csv`).type('text/csv; charset=utf-8');
    res.write(UTF8_BOM + csvLines([CSV_COLUMNS.map((column) => t(`activity.csv.${column}`))], separator));
    for await (const batch of audit.all(mailbox.id, filterOf(req))) {
      const names = await audit.namesOf(mailbox.id, batch.map((e) => e.collaboratorId));
      res.write(csvLines(batch.map((e) => csvRecord(e, describeEvent(e, { t, date, names, reader: 'anyone' }))), separator));
    }
    res.end();
  });

  return router;
}
