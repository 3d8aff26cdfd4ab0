/**
 * Rendered Collaborations list fragments, shared by every owner request of this process and never
 * stale. An entry is found only by everything it shows:
 * - the mailbox and the list's `version` (src/db/list-versions.ts): every writer raises it in the same
 *   transaction as any change of what a row shows, and each request reads it from the database, so
 *   every process sees a change as soon as it is committed;
 * - the language, the search and the page asked for.
 * It holds nothing of a session (the CSRF token is in the page around it, not in the fragment). No row
 * shows anything that changes with the clock alone; a row that one day does (a link "expired" without
 * any write) must add to the key the next moment its text changes.
 *
 * At most `capacity` entries, the least recently used dropped first; 0 keeps none.
 */
export class ListCache {
  private readonly entries = new Map<string, string>();

  constructor(private readonly capacity: number) {}

  get(key: string): string | undefined {
    const html = this.entries.get(key);
    if (html !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, html);
    }
    return html;
  }

  set(key: string, html: string): void {
    if (this.capacity === 0) return;
    this.entries.delete(key);
    this.entries.set(key, html);
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }
}
