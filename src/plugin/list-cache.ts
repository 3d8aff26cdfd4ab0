import { Recent } from '../lib/recent';

/**
 * Rendered Collaborations list fragments (UTF-8, sent as they are), shared by every owner request of this process and never
 * stale. An entry is found only by everything it shows:
 * - the mailbox and the list's `version` (src/db/list-versions.ts): every writer raises it in the same
 *   transaction as any change of what a row shows, and each request reads it from the database, so
 *   every process sees a change as soon as it is committed;
 * - the language, and the search, status, order and page asked for;
 * - the clock: a row of a pending or suspended account reads "link expired" once its link expires,
 *   with no write at all, so an entry is kept only until the first moment one of its rows changes so
 *   (`until`), and found only before it.
 * It holds nothing of a session (the CSRF token is in the page around it, not in the fragment).
 *
 * At most `capacity` entries, the least recently used dropped first; 0 keeps none.
 */
export class ListCache {
  private readonly entries: Recent<{ html: Buffer; until: number }>;

  constructor(capacity: number) {
    this.entries = new Recent(capacity);
  }

  /** The entry for `key` as it reads at `now`, if any. */
  get(key: string, now: Date): Buffer | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (now.getTime() < entry.until) return entry.html;
    this.entries.delete(key);
    return undefined;
  }

  /** Keeps `html` for `key` until `until` (exclusive); null: until its version changes. */
  set(key: string, html: Buffer, until: Date | null = null): void {
    this.entries.set(key, { html, until: until?.getTime() ?? Infinity });
  }
}
