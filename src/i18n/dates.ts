const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const MINUTES = Array.from({ length: 60 }, (_, minute) => String(minute).padStart(2, '0'));
/** Hours remembered by each formatter (a page shows 200 at most; ~150 bytes each): past this many, forgotten all at once. */
const HOURS_KEPT = 2_000;

/** The text of a UTC hour's moments around their minute, or the whole text when the format shows no minute. */
type HourText = { before: string; after: string } | { whole: string };

/**
 * `format` (of Italian time, in figures of 0-9) done once per UTC hour, not once per moment. Italian
 * time's offset is a whole number of hours and changes only at a whole UTC hour (01:00 UTC), so within
 * one UTC hour only the minute differs; each hour is checked when first met: its first and last
 * moment must read the same but for the minute ("00", "59"), else (another zone's history, other
 * digits) that hour is formatted by Intl every time.
 */
function byHour(format: Intl.DateTimeFormat): (date: Date) => string {
  const hours = new Map<number, HourText | null>();
  // The texts Intl.DateTimeFormat#format gives (V8 changes some spaces that formatToParts keeps):
  // the parts only say where the minute is.
  const textOf = (start: number): HourText | null => {
    const first = format.format(start);
    const last = format.format(start + HOUR_MS - 1);
    const parts = format.formatToParts(start);
    const minutes = parts.filter((part) => part.type === 'minute');
    if (minutes.length === 0) return first === last ? { whole: first } : null;
    const at = parts.slice(0, parts.indexOf(minutes[0] as Intl.DateTimeFormatPart)).reduce((length, part) => length + part.value.length, 0);
    const before = first.slice(0, at);
    const after = first.slice(at + 2);
    const fits = minutes.length === 1 && first === `${before}00${after}` && last === `${before}59${after}`;
    return fits ? { before, after } : null;
  };
  return (date) => {
    const ms = date.getTime();
    if (!Number.isFinite(ms)) return format.format(date);
    const hour = Math.floor(ms / HOUR_MS);
    let text = hours.get(hour);
    if (text === undefined) {
      if (hours.size >= HOURS_KEPT) hours.clear();
      text = textOf(hour * HOUR_MS);
      hours.set(hour, text);
    }
    if (text === null) return format.format(date);
    return 'whole' in text ? text.whole : text.before + MINUTES[Math.floor((ms - hour * HOUR_MS) / MINUTE_MS)] + text.after;
  };
}

/** Building an Intl formatter costs far more than using one: one per language and length. */
const dateFormats = new Map<string, (date: Date) => string>();

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
    format = byHour(
      new Intl.DateTimeFormat(locale, {
        day: 'numeric',
        month,
        year: 'numeric',
        hour: 'numeric',
        minute: '2-digit',
        timeZone: 'Europe/Rome',
        timeZoneName: 'shortOffset',
      }),
    );
    dateFormats.set(key, format);
  }
  return format(new Date(date));
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

const dayFormats = new Map<string, (date: Date) => string>();

/** The day of a moment in Italian time, in `locale` ("28 nov 2026"): for lists, where the hour is noise. */
export function formatDay(locale: string, date: Date | string | null | undefined): string {
  if (!date) return '';
  let format = dayFormats.get(locale);
  if (!format) {
    format = byHour(new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'Europe/Rome' }));
    dayFormats.set(locale, format);
  }
  return format(new Date(date));
}

const dayKeyFormat = new Intl.DateTimeFormat('en-CA', { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'Europe/Rome' });

/** The Italian calendar day of a moment as `YYYY-MM-DD`: two moments read the same in formatDay when these are equal. */
export function dayKey(date: Date): string {
  return dayKeyFormat.format(date);
}

const ITALY = 'Europe/Rome';
const wallClockFormat = new Intl.DateTimeFormat('en-US', { timeZone: ITALY, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });

/** Italian time's offset from UTC at `instant`, in ms (+1 h in winter, +2 h in summer). */
function italianOffsetMs(instant: number): number {
  const parts = Object.fromEntries(wallClockFormat.formatToParts(new Date(instant)).map((p) => [p.type, Number(p.value)]));
  const wall = Date.UTC(parts.year as number, (parts.month as number) - 1, parts.day, parts.hour, parts.minute, parts.second);
  return wall - Math.floor(instant / 1000) * 1000;
}

/**
 * The instant an Italian wall-clock date and time names, by RFC 5545 §3.3.5: a time the clocks skip
 * (29 Mar 2026, 02:30) is read with the offset before the gap (02:30 CET, i.e. 03:30 CEST =
 * 01:30Z); a time they show twice (25 Oct 2026, 02:30) is its first occurrence (CEST, 00:30Z).
 * `date` is `YYYY-MM-DD`, `time` `HH:MM` (24 h); null when either is malformed or not a calendar day.
 */
export function italianTimeToInstant(date: string, time: string): Date | null {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const t = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time);
  if (!d || !t) return null;
  const [year, month, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
  const wall = Date.UTC(year, month - 1, day, Number(t[1]), Number(t[2]));
  if (year < 1970 || new Date(wall).getUTCDate() !== day || new Date(wall).getUTCMonth() !== month - 1) return null;
  // Offsets in force half a day either side: the one before a change and the one after it.
  const before = italianOffsetMs(wall - 12 * 3600 * 1000);
  const after = italianOffsetMs(wall + 12 * 3600 * 1000);
  const valid = [before, after].map((offset) => wall - offset).filter((instant) => wall - italianOffsetMs(instant) === instant);
  return new Date(valid.length > 0 ? Math.min(...valid) : wall - before);
}

/** An instant as the Italian wall-clock date (`YYYY-MM-DD`) and time (`HH:MM`) a form's date and time fields take. */
export function instantToItalianTime(instant: Date): { date: string; time: string } {
  const [date, time] = spreadsheetDateTime(instant, ITALY).split(' ') as [string, string];
  return { date, time: time.slice(0, 5) };
}

const shortFormats = new Map<string, (date: Date) => string>();

/** A moment in Italian time, all in figures ("12/12/2026, 18:00"): for a list row on a phone. */
export function formatShortDateTime(locale: string, date: Date | string | null | undefined): string {
  if (!date) return '';
  let format = shortFormats.get(locale);
  if (!format) {
    format = byHour(new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: ITALY }));
    shortFormats.set(locale, format);
  }
  return format(new Date(date));
}
