import { LRUCache } from 'lru-cache';
import type { ItemFacts } from '@portrait/shared';
import type { Client } from '@portrait/runtime';

interface ItemSource {
  category?: string[];
  brand?: string;
  price?: number;
}

/** Item facts for enrichment, read from the catalogue index through a short-lived cache. */
export class Catalogue {
  private readonly cache = new LRUCache<string, ItemFacts | false>({ max: 50_000, ttl: 60_000 });

  constructor(
    private readonly es: Client,
    private readonly index: string,
  ) {}

  async load(itemIds: Iterable<string>): Promise<(itemId: string) => ItemFacts | undefined> {
    const missing = [...new Set(itemIds)].filter((id) => !this.cache.has(id));
    if (missing.length > 0) {
      const res = await this.es.mget<ItemSource>({ index: this.index, ids: missing, _source_includes: ['category', 'brand', 'price'] });
      for (const doc of res.docs) {
        if ('found' in doc && doc.found && doc._source) {
          const s = doc._source;
          this.cache.set(doc._id, { category: s.category ?? [], brand: s.brand, price: s.price ?? 0 });
        } else {
          this.cache.set(doc._id, false, { ttl: 5_000 });
        }
      }
    }
    return (itemId) => this.cache.get(itemId) || undefined;
  }

  forget(itemIds: Iterable<string>): void {
    for (const id of itemIds) this.cache.delete(id);
  }
}
