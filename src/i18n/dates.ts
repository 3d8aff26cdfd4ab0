/** Building an Intl formatter costs far more than using one: one per language and length. */
const dateFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * A moment as people here read it: in `locale` (a language or a BCP 47 tag), Italian time, with its
 * UTC offset ("26 ott 2025, 02:10 GMT+1"). Without the offset, the hour repeated when the clocks go
 * back (02:00 to 03:00 on the last Sunday of October) names two moments. `month` is 'short' for
 * pages and tables, 'long' for sentences in emails.
 */
export function formatDateTime(locale: string, date: Date | string | null | undefined, month: 'short' | 'long' = 'short'): string {
  if (!date) return '';
  const key = `${locale} ${month}`;
  let format = dateFormats.get(key);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, {
      day: 'numeric',
      month,
      year: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
      timeZone: 'Europe/Rome',
      timeZoneName: 'shortOffset',
    });
    dateFormats.set(key, format);
  }
  return format.format(new Date(date));
}

const spreadsheetFormats = new Map<string, Intl.DateTimeFormat>();

/**
 * A moment as a spreadsheet in any language reads it as a date and time: `2026-11-30 09:15:00`, in
 * `timeZone` (Europe/Rome by default; 'UTC' too). No 'T', no 'Z', no offset: Excel takes none of them.
 */
export function spreadsheetDateTime(date: Date, timeZone = 'Europe/Rome'): string {
  let format = spreadsheetFormats.get(timeZone);
  if (!format) {
    // Swedish writes dates and times in the ISO 8601 order with a space between them.
    format = new Intl.DateTimeFormat('sv-SE', { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZone });
    spreadsheetFormats.set(timeZone, format);
  }
  return format.format(date);
}

const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The day of a moment in Italian time, in `locale` ("28 nov 2026"): for lists, where the hour is noise. */
export function formatDay(locale: string, date: Date | string | null | undefined): string {
  if (!date) return '';
  let format = dayFormats.get(locale);
  if (!format) {
    format = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'Europe/Rome' });
    dayFormats.set(locale, format);
  }
  return format.format(new Date(date));
}

const dayKeyFormat = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'Europe/Rome' });

/** The Italian calendar day of a moment as `YYYY-MM-DD`: two moments read the same in formatDay when these are equal. */
export function dayKey(date: Date): string {
  return dayKeyFormat.format(date);
}
