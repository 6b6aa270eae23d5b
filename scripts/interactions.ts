/**
 * Historical interactions and catalogues from CSV files, as ingest events and items: what `npm run import` sends
 * and what `npm run eval` loads. Pure mapping, so every column rule is unit-tested.
 *
 * Interactions, one per row (header names are case-insensitive, `_` and `-` ignored):
 *   user (or userid, customer)  item (or itemid, product)  timestamp (ISO 8601, or epoch seconds or ms)
 *   type (optional: view, page_view, cart, add_to_cart, purchase, buy, order, review, rating; default purchase)
 *   rating (optional, 1-5: a review; with no type a row with a rating is a review)  quantity, price (optional)
 * Items: id (or item, itemid), title, categories (`A > B` or `A/B`), brand, price, tags (`a|b`), description,
 *   instock (`false`/`0`/`no` for out of stock).
 */
import { createHash } from 'node:crypto';
import { parse } from 'csv-parse/sync';

export type Row = Record<string, string>;

export interface MappedRow<T> {
  line: number;
  value?: T;
  error?: string;
}

const key = (name: string) => name.toLowerCase().replace(/[_\s-]/g, '');

/** Rows of a CSV text keyed by normalized header names. */
export function readCsv(text: string): Row[] {
  const records = parse(text, {
    columns: (header: string[]) => header.map(key),
    skip_empty_lines: true,
    trim: true,
    relax_column_count: true,
  }) as Row[];
  return records;
}

function field(row: Row, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = Object.hasOwn(row, name) ? row[name] : undefined;
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

/** Epoch seconds (up to 11 digits), epoch ms, or an ISO date-time; undefined when it is none of them. */
export function parseTime(text: string): number | undefined {
  if (/^\d{1,11}(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (/^\d{12,}$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

const TYPES: Record<string, 'page_view' | 'add_to_cart' | 'purchase' | 'review'> = {
  view: 'page_view',
  pageview: 'page_view',
  click: 'page_view',
  cart: 'add_to_cart',
  addtocart: 'add_to_cart',
  purchase: 'purchase',
  buy: 'purchase',
  order: 'purchase',
  transaction: 'purchase',
  review: 'review',
  rating: 'review',
};

const eventId = (parts: readonly unknown[]) => `imp-${createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 24)}`;

/** One interaction row as an ingest event; the id is a digest of the row, so importing twice changes nothing. */
export function interactionEvent(
  row: Row,
  line: number,
  prices: ReadonlyMap<string, number> = new Map(),
): MappedRow<Record<string, unknown>> {
  const userId = field(row, 'user', 'userid', 'customer', 'customerid', 'hhid');
  const itemId = field(row, 'item', 'itemid', 'product', 'productid', 'sku');
  const time = field(row, 'timestamp', 'time', 'date', 'datetime');
  if (!userId) return { line, error: 'no user (column user, user_id or customer)' };
  if (!itemId) return { line, error: 'no item (column item, item_id or product)' };
  if (!time) return { line, error: 'no timestamp (column timestamp, time or date)' };
  const at = parseTime(time);
  if (at === undefined) return { line, error: `timestamp ${JSON.stringify(time)} is neither ISO 8601 nor epoch seconds or milliseconds` };
  const rawType = field(row, 'type', 'eventtype', 'event', 'action');
  const ratingText = field(row, 'rating', 'score', 'stars');
  const type = rawType === undefined ? (ratingText === undefined ? 'purchase' : 'review') : TYPES[key(rawType)];
  if (type === undefined) return { line, error: `type ${JSON.stringify(rawType)} is not one of ${Object.keys(TYPES).join(', ')}` };
  const timestamp = new Date(at).toISOString();
  const id = eventId([userId, itemId, timestamp, type, line]);
  const common = { eventId: id, userId, timestamp };
  switch (type) {
    case 'page_view':
      return { line, value: { ...common, type, itemId } };
    case 'add_to_cart':
      return { line, value: { ...common, type, itemId, quantity: quantityOf(row) } };
    case 'review': {
      const rating = Number(ratingText);
      if (!Number.isInteger(rating) || rating < 1 || rating > 5)
        return { line, error: `rating ${JSON.stringify(ratingText)} must be a whole number from 1 to 5` };
      return { line, value: { ...common, type, itemId, rating } };
    }
    case 'purchase': {
      const quantity = quantityOf(row);
      const priceText = field(row, 'price', 'unitprice', 'amount');
      const unitPrice = priceText === undefined ? (prices.get(itemId) ?? 0) : Number(priceText);
      if (!Number.isFinite(unitPrice) || unitPrice < 0)
        return { line, error: `price ${JSON.stringify(priceText)} is not a non-negative number` };
      return {
        line,
        value: {
          ...common,
          type,
          order: {
            orderId: id,
            amount: Math.round(unitPrice * quantity * 100) / 100,
            currency: 'EUR',
            paymentMethod: 'imported',
            lines: [{ itemId, quantity, unitPrice }],
          },
        },
      };
    }
  }
}

function quantityOf(row: Row): number {
  const q = Number(field(row, 'quantity', 'qty') ?? 1);
  return Number.isInteger(q) && q >= 1 && q <= 10_000 ? q : 1;
}

/** One catalogue row as an item for `POST /v1/items/batch`. */
export function catalogueItem(row: Row, line: number): MappedRow<Record<string, unknown>> {
  const itemId = field(row, 'id', 'item', 'itemid', 'product', 'productid', 'sku');
  if (!itemId) return { line, error: 'no item id (column id, item or item_id)' };
  const categories = (field(row, 'categories', 'category', 'categorypath') ?? 'Uncategorized')
    .split(/\s*(?:>|\/)\s*/)
    .filter((c) => c !== '')
    .slice(0, 6);
  const price = Number(field(row, 'price') ?? 0);
  if (!Number.isFinite(price) || price < 0)
    return { line, error: `price ${JSON.stringify(field(row, 'price'))} is not a non-negative number` };
  const tags = (field(row, 'tags') ?? '')
    .split('|')
    .map((t) => t.trim())
    .filter((t) => t !== '')
    .slice(0, 50);
  const inStock = !/^(false|0|no)$/i.test(field(row, 'instock', 'available') ?? 'true');
  const description = field(row, 'description');
  const brand = field(row, 'brand');
  return {
    line,
    value: {
      itemId,
      title: (field(row, 'title', 'name') ?? itemId).slice(0, 500),
      ...(description ? { description: description.slice(0, 20_000) } : {}),
      category: categories.length > 0 ? categories : ['Uncategorized'],
      ...(brand ? { brand: brand.slice(0, 100) } : {}),
      price,
      ...(tags.length > 0 ? { tags } : {}),
      inStock,
    },
  };
}
