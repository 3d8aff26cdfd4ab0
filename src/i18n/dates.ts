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
