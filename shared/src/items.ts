import { z } from 'zod';
import { IdSchema, KeyName, TimestampSchema } from './events';
import { Limits } from './limits';

export const ItemSchema = z.strictObject({
  title: z.string().min(1).max(500),
  description: z.string().max(20_000).optional(),
  category: z.array(KeyName(100)).min(1).max(Limits.maxCategoryDepth),
  brand: KeyName(100).optional(),
  price: z.number().finite().nonnegative().max(1e9),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR')
    .optional(),
  tags: z.array(z.string().min(1).max(100)).max(Limits.maxTags).optional(),
  inStock: z.boolean().default(true),
  /** Version of the item in the shop; a later write with an older timestamp is ignored. */
  updatedAt: TimestampSchema.optional(),
});

export const ItemBatchEntry = ItemSchema.safeExtend({ itemId: IdSchema });

export type ItemInput = z.infer<typeof ItemSchema>;

/** An item as queued by ingest. `version` is epoch ms of updatedAt (or receive time). */
export interface QueuedItem extends ItemInput {
  itemId: string;
  version: number;
}

export const QueuedItemSchema = ItemSchema.safeExtend({ itemId: IdSchema, version: z.number().int().positive() });

/** An item as stored in the catalogue index: its category path spelled out at each depth, for prefix facets. */
export const ItemDocSchema = ItemSchema.safeExtend({
  itemId: IdSchema,
  /** `["Food", "Food > Dairy", "Food > Dairy > Milk"]` for category `["Food", "Dairy", "Milk"]`. */
  categoryPath: z.array(z.string()),
  updatedAt: TimestampSchema,
});
export type ItemDoc = z.infer<typeof ItemDocSchema>;

/** The catalogue document of a queued item; `updatedAt` defaults to its version (receive time). */
export function itemDocument(item: QueuedItem): ItemDoc {
  const { itemId, version, updatedAt, category, ...rest } = item;
  return {
    itemId,
    ...rest,
    category,
    categoryPath: category.map((_, i) => category.slice(0, i + 1).join(' > ')),
    updatedAt: updatedAt ?? new Date(version).toISOString(),
  };
}
