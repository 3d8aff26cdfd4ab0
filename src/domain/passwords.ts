import os from 'node:os';
import bcrypt from 'bcrypt';
import { isFitText } from '../lib/text';
import { whenUsed } from '../lib/when-used';
import { ValidationFailed } from './errors';

/** bcrypt reads at most 72 bytes; longer passwords are refused, never silently truncated. */
export const MAX_PASSWORD_BYTES = 72;

/** Words a password must not be built from: the account's own names and addresses. */
export interface PasswordContext {
  username?: string;
  mailbox?: string;
  firstName?: string;
  lastName?: string;
}

export type PasswordProblem =
  | { reason: 'required' }
  | { reason: 'mismatch' }
  | { reason: 'too_short'; min: number }
  | { reason: 'too_long'; max: number }
  | { reason: 'unsupported_character' }
  | { reason: 'not_composed' }
  | { reason: 'common' }
  | { reason: 'context' };

/** Runs a keyboard or the alphabet gives by themselves (NIST SP 800-63B-4: sequential characters). */
const SEQUENCES = ['abcdefghijklmnopqrstuvwxyz', '1234567890', 'qwertyuiopasdfghjklzxcvbnm', 'qwertzuiopasdfghjklyxcvbnm', 'azertyuiopqsdfghjklmwxcvbn'];

/** Nothing but one character again and again, or a run of a sequence (either way, any length). */
function isRepetitiveOrSequential(compact: string): boolean {
  if (compact === '' || /^(.)\1+$/u.test(compact)) return true;
  return SEQUENCES.some((seq) => {
    const long = seq.repeat(Math.ceil(compact.length / seq.length) + 1);
    return long.includes(compact) || [...long].reverse().join('').includes(compact);
  });
}

/** ~49,000 passwords seen in breaches (zxcvbn-ts common list), folded for comparison. */
const common = whenUsed(() => {
  const { dictionary } = require('@zxcvbn-ts/language-common') as typeof import('@zxcvbn-ts/language-common');
  return new Set(dictionary['passwords-common'].map((p) => fold(p)));
});

/** For comparing with the lists only: the hash is always of the password exactly as typed. */
function fold(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/**
 * Whether a mail program can send this password byte for byte as the browser did. Mail servers
 * compare the UTF-8 bytes they receive with the hash (Dovecot applies no normalisation to PLAIN or
 * LOGIN), so the hash is of the password exactly as typed, and a password is accepted only when
 * typing it anywhere gives the same bytes: no character that a mail program cannot send or nobody
 * types, and already in Unicode NFC, the composed form keyboards and input methods produce (è as
 * one character); a decomposed one (e + U+0300, as pasted from some documents) would be typed
 * differently later. NIST SP 800-63B-4 suggests normalising instead; with a verifier that cannot
 * (the mail server), refusing is what keeps every sign-in path equal.
 */
function characterProblem(password: string): PasswordProblem | null {
  // Controls (NUL ends a SASL PLAIN field, CR and LF an IMAP or SMTP line, Tab leaves the field),
  // unpaired surrogates and noncharacters cannot be sent; U+FFFD stands for bytes lost on the way in.
  // Invisible characters (a BOM, a zero-width space, a soft hyphen) cannot be typed again at all.
  if (!isFitText(password) || /[\uFFFD\u00AD\u200B\u200C\u2060\uFEFF]/u.test(password)) return { reason: 'unsupported_character' };
  if (password.normalize('NFC') !== password) return { reason: 'not_composed' };
  return null;
}

function contextWords(context: PasswordContext): string[] {
  const words: string[] = [];
  const add = (word: string | undefined) => {
    const folded = word ? fold(word).trim() : '';
    if (folded.length >= 4) words.push(folded);
  };
  add(context.username);
  add(context.username?.split('/')[0]);
  add(context.mailbox);
  add(context.mailbox?.split('@')[0]);
  if (context.firstName && context.lastName) {
    add(context.firstName + context.lastName);
    add(context.lastName + context.firstName);
  }
  return words;
}

/**
 * NIST SP 800-63B-4: length is what counts; no composition rules; refuse known and guessable
 * passwords; and (see characterProblem) only what works in mail programs too. Returns the first
 * problem found, or null.
 */
export function checkPassword(
  password: string,
  confirmation: string | undefined,
  context: PasswordContext,
  minLength: number,
): PasswordProblem | null {
  if (!password) return { reason: 'required' };
  const characters = characterProblem(password);
  if (characters) return characters;
  if ([...password].length < minLength) return { reason: 'too_short', min: minLength };
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return { reason: 'too_long', max: MAX_PASSWORD_BYTES };
  const folded = fold(password);
  const compact = folded.replace(/[\s._\-/@]+/g, '');
  const breached = common();
  if (breached.has(folded) || breached.has(compact) || isRepetitiveOrSequential(compact)) return { reason: 'common' };
  if (contextWords(context).some((word) => compact.includes(word.replace(/[\s._\-/@]+/g, '')))) {
    return { reason: 'context' };
  }
  if (confirmation !== undefined && confirmation !== password) return { reason: 'mismatch' };
  return null;
}

/** A refused password, on the form field it belongs to, as a message key (`password.<reason>`). */
export class PasswordRefused extends ValidationFailed {
  constructor(readonly problem: PasswordProblem) {
    super({ [problem.reason === 'mismatch' ? 'passwordConfirmation' : 'password']: `password.${problem.reason}` });
  }
}

/** checkPassword as an error: throws PasswordRefused (422) with the first problem found. */
export function assertPassword(password: string, confirmation: string | undefined, context: PasswordContext, minLength: number): void {
  const problem = checkPassword(password, confirmation, context, minLength);
  if (problem) throw new PasswordRefused(problem);
}

/**
 * bcrypt runs on libuv's thread pool, which SQLite and file reads share. Unbounded, a burst of hashes
 * fills the pool's queue and every page waits behind it for seconds; so at most one hash per core runs
 * at once, always leaving a thread free (measured in bench/: page p99 during set-password load).
 */
const POOL_SIZE = Number(process.env.UV_THREADPOOL_SIZE) || 4;
const MAX_HASHING = Math.max(1, Math.min(os.availableParallelism(), POOL_SIZE - 1));
let hashing = 0;
const waiting: Array<() => void> = [];

async function gated<T>(work: () => Promise<T>): Promise<T> {
  if (hashing >= MAX_HASHING) await new Promise<void>((resolve) => waiting.push(resolve));
  else hashing += 1;
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else hashing -= 1;
  }
}

/** The hash of the password exactly as typed: what a mail server checks the same bytes against. */
export function hashPassword(password: string, cost: number): Promise<string> {
  return gated(() => bcrypt.hash(password, cost));
}

/** A hash of nothing in particular: comparing against it keeps sign-in timing flat for unknown users. */
const DECOY_HASH = '$2b$12$1THFBunlcun/peusM8eqDuCARVvf1ikggjWsDCJOdLJj/289MtOBq';

/** Compares the password exactly as typed, as the mail server does: web and mail programs agree. */
export async function verifyPassword(password: string, hash: string | null): Promise<boolean> {
  const typed = password ?? '';
  if (!hash || Buffer.byteLength(typed, 'utf8') > MAX_PASSWORD_BYTES) {
    await gated(() => bcrypt.compare('decoy', DECOY_HASH));
    return false;
  }
  return gated(() => bcrypt.compare(typed, hash));
}
