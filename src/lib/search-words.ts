/**
 * The words a collaborator is found by, and the words of what an owner types in the search box: the
 * same normalisation on both sides, so that a search is a prefix match of each typed word against
 * the stored words (an index range scan on both databases; see migrations/008-list-speed.ts).
 *
 * Normalisation: Unicode NFKD, combining marks removed ("Niccolò" → "niccolo"), lowercase, split on
 * anything that is not a letter or a digit ("mario.rossi/studio@pec.it" → mario, rossi, studio, pec,
 * it). A name with an apostrophe or a hyphen is also kept whole ("D'Angelo" → d, angelo, dangelo).
 */

/** A stored word's length at most, in code points (the column is VARCHAR(64)). */
export const WORD_MAX = 64;
/** Typed words beyond this many are ignored. */
export const QUERY_WORDS_MAX = 5;

const MARKS = /\p{M}+/gu;
const SEPARATORS = /[^\p{L}\p{N}]+/u;

function normalise(text: string): string {
  return text.normalize('NFKD').replace(MARKS, '').toLowerCase();
}

/** Words cut by code point, never inside a surrogate pair. */
function split(text: string): string[] {
  return normalise(text)
    .split(SEPARATORS)
    .filter(Boolean)
    .map((word) => (word.length > WORD_MAX ? Array.from(word).slice(0, WORD_MAX).join('') : word));
}

/** The distinct words of these texts (names, username, reference email), each at most WORD_MAX long. */
function wordsOf(...texts: string[]): string[] {
  const words = new Set<string>();
  for (const text of texts) {
    const parts = split(text);
    for (const part of parts) words.add(part);
    if (parts.length > 1 && !/[@/.]/.test(text)) words.add(Array.from(parts.join('')).slice(0, WORD_MAX).join(''));
  }
  return [...words];
}

/**
 * The words a collaborator is found by: names, reference email and the chosen part of the username
 * (`chosen/mailbox`: the mailbox part, the same on every row of a mailbox, would find them all).
 */
export function collaboratorWords(c: { firstName: string; lastName: string; username: string; referenceEmail: string }): string[] {
  const slash = c.username.indexOf('/');
  return wordsOf(c.firstName, c.lastName, slash < 0 ? c.username : c.username.slice(0, slash), c.referenceEmail);
}

/** The typed words, each to be matched as a prefix: at most QUERY_WORDS_MAX, duplicates removed. */
export function queryWords(query: string): string[] {
  return [...new Set(split(query))].slice(0, QUERY_WORDS_MAX);
}

/**
 * The half-open range [from, to) of the words starting with `prefix`, in code-point order (SQLite's
 * BINARY and MariaDB's binary collations): its last code point, plus one.
 */
export function prefixRange(prefix: string): { from: string; to: string } {
  const last = prefix.codePointAt(prefix.length - 1) ?? 0;
  const head = prefix.slice(0, prefix.length - (last > 0xffff ? 2 : 1));
  return { from: prefix, to: head + String.fromCodePoint(last + 1) };
}
