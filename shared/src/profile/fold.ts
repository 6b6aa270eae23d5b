import type { BehaviourType, QueuedEvent, UserAttributesInput } from '../events';
import { sha256Hex } from '../identifiers';
import { own, setOwn } from '../own';
import { CONSENT_CHANNELS } from '../consent-channels';
import { recordConsent, upgradeConsent } from './consent';
import { addDecayed, decayedValue } from './decay';
import { priceBandOf, RETAINED_DAYS, type ProfileOptions } from './options';
import { DAY_MS, dayKey, parseTimestamp, startOfDay } from './time';
import type { ItemTrace, ProfileState, Register, ReviewText, ShownTrace } from './types';

/** Review text fingerprints kept per profile: the newest by event time. */
export const REVIEW_TEXTS_KEPT = 50;

/**
 * A short hash (16 hex digits) of a review text as a copy-paste check reads it: Unicode NFKC, lower case, every
 * run of characters other than letters and digits as one space, trimmed. Undefined for a text with no letter or
 * digit: it says nothing about copying.
 */
export function reviewFingerprint(text: string): string | undefined {
  const normalized = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
  return normalized === '' ? undefined : sha256Hex(normalized).slice(0, 16);
}

/** Items kept in the state per user, and recommended items remembered as shown. */
export const ITEMS_KEPT = 50;
export const SHOWN_KEPT = 50;

/** Affinity weight per interaction; reviews use `rating - 3` (a 1-star review lowers interest). */
const AFFINITY_WEIGHT: Record<Exclude<BehaviourType, 'search' | 'review'>, number> = {
  page_view: 1,
  add_to_cart: 3,
  remove_from_cart: -1,
  purchase: 5,
};

export function emptyState(): ProfileState {
  return {
    v: 1,
    days: {},
    lifetime: {},
    categories: {},
    brands: {},
    attributes: {},
    searches: [],
    orders: { count: 0, units: 0, spend: {}, payment: {}, priceBands: {}, amounts: { count: 0, sum: 0, sumSquares: 0, max: 0 } },
    reviews: { count: 0, ratingSum: 0, ratings: [0, 0, 0, 0, 0], texts: {} },
    seen: {},
    maxReceivedAt: 0,
  };
}

/** Canonical application order: event time, then receive time, then id. */
export function compareEvents(a: QueuedEvent, b: QueuedEvent): number {
  const ta = parseTimestamp(a.timestamp);
  const tb = parseTimestamp(b.timestamp);
  if (ta !== tb) return ta - tb;
  if (a.receivedAt !== b.receivedAt) return a.receivedAt - b.receivedAt;
  return a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0;
}

export interface FoldResult {
  state: ProfileState;
  /** Events that changed the state (duplicates within the horizon are skipped). */
  applied: number;
  duplicates: number;
}

/**
 * Folds a batch of one user's events into their state. Pure: the input state is not modified.
 * The batch is applied in canonical order, so its arrival order never matters, and an event id
 * already applied within the dedup horizon is skipped, so redelivery changes nothing.
 */
export function foldEvents(
  previous: ProfileState | undefined,
  events: readonly QueuedEvent[],
  nowMs: number,
  options: ProfileOptions,
  /** The caller owns `previous` and will not use it again: fold into it instead of a copy (saves a deep clone per write). */
  consume = false,
): FoldResult {
  const state: ProfileState = previous ? (consume ? previous : structuredClone(previous)) : emptyState();
  const ordered = [...events].sort(compareEvents);
  let applied = 0;
  let duplicates = 0;
  for (const event of ordered) {
    if (own(state.seen, event.eventId) !== undefined) {
      duplicates++;
      continue;
    }
    setOwn(state.seen, event.eventId, event.receivedAt);
    state.maxReceivedAt = Math.max(state.maxReceivedAt, event.receivedAt);
    applyOne(state, event, options);
    applied++;
  }
  pruneState(state, nowMs, options);
  return { state, applied, duplicates };
}

