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

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/**
 * A username, address or host as HTML that a narrow screen may wrap after each "/", "@" or "." (and
 * nowhere else: a word-break would cut `mario.rossi` into `mario.ro`/`ssi`). Escaped; `<wbr>` adds
 * no character, so the text copies as typed.
 */
export function breakableHtml(value: string): string {
  return value
    .split(/(?<=[/@.])/)
    .map((part) => part.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] as string))
    .join('<wbr>');
}
