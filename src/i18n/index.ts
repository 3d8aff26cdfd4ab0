import i18next, { type TFunction } from 'i18next';
import { en } from './en';
import { it } from './it';
import { es } from './es';
import { formatDateTime } from './dates';

export const LOCALES = ['it', 'en', 'es'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'it';

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
const translators = new Map<Locale, Translate>();

export function translator(locale: Locale): Translate {
  let cached = translators.get(locale);
  if (!cached) {
    const fixed = i18n.getFixedT(locale) as unknown as (...args: unknown[]) => unknown;
    const plurals = new Intl.PluralRules(locale);
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
    const interpolate = (key: string, values: Values): string | undefined => {
      for (const name in values) {
        if (I18NEXT_OPTIONS.has(name)) return undefined;
        const value = values[name];
        if (typeof value !== 'string' && typeof value !== 'number') return undefined;
      }
      const count = values.count;
      // A plural form the texts lack falls back to the key itself, as in i18next.
      const parts = (typeof count === 'number' ? compile(`${key}_${plurals.select(count)}`) : null) ?? compile(key);
      if (!parts) return undefined;
      let text = parts[0] as string;
      for (let i = 1; i < parts.length; i += 2) {
        const value = values[parts[i] as string];
        if (value === undefined) return undefined;
        text += String(value) + (parts[i + 1] as string);
      }
      return text;
    };
    cached = ((...args: unknown[]) => {
      const [key, options] = args;
      if (typeof key !== 'string' || args.length > 2) return fixed(...args);
      if (args.length === 1) {
        if (!plain.has(key)) plain.set(key, fixed(key));
        return plain.get(key);
      }
      const text = options && typeof options === 'object' ? interpolate(key, options as Values) : undefined;
      return text ?? fixed(...args);
    }) as unknown as Translate;
    translators.set(locale, cached);
  }
  return cached;
}

/** Dates on pages: the user's language, Italian time with its UTC offset. */
export function formatDate(locale: Locale, date: Date | string | null | undefined): string {
  return formatDateTime(locale, date);
}
