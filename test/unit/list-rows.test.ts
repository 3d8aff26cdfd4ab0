import crypto from 'node:crypto';
import { expect } from 'chai';
import ejs from 'ejs';
import type { Response } from 'express';
import { allows } from '../../src/domain/state-machine';
import { formatDate, htmlTranslator, translator, LOCALES, type Locale } from '../../src/i18n';
import { en } from '../../src/i18n/en';
import { formatDateTime, formatDay, formatShortDateTime } from '../../src/i18n/dates';
import { boxedBreakableHtml, breakableHtml, escapeXml } from '../../src/lib/text';
import { renderList, rowRenderer } from '../../src/plugin/list-rows';
import { pages } from '../../src/plugin/render';
import { pageOf, variedRows } from '../support/list-page';

/**
 * SHA-256 (base64url, 22 characters) of the list, and of its first 40 rows rendered one by one, as
 * the templates of commit de99e3c printed them (each text by t(), escaped by EJS, each date by Intl,
 * each row a piece of its own): the list's HTML stays byte for byte what it was.
 */
const RENDERED: Record<string, [string, string | null]> = {
  'it-optional-plain-full': ['EP3IcLBTreBQaRvP78r_tx', 'Tx9nbFvehHcaHppbPXP1ow'],
  'it-optional-plain-first': ['x-1nHeCpluo09FvIyfWEEM', 'kdH627IRutam6Pa7VRAJBZ'],
  'it-optional-plain-empty': ['HvnjHflAwW4S15ZIPLdc3w', null],
  'it-optional-odd-full': ['1mI72dVGe58GqwY192hEEr', 'MEzuLCZHbVEL-hGm5G7kIQ'],
  'it-optional-odd-first': ['aj1WtY-1VWD7a-EQkErEea', '2SjuNAbMuEf5ukwLP76EWq'],
  'it-optional-odd-empty': ['HvnjHflAwW4S15ZIPLdc3w', null],
  'it-required-plain-full': ['LFO4l8Toewm2LBAtmXEVjz', 'At6XsHU6LIs9OaGCp7Hr_Z'],
  'it-required-plain-first': ['x-1nHeCpluo09FvIyfWEEM', 'kdH627IRutam6Pa7VRAJBZ'],
  'it-required-plain-empty': ['HvnjHflAwW4S15ZIPLdc3w', null],
  'it-required-odd-full': ['YARkUkauEgT1qFcFR72AEP', '_D7jR_Iu26I-tQrjQRGM7G'],
  'it-required-odd-first': ['aj1WtY-1VWD7a-EQkErEea', '2SjuNAbMuEf5ukwLP76EWq'],
  'it-required-odd-empty': ['HvnjHflAwW4S15ZIPLdc3w', null],
  'en-optional-plain-full': ['LMKq2QQ_0JRJOglfPuaqrM', 'mOTFx8eHfFJJRmAufx98oG'],
  'en-optional-plain-first': ['xp_yefccmJB61aMUIl2ps6', '7fvNYQTqi1JHF2ykf-8o2o'],
  'en-optional-plain-empty': ['sexT01ZOUQWDHcYCR2lHYk', null],
  'en-optional-odd-full': ['iTFzs2_kQBSGCpfzoX8YmW', 'Y6ot6YZfQXQp5V6U_mKGL2'],
  'en-optional-odd-first': ['KTmd2quC7aPl7B-9rdpppm', 'qLu29lNfmU3Fgnj-97Kdw7'],
  'en-optional-odd-empty': ['sexT01ZOUQWDHcYCR2lHYk', null],
  'en-required-plain-full': ['7pzY_1kzegW2yKJ2jsQHcv', 'B4RBRrkVP1gRQnke2vmsVu'],
  'en-required-plain-first': ['xp_yefccmJB61aMUIl2ps6', '7fvNYQTqi1JHF2ykf-8o2o'],
  'en-required-plain-empty': ['sexT01ZOUQWDHcYCR2lHYk', null],
  'en-required-odd-full': ['ywONDHFTEUB3-jVyvJRxLp', '3rbCPw0RnoOmTyfAmNwfQk'],
  'en-required-odd-first': ['KTmd2quC7aPl7B-9rdpppm', 'qLu29lNfmU3Fgnj-97Kdw7'],
  'en-required-odd-empty': ['sexT01ZOUQWDHcYCR2lHYk', null],
  'es-optional-plain-full': ['bbkOsyxc6CcAAO2qfy4_BT', '5hpd7x4gja5xV8HVpmJBQ4'],
  'es-optional-plain-first': ['inZxuDeov3FjKjbudwopSp', '9Kbbtt0KzVdJmsl5Kz_H5U'],
  'es-optional-plain-empty': ['Gwnft4GJxQRK1NJaDxQcLt', null],
  'es-optional-odd-full': ['dLMXCA-OKrEwO8ERDcQf3B', 'qdI5KaWb0zCt8fqCCEkRy8'],
  'es-optional-odd-first': ['crrySiPZ-9iIoC4vclB6mR', 'tLIADmcxitIRDb3a1CaWn9'],
  'es-optional-odd-empty': ['Gwnft4GJxQRK1NJaDxQcLt', null],
  'es-required-plain-full': ['zN9s-oT7WzR5WH77TwIRLU', 'yZ1RgtousZgfqvPZAqy8l2'],
  'es-required-plain-first': ['inZxuDeov3FjKjbudwopSp', '9Kbbtt0KzVdJmsl5Kz_H5U'],
  'es-required-plain-empty': ['Gwnft4GJxQRK1NJaDxQcLt', null],
  'es-required-odd-full': ['xtaU7f0DRHzOMuCOLp2stl', 'W7545wxf96209A9Kx295L6'],
  'es-required-odd-first': ['crrySiPZ-9iIoC4vclB6mR', 'tLIADmcxitIRDb3a1CaWn9'],
  'es-required-odd-empty': ['Gwnft4GJxQRK1NJaDxQcLt', null],
};

