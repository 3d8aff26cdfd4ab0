/**
 * The words a collaborator is found by, and the words of what an owner types in the search box: the
 * same normalisation on both sides, so that a search is a prefix match of each typed word against
 * the stored words (an index range scan on both databases; see migrations/008-list-speed.ts).
 *
 * Normalisation: Unicode NFKD, combining marks removed ("Niccolò" → "niccolo"), lowercase, split on
 * anything that is not a letter or a digit ("mario.rossi/studio@pec.it" → mario, rossi, studio, pec,
 * it). A name with an apostrophe or a hyphen is also kept whole ("D'Angelo" → d, angelo, dangelo).
 *
 * Stored, each of a collaborator's words is one row of the search keys (migrations/015-search-keys.ts),
 * filed under its first KEY_LENGTH code points (a shorter word under itself). A typed word of
 * KEY_LENGTH code points or more is then one key, whose rows the index keeps in name order; a
 * shorter one is a range of keys.
 */

/** A stored word's length at most, in code points (the column is VARCHAR(64)). */
export const WORD_MAX = 64;
/** Typed words beyond this many are ignored. */
export const QUERY_WORDS_MAX = 5;

/**
 * The longest key, in code points: a word is filed under its first KEY_LENGTH code points. A typed
 * word at least this long is read on one key (keeping the rows whose word starts with it), a shorter
 * one on every key starting with it.
 */
export const KEY_LENGTH = 4;

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

/** The first `n` code points of `word`. */
function head(word: string, n: number): string {
  const points = Array.from(word);
  return points.length > n ? points.slice(0, n).join('') : word;
}

/**
 * Where a typed word's matches are: the rows whose word is in [from, to) (prefixRange). `key`, for a
 * word of KEY_LENGTH code points or more, is the one key holding them all; for a shorter word null:
 * they are under every key in [from, to).
 */
export function searchKey(typed: string): { key: string | null; from: string; to: string } {
  return { key: Array.from(typed).length >= KEY_LENGTH ? head(typed, KEY_LENGTH) : null, ...prefixRange(typed) };
}

/** A collaborator's rows of `collaborator_search_keys` (migrations/015-search-keys.ts): each of its words under its key, with its names. */
export function searchRows(c: { id: number; mailboxId: number; firstName: string; lastName: string; username: string; referenceEmail: string }): Array<Record<string, string | number>> {
  return collaboratorWords(c).map((word) => ({ mailbox_id: c.mailboxId, prefix: head(word, KEY_LENGTH), last_name: c.lastName, first_name: c.firstName, collaborator_id: c.id, word }));
}
