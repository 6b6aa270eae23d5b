import { ValidationError } from './errors';
import type { QueuedEvent } from './events';
import { isStrategy } from './recommend/strategies';

/** The events-index document of an event: flat, searchable, and free of PII. */
export interface EventDoc {
  eventId: string;
  userId: string;
  type: QueuedEvent['type'];
  timestamp: string;
  receivedAt: string;
  sessionId?: string;
  channel?: string;
  itemId?: string;
  category?: string[];
  brand?: string;
  price?: number;
  quantity?: number;
  query?: string;
  resultsCount?: number;
  rating?: number;
  text?: string;
  url?: string;
  order?: {
    orderId: string;
    amount: number;
    currency: string;
    paymentMethod: string;
    itemIds: string[];
    lines: unknown[];
  };
  changedAttributes?: string[];
  /** Recommendation feedback: the request that showed the item, its strategy and 1-based position. */
  requestId?: string;
  strategy?: string;
  position?: number;
}

export function toEventDoc(event: QueuedEvent): EventDoc {
  const doc: EventDoc = {
    eventId: event.eventId,
    userId: event.userId,
    type: event.type,
    timestamp: new Date(Date.parse(event.timestamp)).toISOString(),
    receivedAt: new Date(event.receivedAt).toISOString(),
    sessionId: event.sessionId,
    channel: event.channel,
  };
  switch (event.type) {
    case 'page_view':
      return { ...doc, itemId: event.itemId, category: event.category, brand: event.brand, price: event.price, url: event.url };
    case 'search':
      return { ...doc, query: event.query, resultsCount: event.resultsCount };
    case 'add_to_cart':
    case 'remove_from_cart':
      return { ...doc, itemId: event.itemId, category: event.category, brand: event.brand, price: event.price, quantity: event.quantity };
    case 'purchase':
      return {
        ...doc,
        order: {
          orderId: event.order.orderId,
          amount: event.order.amount,
          currency: event.order.currency,
          paymentMethod: event.order.paymentMethod,
          itemIds: [...new Set(event.order.lines.map((l) => l.itemId))],
          lines: event.order.lines,
        },
      };
    case 'review':
      return { ...doc, itemId: event.itemId, rating: event.rating, text: event.text };
    case 'recommendation_impression':
    case 'recommendation_click':
      return { ...doc, itemId: event.itemId, requestId: event.requestId, strategy: event.strategy, position: event.position };
    case 'user_attributes':
      // Values stay out of the event history: they may be PII (email, phone, birth year).
      return { ...doc, changedAttributes: Object.keys(event.attributes).sort() };
  }
}

/**
 * The queued event an events-index document was made from: the inverse of `toEventDoc` for behaviour events,
 * so a user's history read back from the index folds into exactly the profile the live events made (training
 * rows as of a past date read profiles as live scoring does). Attribute updates keep no values in the history
 * and cannot be replayed: undefined (no behaviour feature depends on them). `doc` is a `_source` as the index
 * returns it, so it is checked: a document `toEventDoc` could not have written is refused with a
 * ValidationError naming the event and the field.
 */
export function eventFromDoc(doc: EventDoc): QueuedEvent | undefined {
  if (typeof doc !== 'object' || doc === null) throw new ValidationError('an event document must be an object', []);
  const type = text(doc, field(doc, 'type'), 'type') as QueuedEvent['type'];
  if (type === 'user_attributes') return undefined;
  const common: Omit<QueuedEvent, 'type'> = {
    eventId: text(doc, field(doc, 'eventId'), 'eventId'),
    userId: text(doc, field(doc, 'userId'), 'userId'),
    timestamp: time(doc, 'timestamp'),
    receivedAt: Date.parse(time(doc, 'receivedAt')),
  };
  copy(doc, common, doc, 'sessionId', text);
  copy(doc, common, doc, 'channel', text as Check<QueuedEvent['channel']>);
  switch (type) {
    case 'page_view': {
      const event: EventOf<'page_view'> = { ...common, type };
      copyItemFacts(doc, event);
      copy(doc, event, doc, 'url', text);
      return event;
    }
    case 'search': {
      const event: EventOf<'search'> = { ...common, type, query: text(doc, field(doc, 'query'), 'query') };
      copy(doc, event, doc, 'resultsCount', number);
      return event;
    }
    case 'add_to_cart':
    case 'remove_from_cart': {
      const quantity = field(doc, 'quantity');
      const event: EventOf<'add_to_cart' | 'remove_from_cart'> = {
        ...common,
        type,
        itemId: text(doc, field(doc, 'itemId'), 'itemId'),
        quantity: quantity === undefined || quantity === null ? 1 : number(doc, quantity, 'quantity'),
      };
      copyItemFacts(doc, event);
      return event;
    }
    case 'review': {
      const event: EventOf<'review'> = {
        ...common,
        type,
        itemId: text(doc, field(doc, 'itemId'), 'itemId'),
        rating: number(doc, field(doc, 'rating'), 'rating'),
      };
      copy(doc, event, doc, 'text', text);
      return event;
    }
    case 'purchase':
      return { ...common, type, order: orderOf(doc) };
    case 'recommendation_impression':
    case 'recommendation_click': {
      const strategy = text(doc, field(doc, 'strategy'), 'strategy');
      if (!isStrategy(strategy)) throw refuse(doc, 'strategy', `is ${JSON.stringify(strategy)}, not a strategy`);
      return {
        ...common,
        type,
        itemId: text(doc, field(doc, 'itemId'), 'itemId'),
        requestId: text(doc, field(doc, 'requestId'), 'requestId'),
        strategy,
        position: number(doc, field(doc, 'position'), 'position'),
      };
    }
    default:
      throw refuse(doc, 'type', `is ${JSON.stringify(type)}, not an event type`);
  }
}