const sha = (data: string | Buffer) => crypto.createHash('sha256').update(data).digest('base64url').slice(0, 22);

function localsOf(locale: Locale, base: string): Response {
  const locals = {
    locale,
    t: translator(locale),
    date: (d: Date) => formatDate(locale, d),
    day: (d: Date) => formatDay(locale, d),
    shortDate: (d: Date) => formatShortDateTime(locale, d),
    breakable: breakableHtml,
    urls: { collaborators: base },
    allows,
  };
  return { locals } as unknown as Response;
}

describe('list rows', () => {
  const rows = variedRows();
  const shapes = {
    full: pageOf(rows),
    first: pageOf(rows.slice(0, 3), { page: 1, pages: 1, total: 3, sort: 'status', direction: 'desc', keyset: false }),
    empty: pageOf([], { total: 0, page: 1, pages: 1, query: '<q>&' }),
  };

  for (const cache of [true, false]) {
    it(`should print every row state, language and kind of name as the template did (${cache ? 'compiled once' : 'compiled each time'})`, async () => {
      const site = pages(() => '', () => '', { cache });
      const found: Record<string, [string, string | null]> = {};
      for (const locale of LOCALES) {
        for (const twoStepRequired of [false, true]) {
          for (const base of ['/settings/collaborations', '/a&b"<c']) {
            for (const [shape, list] of Object.entries(shapes)) {
              const res = localsOf(locale, base);
              const html = renderList(site, res, list, { twoStepRequired, mailboxAddress: 'owner@example.com' });
              const row = rowRenderer(site, res, twoStepRequired);
              const one = list.rows.slice(0, 40).map((r) => `${row(r)}\n`).join('');
              found[`${locale}-${twoStepRequired ? 'required' : 'optional'}-${base.startsWith('/settings') ? 'plain' : 'odd'}-${shape}`] = [sha(html), one ? sha(one) : null];
            }
          }
        }
      }
      expect(found).to.deep.equal(RENDERED);
    });
  }

  it('should print hostile names as text', () => {
    const res = localsOf('en', '/settings/collaborations');
    const html = renderList(pages(() => '', () => '', { cache: true }), res, pageOf(variedRows(8)), { twoStepRequired: true, mailboxAddress: 'owner@example.com' }).toString();
    expect(html).to.include('&lt;script&gt;alert(1)&lt;/script&gt; Rossi &amp; Figli');
    expect(html).to.include('&#34;Anna&#34; O&#39;Brien');
    expect(html).to.include('&lt;!--pec-slot AAAA 0--&gt; &amp;amp; &amp;lt;');
    expect(html).to.include('aria-label="Actions for &lt;script&gt;alert(1)&lt;/script&gt; Rossi &amp; Figli"');
    expect(html).to.not.match(/<script|<!--pec-slot/);
  });

  it('should write rows of any length, one list after another', () => {
    const site = pages(() => '', () => '', { cache: true });
    const res = localsOf('it', '/settings/collaborations');
    const row = rowRenderer(site, res, false);
    // 50 rows of over 12,000 bytes each (names of two-byte letters): more than the first Buffer holds.
    const long = variedRows(50).map((r, i) => ({ ...r, firstName: 'Ł'.repeat(2000 + i), lastName: 'ü'.repeat(2000) }));
    for (const rows of [long, variedRows(50), long.slice(0, 1)]) {
      const html = renderList(site, res, pageOf(rows), { twoStepRequired: false, mailboxAddress: 'owner@example.com' }).toString();
      expect(html).to.include(`<tbody>\n${rows.map(row).join('\n')}\n      </tbody>`);
    }
  });
});

