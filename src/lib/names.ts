/** Code points that render as nothing (zero-width space and joiners, soft hyphen, BOM, variation selectors…). */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;

/** The longest sign-in name a column holds (`collaborators.username`). */
export const NAME_MAX_LENGTH = 300;

/**
 * The one form of a typed sign-in name (a mailbox address, or a collaborator's `chosen/mailbox`):
 * every lookup of an account by a typed name and every counter keyed on a name use it, and the
 * database compares it exactly (binary collation on MariaDB, SQLite's default), so one account has
 * one name and one counter. Like RFC 8265's UsernameCaseMapped profile (width mapping, lowercase),
 * with NFKC as the width mapping (a full-width `ｓ` is `s`) and default-ignorable code points dropped
 * rather than refused (a trailing U+200B is nothing); white space trimmed. Letters stay distinct:
 * `stúdio` is not `studio`.
 * Returns at most NAME_MAX_LENGTH characters; '' for anything that is not a string.
 */
export function canonicalName(typed: unknown): string {
  if (typeof typed !== 'string') return '';
  return typed.replace(INVISIBLE, '').normalize('NFKC').toLowerCase().normalize('NFKC').trim().slice(0, NAME_MAX_LENGTH);
}
