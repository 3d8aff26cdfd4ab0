import type { Response } from 'express';
import type { CollaboratorPage, ListRow } from '../domain/directory';
import { allows } from '../domain/state-machine';
import { htmlTranslator, type Locale } from '../i18n';
import { boxedBreakableHtml, escapeXml } from '../lib/text';
import { Slots, type Pages } from './render';

/** What views/plugin/collaborations/_row.ejs uses: the row, the mailbox's two-step rule, and these. */
const ROW_NAMES = ['row', 'twoStepRequired', 'urls', 'th', 'html', 'date', 'day', 'shortDate', 'breakableBoxes', 'allows'] as const;
type RowLocals = Record<(typeof ROW_NAMES)[number], unknown>;
/** What views/plugin/collaborations/_list.ejs uses. */
const LIST_NAMES = ['list', 'rowsHtml', 'mailboxAddress', 't', 'breakable', 'urls'] as const;

/** A row of the list (views/plugin/collaborations/_row.ejs) in the response's language, for each row given. */
export function rowRenderer(pages: Pages, res: Response, twoStepRequired: boolean): (row: ListRow) => string {
  const template = pages.partial('plugin/collaborations/_row', ROW_NAMES);
  const { urls, date, day, shortDate, locale } = res.locals;
  // One object for every row (the template reads it, never keeps it).
  const locals: RowLocals = Object.assign(Object.create(null) as RowLocals, {
    row: undefined,
    twoStepRequired,
    urls,
    th: htmlTranslator(locale as Locale),
    html: escapeXml,
    date,
    day,
    shortDate,
    breakableBoxes: boxedBreakableHtml,
    allows,
  });
  return (row) => {
    locals.row = row;
    return template(locals);
  };
}

/**
 * Where a list's rows are written, one after another, before the list is copied out whole: reused by
 * every list (all of it is written and copied in one synchronous run), so a list costs one Buffer.
 */
let scratch = Buffer.allocUnsafeSlow(256 * 1024);

/**
 * The list fragment (views/plugin/collaborations/_list.ejs) with its rows, as one Buffer: its rows are
 * never one string (see Html in render.ts), nor a Buffer each; each is written into the scratch
 * Buffer as it is rendered.
 */
export function renderList(pages: Pages, res: Response, list: CollaboratorPage, { twoStepRequired, mailboxAddress }: { twoStepRequired: boolean; mailboxAddress: string }): Buffer {
  const template = pages.partial('plugin/collaborations/_list', LIST_NAMES);
  const slots = new Slots();
  const rowsHtml = list.rows.length > 0 ? slots.place(rowsOf(rowRenderer(pages, res, twoStepRequired), list.rows)) : null;
  const { t, breakable, urls } = res.locals;
  return Buffer.concat(slots.fill(template({ list, rowsHtml, mailboxAddress, t, breakable, urls })));
}

/** The rows, a line break between them, in `scratch` (grown when a row might not fit). */
function rowsOf(row: (row: ListRow) => string, rows: readonly ListRow[]): Buffer {
  let length = 0;
  for (let i = 0; i < rows.length; i++) {
    const html = i === 0 ? row(rows[i] as ListRow) : `\n${row(rows[i] as ListRow)}`;
    // UTF-8 takes at most 3 bytes for each UTF-16 unit.
    if (scratch.length - length < html.length * 3) {
      const larger = Buffer.allocUnsafeSlow(Math.max(2 * scratch.length, length + html.length * 3));
      scratch.copy(larger, 0, 0, length);
      scratch = larger;
    }
    length += scratch.write(html, length);
  }
  return scratch.subarray(0, length);
}
