import { ValidationError } from '../errors';
import type { ItemDoc } from '../items';
import type { ContentItem, ContentState } from './content';

/**
 * The dimension of the items mapping's `content` vector (infra/elasticsearch/indices/items.json; a unit test holds
 * the two together). A content model of another dimension could not store a single vector.
 */
export const CONTENT_VECTOR_DIMS = 256;

/** Refuses a content model whose vectors do not fit the items index. */
export function checkContentState(state: Pick<ContentState, 'dims'>): void {
  if (state.dims !== CONTENT_VECTOR_DIMS)
    throw new ValidationError(`its vectors have ${state.dims} dimensions; items.content holds ${CONTENT_VECTOR_DIMS}`, [
      { path: 'state.dims', reason: `must be ${CONTENT_VECTOR_DIMS}, the dimension of the items index's content vector` },
    ]);
}

/** What the content model reads of a catalogue item. */
export function contentItemOf(item: Pick<ItemDoc, 'title' | 'description' | 'category' | 'brand' | 'tags' | 'price'>): ContentItem {
  return {
    title: item.title,
    description: item.description,
    category: item.category,
    brand: item.brand,
    tags: item.tags,
    price: item.price,
  };
}
