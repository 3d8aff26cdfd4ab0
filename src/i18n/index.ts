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

/**
 * One translator per language, remembering the texts asked for without options: a list page asks
 * for the same few keys hundreds of times, and i18next resolves each call from scratch.
 */
const translators = new Map<Locale, Translate>();

export function translator(locale: Locale): Translate {
  let cached = translators.get(locale);
  if (!cached) {
    const fixed = i18n.getFixedT(locale) as unknown as (...args: unknown[]) => unknown;
    const plain = new Map<string, unknown>();
    cached = ((...args: unknown[]) => {
      const [key] = args;
      if (args.length > 1 || typeof key !== 'string') return fixed(...args);
      if (!plain.has(key)) plain.set(key, fixed(key));
      return plain.get(key);
    }) as unknown as Translate;
    translators.set(locale, cached);
  }
  return cached;
}

/** Dates on pages: the user's language, Italian time with its UTC offset. */
export function formatDate(locale: Locale, date: Date | string | null | undefined): string {
  return formatDateTime(locale, date);
}
