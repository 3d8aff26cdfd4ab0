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
