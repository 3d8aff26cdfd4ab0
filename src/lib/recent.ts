/**
 * At most `capacity` values by key, the least recently used dropped first (a Map keeps its keys in
 * the order they were set: a value found is set again, at the end). 0 keeps none. `dropped` hears of
 * each value dropped past capacity or by clear (not of one forgotten by delete, nor replaced by set).
 */
export class Recent<V> {
  private readonly entries = new Map<string, V>();

  constructor(
    private readonly capacity: number,
    private readonly dropped?: (value: V) => void,
  ) {}

  /** The value for `key`, if kept; it becomes the most recently used. */
  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** Keeps `value` for `key` as the most recently used, dropping the least recently used past capacity. */
  set(key: string, value: V): void {
    if (this.capacity === 0) return;
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size <= this.capacity) return;
    const [oldest, dropped] = this.entries.entries().next().value as [string, V];
    this.entries.delete(oldest);
    this.dropped?.(dropped);
  }

  /** Forgets the value for `key`. */
  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every value, each heard of by `dropped`. */
  clear(): void {
    const values = [...this.entries.values()];
    this.entries.clear();
    for (const value of values) this.dropped?.(value);
  }
}