describe('escapeXml', () => {
  it("should escape as EJS's own escaping does", () => {
    for (const value of ['', 'plain', '<a href="x">&amp;</a>', "it's", '>>', '😀<', 'é&', 0, 12.5, null, undefined, true, { toString: () => '<o>' }]) {
      expect(escapeXml(value), String(value)).to.equal(ejs.escapeXML(value as string));
    }
  });
});

describe('boxedBreakableHtml', () => {
  it('should box the same parts as breakableHtml', () => {
    const boxed = (value: string) => breakableHtml(value).split('<wbr>').map((part) => `<span class="brk">${part}</span>`).join('<wbr>');
    const alphabet = ['a', '.', '/', '@', '<', '&', '"', "'", '-', 'ü', '😀'];
    const values = ['', 'a.', 'a..b', '.x', '/', 'a/b@c.d.', 'mario.rossi'];
    let seed = 7;
    for (let i = 0; i < 500; i++) {
      let value = '';
      for (let n = i % 9; n > 0; n--) value += alphabet[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % alphabet.length];
      values.push(value);
    }
    for (const value of values) expect(boxedBreakableHtml(value), value).to.equal(boxed(value));
  });
});

describe('htmlTranslator', () => {
  /** Every key of the texts, and whether its text has placeholders. */
  function keys(value: unknown, prefix = ''): Array<[string, boolean]> {
    if (typeof value === 'string') return [[prefix.replace(/_(one|other|many|zero|two|few)$/, ''), value.includes('{{')]];
    return Object.entries(value as Record<string, unknown>).flatMap(([name, item]) => keys(item, prefix ? `${prefix}.${name}` : name));
  }

  it("should give each text escaped as EJS would escape t()'s", () => {
    for (const locale of LOCALES) {
      const t = translator(locale);
      const th = htmlTranslator(locale);
      for (const [key, placeholders] of new Map(keys(en))) {
        expect(th(key), key).to.equal(ejs.escapeXML(t(key) as unknown as string));
        if (!placeholders) continue;
        const values = { name: '<b>"Rossi" & O\'Neil</b> {{name}}', date: '1 gen <2026>', count: 3 };
        expect(th(key, values), key).to.equal(ejs.escapeXML(t(key, values) as unknown as string));
      }
    }
  });
});

describe('dates by the hour', () => {
  const formats: Array<[string, (locale: string, date: Date) => string, Intl.DateTimeFormatOptions]> = [
    ['formatDateTime', (locale, date) => formatDateTime(locale, date), { day: 'numeric', month: 'short', year: 'numeric', hour: 'numeric', minute: '2-digit', timeZone: 'Europe/Rome', timeZoneName: 'shortOffset' }],
    ['formatDateTime long', (locale, date) => formatDateTime(locale, date, 'long'), { day: 'numeric', month: 'long', year: 'numeric', hour: 'numeric', minute: '2-digit', timeZone: 'Europe/Rome', timeZoneName: 'shortOffset' }],
    ['formatDay', formatDay, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'Europe/Rome' }],
    ['formatShortDateTime', formatShortDateTime, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'Europe/Rome' }],
  ];
  // Each minute's first and last millisecond from three hours before each change
  // of Italian time to three hours after it, and moments over the years; a locale with other digits too.
  const moments: number[] = [];
  for (const change of ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', '1996-10-27T01:00:00Z', '2038-03-28T01:00:00Z']) {
    const at = Date.parse(change);
    for (let ms = at - 3 * 3_600_000; ms <= at + 3 * 3_600_000; ms += 60_000) moments.push(ms, ms + 59_999);
  }
  for (let i = 0, ms = Date.parse('1971-01-01T00:00:00Z'); i < 1000; i++, ms += 23_759_979_937) moments.push(ms);

  for (const [name, format, options] of formats) {
    it(`should give what Intl gives: ${name}`, () => {
      for (const locale of [...LOCALES, 'ar-EG']) {
        const intl = new Intl.DateTimeFormat(locale, options);
        for (const ms of moments) {
          const date = new Date(ms);
          expect(format(locale, date), `${locale} ${date.toISOString()}`).to.equal(intl.format(date));
        }
      }
    });
  }
});
