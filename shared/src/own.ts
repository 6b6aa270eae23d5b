/**
 * Records keyed by user-supplied strings (brands, categories, payment methods, event ids) are plain
 * objects, because they are stored as JSON. A key such as `constructor` or `toString` is also a member
 * of `Object.prototype`, so `record[key]` would find the inherited function when the key is absent, and
 * `record['__proto__'] = v` would replace the prototype. These two helpers are the only way such a
 * record is read or written.
 */

/** The value stored under `key` itself, never one inherited from `Object.prototype`. */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Stores `value` under `key` as an own, enumerable property, whatever the key is (`__proto__` too). */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
}
