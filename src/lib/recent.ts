/**
 * At most `capacity` values by key, the least recently used dropped first (a Map keeps its keys in
 * the order they were set: a value found is set again, at the end). 0 keeps none.
 */
export class Recent<V> {
  private readonly entries = new Map<string, V>();

  constructor(private readonly capacity: number) {}

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
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as string);
  }

  /** Forgets the value for `key`. */
  delete(key: string): void {
    this.entries.delete(key);
  }
}
