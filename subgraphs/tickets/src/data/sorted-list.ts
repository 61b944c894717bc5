/**
 * Items in ascending (key, id) order, the order of a cursor page either way: `Event.tickets` reads
 * it from the end (newest first), `events` from the start. Keys and ids compare as strings, as the
 * database compares them (ISO dates, ids).
 *
 * An array, not a tree: listings arrive newest last, so an insert is almost always an append, and
 * a removal (withdrawn) shifts one event's tickets, thousands at most, in microseconds.
 */
export class SortedList<T> {
  private readonly items: T[] = [];

  constructor(
    private readonly keyOf: (item: T) => string,
    private readonly idOf: (item: T) => string,
  ) {}

  get length(): number {
    return this.items.length;
  }

  at(index: number): T | undefined {
    return this.items[index];
  }

  /** The index of the first item at or after (key, id). */
  lowerBound(key: string, id: string): number {
    let low = 0;
    let high = this.items.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const item = this.items[middle] as T;
      const itemKey = this.keyOf(item);
      if (itemKey < key || (itemKey === key && this.idOf(item) < id)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** The index of the first item after (key, id). */
  upperBound(key: string, id: string): number {
    const index = this.lowerBound(key, id);
    const item = this.items[index];
    return item !== undefined && this.keyOf(item) === key && this.idOf(item) === id ? index + 1 : index;
  }

  /** The index of the first item whose key is after `key`, whatever its id. */
  afterKey(key: string): number {
    let low = 0;
    let high = this.items.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.keyOf(this.items[middle] as T) <= key) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Adds `item`, or replaces the item of the same (key, id). */
  set(item: T): void {
    const key = this.keyOf(item);
    const id = this.idOf(item);
    const last = this.items[this.items.length - 1];
    if (last === undefined || this.keyOf(last) < key || (this.keyOf(last) === key && this.idOf(last) < id)) {
      this.items.push(item);
      return;
    }
    const index = this.lowerBound(key, id);
    const found = this.items[index];
    if (found !== undefined && this.keyOf(found) === key && this.idOf(found) === id) this.items[index] = item;
    else this.items.splice(index, 0, item);
  }

  /** Removes the item of `item`'s (key, id), if held. */
  delete(item: T): void {
    const key = this.keyOf(item);
    const id = this.idOf(item);
    const index = this.lowerBound(key, id);
    const found = this.items[index];
    if (found !== undefined && this.keyOf(found) === key && this.idOf(found) === id)
      this.items.splice(index, 1);
  }
}
