import { expect } from 'chai';
import { en } from '../../src/i18n/en';
import { es } from '../../src/i18n/es';
import { it as itTexts } from '../../src/i18n/it';
import { LOCALES, formatDate, translator } from '../../src/i18n';

const LANGUAGES = { en, it: itTexts, es } as const;

/** Every string in the texts, by its key path; array items get their index (so arrays compare by length). */
function flatten(value: unknown, prefix = ''): Map<string, string> {
  const result = new Map<string, string>();
  if (typeof value === 'string') {
    result.set(prefix, value);
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => {
      for (const [key, text] of flatten(item, `${prefix}[${index}]`)) result.set(key, text);
    });
  } else if (value !== null && typeof value === 'object') {
    for (const [name, item] of Object.entries(value)) {
      for (const [key, text] of flatten(item, prefix ? `${prefix}.${name}` : name)) result.set(key, text);
    }
  } else {
    throw new Error(`Unexpected value at ${prefix || '(root)'}: ${String(value)}`);
  }
  return result;
}

function placeholders(text: string): string[] {
  return [...new Set([...text.matchAll(/\{\{\s*([^}\s]+)\s*\}\}/g)].map((match) => match[1]))].sort();
}

describe('UI texts', () => {
  const reference = flatten(en);

  it('should have the same keys in every language', () => {
    const keys = [...reference.keys()].sort();
    expect(keys).to.not.be.empty;
    for (const [language, texts] of Object.entries(LANGUAGES)) {
      expect([...flatten(texts).keys()].sort(), `keys of ${language}`).to.deep.equal(keys);
    }
  });

  it('should use the same placeholders in every language', () => {
    for (const [language, texts] of Object.entries(LANGUAGES)) {
      const flat = flatten(texts);
      for (const [key, text] of reference) {
        expect(placeholders(flat.get(key) ?? ''), `placeholders of ${language} ${key}`).to.deep.equal(placeholders(text));
      }
    }
  });
});

describe('formatDate (times on pages)', () => {
  it('should tell apart the two 02:10 of the night the clocks go back, in every language', () => {
    // 26 October 2025: 00:10 UTC is 02:10 summer time (GMT+2), 01:10 UTC is 02:10 winter time (GMT+1).
    for (const locale of LOCALES) {
      const summer = formatDate(locale, new Date('2025-10-26T00:10:00Z'));
      const winter = formatDate(locale, new Date('2025-10-26T01:10:00Z'));
      expect(summer, locale).to.not.equal(winter);
      expect(summer, locale).to.match(/2:10( AM)? GMT\+2$/);
      expect(winter, locale).to.match(/2:10( AM)? GMT\+1$/);
    }
  });
});

describe('translator', () => {
  it('should give, for every text, what i18next itself gives (plain, with values, with every plural count)', async () => {
    const { default: i18next } = await import('i18next');
    for (const locale of LOCALES) {
      const reference = i18next.createInstance();
      await reference.init({
        resources: { en: { translation: en }, it: { translation: itTexts }, es: { translation: es } },
        lng: locale,
        fallbackLng: 'it',
        interpolation: { escapeValue: false },
        returnObjects: true,
      });
      const t = translator(locale);
      for (const [path, text] of flatten(LANGUAGES[locale])) {
        if (path.includes('[')) continue;
        const key = path.replace(/_(one|other)$/, '');
        const values = Object.fromEntries(placeholders(text).map((name) => [name, `‹${name}›`]));
        expect(t(key, values), `${locale} ${key}`).to.equal(reference.t(key, values));
        if ('count' in values) {
          for (const count of [0, 1, 2, 21, 1_000_000]) {
            expect(t(key, { ...values, count }), `${locale} ${key} ${count}`).to.equal(reference.t(key, { ...values, count }));
          }
        }
      }
    }
  });
});