function applyOne(state: ProfileState, event: QueuedEvent, options: ProfileOptions): void {
  const at = parseTimestamp(event.timestamp);
  if (event.type === 'user_attributes') {
    applyAttributes(state, event.attributes, at, event.receivedAt, event.eventId);
    return;
  }
  if (event.type === 'recommendation_impression' || event.type === 'recommendation_click') {
    applyFeedback(state, event.type, event.itemId, at);
    return;
  }
  const type = event.type;
  state.lifetime[type] = (state.lifetime[type] ?? 0) + 1;
  state.firstSeen = state.firstSeen === undefined ? at : Math.min(state.firstSeen, at);
  state.lastSeen = state.lastSeen === undefined ? at : Math.max(state.lastSeen, at);
  const day = dayKey(at);
  const counts = (state.days[day] ??= {});
  counts[type] = (counts[type] ?? 0) + 1;

  const interest = (weight: number, category?: string[], brand?: string): void => {
    if (weight === 0) return;
    const root = category?.[0];
    if (root) setOwn(state.categories, root, addDecayed(own(state.categories, root), weight, at, options.halfLifeDays));
    if (brand) setOwn(state.brands, brand, addDecayed(own(state.brands, brand), weight, at, options.halfLifeDays));
  };

  const item = (itemId: string | undefined, weight: number, bought = false): void => {
    if (itemId === undefined) return;
    const items = (state.items ??= {});
    const trace = own(items, itemId);
    const [score, asOf] = addDecayed(trace === undefined ? undefined : [trace[0], trace[1]], weight, at, options.halfLifeDays);
    setOwn(items, itemId, [
      score,
      asOf,
      Math.max(trace?.[2] ?? 0, at),
      bought ? Math.max(trace?.[3] ?? 0, at) : (trace?.[3] ?? 0),
    ] satisfies ItemTrace);
  };

  switch (event.type) {
    case 'page_view':
    case 'add_to_cart':
    case 'remove_from_cart':
      interest(AFFINITY_WEIGHT[event.type], event.category, event.brand);
      item(event.itemId, AFFINITY_WEIGHT[event.type]);
      break;
    case 'review': {
      item(event.itemId, event.rating - 3);
      const r = state.reviews;
      r.count++;
      r.ratingSum += event.rating;
      // Profiles folded before the histogram and the fingerprints existed start them at their next review.
      (r.ratings ??= [0, 0, 0, 0, 0])[event.rating - 1]! += 1;
      const fingerprint = event.text === undefined ? undefined : reviewFingerprint(event.text);
      if (fingerprint !== undefined) {
        const texts = (r.texts ??= {});
        const seen = own(texts, fingerprint);
        setOwn(texts, fingerprint, [(seen?.[0] ?? 0) + 1, Math.max(seen?.[1] ?? at, at)] satisfies ReviewText);
      }
      break;
    }
    case 'search':
      state.searches.push([at, event.query, event.eventId]);
      state.searches.sort((a, b) => b[0] - a[0] || (a[2] < b[2] ? 1 : a[2] > b[2] ? -1 : 0));
      state.searches.length = Math.min(state.searches.length, options.recentSearches);
      break;
    case 'purchase': {
      const { order } = event;
      const o = state.orders;
      o.count++;
      o.spend[order.currency] = (o.spend[order.currency] ?? 0) + order.amount;
      if (order.currency === options.baseCurrency) {
        counts.spend = (counts.spend ?? 0) + order.amount;
        const a = (o.amounts ??= { count: 0, sum: 0, sumSquares: 0, max: 0 });
        a.count++;
        a.sum += order.amount;
        a.sumSquares += order.amount * order.amount;
        a.max = Math.max(a.max, order.amount);
      }
      o.first = o.first === undefined ? at : Math.min(o.first, at);
      o.last = o.last === undefined ? at : Math.max(o.last, at);
      setOwn(o.payment, order.paymentMethod, (own(o.payment, order.paymentMethod) ?? 0) + 1);
      for (const line of order.lines) {
        o.units += line.quantity;
        const band = priceBandOf(line.unitPrice, options.priceBands);
        o.priceBands[band] = (o.priceBands[band] ?? 0) + line.quantity;
        interest(AFFINITY_WEIGHT.purchase, line.category, line.brand);
        item(line.itemId, AFFINITY_WEIGHT.purchase, true);
      }
      break;
    }
  }
}

