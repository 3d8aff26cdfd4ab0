import type { Response } from 'express';
import type { ListRow } from '../domain/directory';
import { allows } from '../domain/state-machine';
import { htmlTranslator, type Locale } from '../i18n';
import { boxedBreakableHtml, escapeXml } from '../lib/text';
import type { Pages, Partial } from './render';

/** What views/plugin/collaborations/_row.ejs uses: the row, the mailbox's two-step rule, and these. */
const ROW_NAMES = ['row', 'twoStepRequired', 'urls', 'th', 'html', 'date', 'day', 'shortDate', 'breakableBoxes', 'allows'] as const;
type RowLocals = Record<(typeof ROW_NAMES)[number], unknown>;

/**
 * The list's rows in the response's language: `one(row)` a row as a string, `all(rows)` the rows one
 * after another (a line break between them) as one Buffer, written row by row: never one string of
 * every row (see Html in render.ts), nor a Buffer and a copy per row.
 */
export interface RowRenderer {
  one(row: ListRow): string;
  all(rows: readonly ListRow[]): Buffer;
}

export function rowRenderer(pages: Pages, res: Response, twoStepRequired: boolean): RowRenderer {
  const template: Partial = pages.partial('plugin/collaborations/_row', ROW_NAMES);
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
  const one = (row: ListRow) => {
    locals.row = row;
    return template(locals);
  };
  return {
    one,
    all(rows) {
      let buffer = Buffer.allocUnsafe(rows.length * ROW_BYTES);
      let length = 0;
      for (let i = 0; i < rows.length; i++) {
        const html = i === 0 ? one(rows[i] as ListRow) : `\n${one(rows[i] as ListRow)}`;
        // UTF-8 takes at most 3 bytes for each UTF-16 unit.
        if (buffer.length - length < html.length * 3) {
          const larger = Buffer.allocUnsafe(Math.max(2 * buffer.length, length + html.length * 3));
          buffer.copy(larger, 0, 0, length);
          buffer = larger;
        }
        length += buffer.write(html, length);
      }
      return buffer.subarray(0, length);
    },
  };
}

/** Room for a row, to begin with: a row is about 2,500 bytes, up to 3 times that with long names. */
const ROW_BYTES = 4096;