/** Checks one stored value; `doc` names the event in the error. */
type Check<T> = (doc: EventDoc, value: unknown, path: string) => T;
type EventOf<T extends QueuedEvent['type']> = Extract<QueuedEvent, { type: T }>;
type PurchaseOrder = EventOf<'purchase'>['order'];

function refuse(doc: EventDoc, path: string, reason: string): ValidationError {
  const id = typeof doc.eventId === 'string' ? ` ${doc.eventId}` : '';
  return new ValidationError(`event document${id} cannot be read back as an event: ${path} ${reason}`, [{ path, reason }]);
}

/** A field of the stored object itself, never one inherited from Object.prototype. */
function field(from: object, name: string): unknown {
  return Object.hasOwn(from, name) ? (from as Record<string, unknown>)[name] : undefined;
}

const text: Check<string> = (doc, value, path) => {
  if (typeof value !== 'string') throw refuse(doc, path, 'must be a string');
  return value;
};

const number: Check<number> = (doc, value, path) => {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw refuse(doc, path, 'must be a finite number');
  return value;
};

const category: Check<string[]> = (doc, value, path) => {
  if (!Array.isArray(value)) throw refuse(doc, path, 'must be an array of category names');
  return value.map((part: unknown, i) => text(doc, part, `${path}.${i}`));
};

function time(doc: EventDoc, name: string): string {
  const value = text(doc, field(doc, name), name);
  if (Number.isNaN(Date.parse(value))) throw refuse(doc, name, `is ${JSON.stringify(value)}, not a date-time`);
  return value;
}

/** Sets `to[name]` from `from[name]` when it is there; absent and null (never stored) leave it unset. */
function copy<T extends object, K extends keyof T & string>(
  doc: EventDoc,
  to: T,
  from: object,
  name: K,
  check: Check<T[K]>,
  path: string = name,
): void {
  const value = field(from, name);
  if (value !== undefined && value !== null) to[name] = check(doc, value, path);
}

function copyItemFacts(doc: EventDoc, event: { itemId?: string; category?: string[]; brand?: string; price?: number }): void {
  copy(doc, event, doc, 'itemId', text);
  copy(doc, event, doc, 'category', category);
  copy(doc, event, doc, 'brand', text);
  copy(doc, event, doc, 'price', number);
}

function orderOf(doc: EventDoc): PurchaseOrder {
  const order = field(doc, 'order');
  if (typeof order !== 'object' || order === null) throw refuse(doc, 'order', 'must be an object');
  const lines = field(order, 'lines');
  if (!Array.isArray(lines) || lines.length === 0) throw refuse(doc, 'order.lines', 'must be a non-empty array of order lines');
  return {
    orderId: text(doc, field(order, 'orderId'), 'order.orderId'),
    amount: number(doc, field(order, 'amount'), 'order.amount'),
    currency: text(doc, field(order, 'currency'), 'order.currency'),
    paymentMethod: text(doc, field(order, 'paymentMethod'), 'order.paymentMethod'),
    lines: lines.map((raw: unknown, i) => {
      const at = `order.lines.${i}`;
      if (typeof raw !== 'object' || raw === null) throw refuse(doc, at, 'must be an object');
      const line: PurchaseOrder['lines'][number] = {
        itemId: text(doc, field(raw, 'itemId'), `${at}.itemId`),
        quantity: number(doc, field(raw, 'quantity'), `${at}.quantity`),
        unitPrice: number(doc, field(raw, 'unitPrice'), `${at}.unitPrice`),
      };
      copy(doc, line, raw, 'category', category, `${at}.category`);
      copy(doc, line, raw, 'brand', text, `${at}.brand`);
      copy(doc, line, raw, 'price', number, `${at}.price`);
      return line;
    }),
  };
}

/** Item ids whose category, brand or price the event lacks and the catalogue could supply. */
export function itemsToEnrich(event: QueuedEvent): string[] {
  switch (event.type) {
    case 'page_view':
    case 'add_to_cart':
    case 'remove_from_cart':
      return event.itemId && (!event.category || !event.brand || event.price === undefined) ? [event.itemId] : [];
    case 'purchase':
      return event.order.lines.filter((l) => !l.category || !l.brand).map((l) => l.itemId);
    default:
      return [];
  }
}

export interface ItemFacts {
  category: string[];
  brand?: string;
  price: number;
}

/** Fills missing item facts from the catalogue; facts the event carries win. Pure. */
export function enrichEvent(event: QueuedEvent, lookup: (itemId: string) => ItemFacts | undefined): QueuedEvent {
  switch (event.type) {
    case 'page_view':
    case 'add_to_cart':
    case 'remove_from_cart': {
      const facts = event.itemId ? lookup(event.itemId) : undefined;
      if (!facts) return event;
      return { ...event, category: event.category ?? facts.category, brand: event.brand ?? facts.brand, price: event.price ?? facts.price };
    }
    case 'purchase': {
      const lines = event.order.lines.map((line) => {
        const facts = lookup(line.itemId);
        return facts ? { ...line, category: line.category ?? facts.category, brand: line.brand ?? facts.brand } : line;
      });
      return { ...event, order: { ...event.order, lines } };
    }
    default:
      return event;
  }
}
