/**
 * Reads the app's own pages as a person does, section by section: enough for the markup our
 * templates write (no HTML parser is installed, and these pages are ours and well formed).
 */

/** What EJS's `<%= %>` escapes, back to the characters. */
const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&#34;': '"', '&#39;': "'" };

/** The text of some markup as it reads: tags dropped (`<wbr>`, a break point, adds nothing), entities decoded, white space collapsed. */
export function textOf(html: string): string {
  return html
    .replace(/<wbr>/g, '')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&amp;|&lt;|&gt;|&#34;|&#39;/g, (entity) => ENTITIES[entity] ?? entity)
    .replace(/\s+/g, ' ')
    .trim();
}

/** The markup from the `<h2>` that reads `heading` to the next `<h2>` (or the end of the page). */
function section(html: string, heading: string): string {
  const parts = html.split(/<h2[^>]*>/).slice(1);
  const found = parts.find((part) => textOf(part.slice(0, part.indexOf('</h2>'))) === heading);
  if (found === undefined) throw new Error(`no <h2> reads "${heading}"`);
  return found.slice(found.indexOf('</h2>') + 5);
}

/** The body rows of the table under `heading`, each as the text of its cells; [] when it has no table. */
export function tableRows(html: string, heading: string): string[][] {
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(section(html, heading))?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map(([, row]) => [...(row as string).matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map(([, cell]) => textOf(cell as string)));
}

/** The term → description pairs of the list under `heading`. */
export function facts(html: string, heading: string): Record<string, string> {
  const list = /<dl[^>]*>([\s\S]*?)<\/dl>/.exec(section(html, heading))?.[1] ?? '';
  return Object.fromEntries([...list.matchAll(/<dt>([\s\S]*?)<\/dt>\s*<dd[^>]*>([\s\S]*?)<\/dd>/g)].map(([, term, description]) => [textOf(term as string), textOf(description as string)]));
}
