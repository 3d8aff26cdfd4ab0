import { stringify } from 'csv-stringify/sync';
import type { Locale } from '../i18n';

/** Spreadsheets run a cell that starts with one of these as a formula (CSV injection). */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A cell's text with a would-be formula defused by a leading apostrophe (OWASP's advice). */
export function defuseFormula(text: string): string {
  return FORMULA_START.test(text) ? `'${text}` : text;
}

/**
 * The separator a spreadsheet in the reader's language splits a CSV file on: Excel takes the list
 * separator of the system's region, ';' where the comma is the decimal separator (Italy, Spain).
 */
export const CSV_SEPARATORS: Record<Locale, ';' | ','> = { it: ';', es: ';', en: ',' };

/**
 * CSV records (csv-stringify): every cell quoted, inner quotes doubled, a would-be formula defused,
 * each record ended by the CRLF that RFC 4180 and Excel expect. null and undefined are empty cells.
 */
export function csvLines(records: Array<Array<string | null | undefined>>, separator: ';' | ','): string {
  return stringify(records, { delimiter: separator, quoted: true, quoted_empty: true, record_delimiter: 'windows', cast: { string: defuseFormula } });
}

/** Makes Excel read the file as UTF-8 (accented names). */
export const UTF8_BOM = '\uFEFF';
