import { fitText } from '../lib/text';

/**
 * Escapes text for XML content and attribute values. Characters no XML document may hold (U+FFFF,
 * controls, unpaired surrogates) become U+FFFD: input checks refuse them, but a row written before
 * those checks must not make the whole document unreadable.
 */
export function escapeXml(value: string): string {
  return fitText(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
