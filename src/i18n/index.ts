import i18next, { type TFunction } from 'i18next';
import { en } from './en';
import { it } from './it';
import { es } from './es';

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

export function translator(locale: Locale): Translate {
  return i18n.getFixedT(locale);
}

/** Dates as people here read them: the user's language, Italian time. */
export function formatDate(locale: Locale, date: Date | string | null | undefined): string {
  if (!date) return '';
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Rome' }).format(new Date(date));
}
