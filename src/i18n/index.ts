import i18next, { type TFunction } from 'i18next';
import { en } from './en';
import { it } from './it';
import { es } from './es';
import { formatDateTime } from './dates';
import { escapeXml } from '../lib/text';

export const LOCALES = ['it', 'en', 'es'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'it';

/** `make(locale)` made once per language and kept: for what depends on the language alone (a request's helpers). */
export function perLocale<T>(make: (locale: Locale) => T): (locale: Locale) => T {
  const made = new Map<Locale, T>();
  return (locale) => {
    let value = made.get(locale);
    if (value === undefined) made.set(locale, (value = make(locale)));
    return value;
  };
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

const i18n = i18next.createInstance();
void i18n.init({
  initAsync: false,
  resources: { en: { translation: en }, it: { translation: it }, es: { translation: es } },
  lng: DEFAULT_LOCALE,
  fallbackLng: DEFAULT_LOCALE,
  supportedLngs: [...LOCALES],
  // EJS escapes on output (<%= %>); escaping here too would double it.
  interpolation: { escapeValue: false },
  returnObjects: true,
});

export type Translate = TFunction;

/** Option names i18next acts on itself (besides `count`): a call using one goes to i18next. */
const I18NEXT_OPTIONS = new Set(['context', 'defaultValue', 'lng', 'lngs', 'ns', 'returnObjects', 'joinArrays', 'postProcess', 'interpolation', 'replace', 'ordinal', 'keySeparator', 'nsSeparator', 'fallbackLng']);
/** A text using i18next's nesting, formatting or unescaped interpolation goes to i18next. */
const BEYOND_PLAIN = /\$t\(|\{\{\s*-|\{\{[^}]*,/;
const PLACEHOLDER = /\{\{\s*(\w+)\s*\}\}/;

type Values = Record<string, unknown>;
/** A text with `{{name}}` placeholders, split once: literal, name, literal, name, …, literal. */
type Compiled = string[] | null;

/**
 * One translator per language. The texts of a list page are asked for hundreds of times a request, and
 * i18next resolves each call from scratch (copying every option): this remembers the texts asked for
 * without options, and splits the `{{name}}` placeholders of the others once, choosing the plural form
 * as i18next does (`key_one`, `key_other`, by Intl.PluralRules). Anything else goes to i18next; the
 * unit tests check that both give the same text for every key.
 */
/**
 * A translation as HTML to place as it is: the text escaped as EJS's `<%= %>` would, and each
 * `{{name}}` value, plain text, escaped too. A template printing the same texts on every row of a
 * list (views/plugin/collaborations/_row.ejs) escapes each text once, not once a row.
 */
export type HtmlTranslate = (key: string, values?: Record<string, string | number>) => string;

interface Translators {
  text: Translate;
  html: HtmlTranslate;
}
const translators = new Map<Locale, Translators>();

export function translator(locale: Locale): Translate {
  return translatorsOf(locale).text;
}

export function htmlTranslator(locale: Locale): HtmlTranslate {
  return translatorsOf(locale).html;
}

function translatorsOf(locale: Locale): Translators {
  let cached = translators.get(locale);
  if (!cached) {
    const fixed = i18n.getFixedT(locale) as unknown as (...args: unknown[]) => unknown;
    const plurals = new Intl.PluralRules(locale);
    // Intl.PluralRules#select takes a microsecond or two: the forms of small counts are kept.
    const forms: string[] = [];
    const formOf = (count: number): string => {
      if (!(Number.isInteger(count) && count >= 0 && count < 1000)) return plurals.select(count);
      return (forms[count] ??= plurals.select(count));
    };
    const plain = new Map<string, unknown>();
    const compiled = new Map<string, Compiled>();
    const compile = (key: string): Compiled => {
      let parts = compiled.get(key);
      if (parts === undefined) {
        const text: unknown = i18n.getResource(locale, 'translation', key) ?? i18n.getResource(DEFAULT_LOCALE, 'translation', key);
        parts = typeof text === 'string' && !BEYOND_PLAIN.test(text) ? text.split(PLACEHOLDER) : null;
        compiled.set(key, parts);
      }
      return parts;
    };
    /** The same parts, each literal escaped (its names stay as they are). */
    const compiledHtml = new Map<string, Compiled>();
    const compileHtml = (key: string): Compiled => {
      let parts = compiledHtml.get(key);
      if (parts === undefined) {
        parts = compile(key)?.map((part, i) => (i % 2 === 0 ? escapeXml(part) : part)) ?? null;
        compiledHtml.set(key, parts);
      }
      return parts;
    };
    const interpolate = (key: string, values: Values, as: (key: string) => Compiled, value: (value: unknown) => string): string | undefined => {
      for (const name in values) {
        if (I18NEXT_OPTIONS.has(name)) return undefined;
        const value = values[name];
        if (typeof value !== 'string' && typeof value !== 'number') return undefined;
      }
      const count = values.count;
      // A plural form the texts lack falls back to the key itself, as in i18next.
      const parts = (typeof count === 'number' ? as(`${key}_${formOf(count)}`) : null) ?? as(key);
      if (!parts) return undefined;
      let text = parts[0] as string;
      for (let i = 1; i < parts.length; i += 2) {
        const named = values[parts[i] as string];
        if (named === undefined) return undefined;
        text += value(named) + (parts[i + 1] as string);
      }
      return text;
    };
    const text = ((...args: unknown[]) => {
      const [key, options] = args;
      if (typeof key !== 'string' || args.length > 2) return fixed(...args);
      if (args.length === 1) {
        if (!plain.has(key)) plain.set(key, fixed(key));
        return plain.get(key);
      }
      const interpolated = options && typeof options === 'object' ? interpolate(key, options as Values, compile, String) : undefined;
      return interpolated ?? fixed(...args);
    }) as unknown as Translate;
    const plainHtml = new Map<string, string>();
    const html: HtmlTranslate = (key, values) => {
      if (values === undefined) {
        let escaped = plainHtml.get(key);
        if (escaped === undefined) {
          escaped = escapeXml(text(key));
          plainHtml.set(key, escaped);
        }
        return escaped;
      }
      return interpolate(key, values, compileHtml, escapeXml) ?? escapeXml(text(key, values));
    };
    cached = { text, html };
    translators.set(locale, cached);
  }
  return cached;
}

/** Dates on pages: the user's language, Italian time with its UTC offset. */
export function formatDate(locale: Locale, date: Date | string | null | undefined): string {
  return formatDateTime(locale, date);
}
