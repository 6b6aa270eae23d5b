import type { QueuedEvent } from './events';

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
    case 'user_attributes':
      // Values stay out of the event history: they may be PII (email, phone, birth year).
      return { ...doc, changedAttributes: Object.keys(event.attributes).sort() };
  }
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