/** An impression counts the item as shown; a click marks it (the page view the shop sends after it adds the interest). */
function applyFeedback(state: ProfileState, type: 'recommendation_impression' | 'recommendation_click', itemId: string, at: number): void {
  const shown = (state.shown ??= {});
  const [count, lastAt, clickedAt] = own(shown, itemId) ?? [0, 0, 0];
  setOwn(
    shown,
    itemId,
    (type === 'recommendation_impression'
      ? [count + 1, Math.max(lastAt, at), clickedAt]
      : [count, lastAt, Math.max(clickedAt, at)]) satisfies ShownTrace,
  );
}

function applyAttributes(state: ProfileState, attributes: UserAttributesInput, at: number, receivedAt: number, eventId: string): void {
  const set = (key: string, value: unknown): void => {
    const current = own(state.attributes, key);
    if (current && (current[1] > at || (current[1] === at && current[2] >= eventId))) return;
    setOwn(state.attributes, key, [value, at, eventId] satisfies Register);
  };
  for (const [key, value] of Object.entries(attributes)) {
    if (key === 'consents' || value === undefined) continue;
    set(key, value);
  }
  const consents = attributes.consents ?? {};
  for (const channel of CONSENT_CHANNELS) {
    const granted = consents[channel];
    if (granted === undefined) continue;
    upgradeConsent(state, channel);
    const registers = (state.consents ??= {});
    registers[channel] = recordConsent(registers[channel], granted, [at, receivedAt]);
  }
}

/** Drops what no derived field can need any more: old days, forgotten event ids, faint interests, old review texts. */
function pruneState(state: ProfileState, nowMs: number, options: ProfileOptions): void {
  const oldestDay = dayKey(startOfDay(nowMs) - (RETAINED_DAYS - 1) * DAY_MS);
  for (const day of Object.keys(state.days)) if (day < oldestDay) delete state.days[day];
  const horizon = state.maxReceivedAt - options.dedupHorizonMs;
  for (const [id, receivedAt] of Object.entries(state.seen)) if (receivedAt < horizon) delete state.seen[id];
  state.categories = strongest(state.categories, nowMs, options);
  state.brands = strongest(state.brands, nowMs, options);
  if (state.reviews.texts !== undefined) state.reviews.texts = newest(state.reviews.texts, REVIEW_TEXTS_KEPT, (t) => t[1]);
  if (state.items !== undefined) state.items = keptItems(state.items, nowMs);
  if (state.shown !== undefined) state.shown = newest(state.shown, SHOWN_KEPT, (t) => Math.max(t[1], t[2]));
}

/** The ITEMS_KEPT items to remember: purchases within RETAINED_DAYS first (they must never be re-recommended), then the newest. */
/** Above any epoch ms, and exact when added to one (below 2^53). */
const BOUGHT_FIRST = 1e15;

function keptItems(items: Record<string, ItemTrace>, nowMs: number): Record<string, ItemTrace> {
  const recentPurchase = startOfDay(nowMs) - (RETAINED_DAYS - 1) * DAY_MS;
  return newest(items, ITEMS_KEPT, (t) => (t[3] >= recentPurchase ? BOUGHT_FIRST : 0) + t[2]);
}

/** The `kept` entries with the largest `rank` (key in code-unit order breaks ties); the same object when nothing is dropped. */
function newest<T>(entries: Record<string, T>, kept: number, rank: (value: T) => number): Record<string, T> {
  const list = Object.entries(entries);
  if (list.length <= kept) return entries;
  list.sort(([ka, a], [kb, b]) => rank(b) - rank(a) || (ka < kb ? -1 : 1));
  return Object.fromEntries(list.slice(0, kept));
}

function strongest(scores: ProfileState['categories'], nowMs: number, options: ProfileOptions): ProfileState['categories'] {
  const entries = Object.entries(scores);
  if (entries.length <= options.maxInterests) return scores;
  entries.sort(
    ([ka, a], [kb, b]) => decayedValue(b, nowMs, options.halfLifeDays) - decayedValue(a, nowMs, options.halfLifeDays) || (ka < kb ? -1 : 1),
  );
  return Object.fromEntries(entries.slice(0, options.maxInterests));
}
