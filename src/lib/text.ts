/**
 * Characters that no XML document (XML 1.0 §2.2: outside Char, or discouraged) nor mail header may
 * hold, and that nobody types: C0 and C1 controls and DEL, unpaired surrogates, and noncharacters
 * (U+FDD0–U+FDEF, U+xFFFE and U+xFFFF in every plane).
 */
const UNFIT = /[\p{Cc}\p{Cs}\p{Noncharacter_Code_Point}]/u;
const UNFIT_ALL = new RegExp(UNFIT.source, 'gu');

/** Whether text holds none of the characters above. */
export function isFitText(text: string): boolean {
  return !UNFIT.test(text);
}

/** The text with each character above replaced by U+FFFD, for writers that must never fail. */
export function fitText(text: string): string {
  return text.replace(UNFIT_ALL, '\uFFFD');
}

const SPECIAL = /[&<>"']/;
const SPECIAL_ALL = /[&<>"']/g;
/**
 * Escapes `&<>"'` by `references`, returning a text with nothing to escape as it is: most texts on a
 * page have nothing to escape, and a regular expression's test costs a fraction of its replace.
 */
const escaping = (references: Record<string, string>) => (text: string) => (SPECIAL.test(text) ? text.replace(SPECIAL_ALL, (c) => references[c] as string) : text);
const escapeHtml = escaping({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' });

/**
 * A username, address or host as HTML that a narrow screen may wrap after each "/", "@" or "." (and
 * nowhere else: a word-break would cut `mario.rossi` into `mario.ro`/`ssi`). Escaped; `<wbr>` adds
 * no character, so the text copies as typed.
 */
export function breakableHtml(value: string): string {
  return value
    .split(/(?<=[/@.])/)
    .map(escapeHtml)
    .join('<wbr>');
}

/**
 * breakableHtml with each part in a box of its own (`<span class="brk">`): a browser would also
 * break after a hyphen inside a part. The same parts and escaping, in one pass (a list row has two).
 */
export function boxedBreakableHtml(value: string): string {
  let html = '';
  let start = 0;
  for (let i = 0; i < value.length - 1; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x2f || c === 0x40 || c === 0x2e) {
      html += `<span class="brk">${escapeHtml(value.slice(start, i + 1))}</span><wbr>`;
      start = i + 1;
    }
  }
  return `${html}<span class="brk">${escapeHtml(value.slice(start))}</span>`;
}

const escapeEjs = escaping({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' });

/**
 * EJS's escaping (`<%= %>`: the same references, null and undefined as ''), faster (see escaping).
 */
export function escapeXml(value: unknown): string {
  const text = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  return escapeEjs(text);
}

/**
 * A sentence (plain text, e.g. a translation naming a username) as escaped HTML in which each
 * occurrence of `values` wraps as breakableHtml lets it. Longest value first, so that a username
 * is not left whole when its mailbox is among the values. The `<wbr>` go after "/", "@" or ".",
 * which no character reference holds: the markup stays well formed whatever the text.
 */
export function breakableWithin(text: string, values: readonly string[]): string {
  const longestFirst = values.filter((value) => value !== '').sort((a, b) => b.length - a.length);
  return longestFirst.reduce((html, value) => html.split(escapeHtml(value)).join(breakableHtml(value)), escapeHtml(text));
}
