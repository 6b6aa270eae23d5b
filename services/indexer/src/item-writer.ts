import { contentItemOf, TransientError, itemDocument, type QueuedItem } from '@portrait/shared';
import { bulkItemReason, classifyBulkItem, resultOf, type ActiveContent, type Client, type estypes } from '@portrait/runtime';

/**
 * Upserts catalogue items with external versioning: the item's own version (its updatedAt) decides,
 * so replays and out-of-order deliveries never let an older item overwrite a newer one. With an active content
 * model each item is stored with its content vector, so a new or changed item is recommendable at once.
 */
export async function writeItems(
  es: Client,
  alias: string,
  items: readonly QueuedItem[],
  content?: ActiveContent,
): Promise<{ item: QueuedItem; reason: string }[]> {
  if (items.length === 0) return [];
  const operations: estypes.BulkRequest['operations'] = [];
  for (const item of items) {
    operations.push(
      { index: { _index: alias, _id: item.itemId, version: item.version, version_type: 'external_gte' } },
      content === undefined
        ? itemDocument(item)
        : { ...itemDocument(item), content: content.vectorizer.vector(contentItemOf(item)), contentModel: content.version },
    );
  }
  const res = await es.bulk({ operations });
  const failed: { item: QueuedItem; reason: string }[] = [];
  let transient: string | undefined;
  res.items.forEach((entry, i) => {
    const item = resultOf(entry);
    const fate = classifyBulkItem(item);
    // A version conflict means a newer version of the item is already stored: nothing to do.
    if (fate === 'permanent') failed.push({ item: items[i]!, reason: bulkItemReason(item) });
    else if (fate === 'transient') transient ??= bulkItemReason(item);
  });
  if (transient) throw new TransientError(`item writes rejected for now (${transient})`);
  return failed;
}
