import type { z } from 'zod';
import type { IncomingEvent, ItemBatchEntry, UserAttributesInput } from '@portrait/shared';
import {
  CumulativeTable,
  exponential,
  geometric,
  hashSeed,
  intBetween,
  logNormal,
  mulberry32,
  normal,
  pick,
  weighted,
  zipfTable,
  type Rng,
} from './prng';
import {
  COLOURS,
  FIRST_NAMES,
  LAST_NAMES,
  MAIL_DOMAINS,
  OCCUPATIONS,
  PAYMENT_METHODS,
  QUERY_ADJECTIVES,
  RATINGS,
  REGIONS,
  ROOT_CATEGORIES,
  TITLE_WORDS,
} from './shop-data';

/** An event as the shop sends it: always with its own (deterministic) id. */
export type ShopEvent = IncomingEvent & { eventId: string };
export type ShopItem = z.input<typeof ItemBatchEntry>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** What a session step decides; the session adds who, when, where. */
type EventBody = DistributiveOmit<ShopEvent, 'eventId' | 'userId' | 'timestamp' | 'sessionId' | 'channel'>;

export interface ShopOptions {
  seed: number;
  users: number;
  items: number;
  /** Event time range (epoch ms); session starts spread over it, nothing is stamped after `endMs`. */
  startMs: number;
  endMs: number;
  /** Prepended to user ids (`<prefix>u<n>`), e.g. to keep several shops apart in one index. */
  userPrefix?: string;
  /** Share of item-bearing events that carry category/brand/price inline (the rest rely on the catalogue). */
  inlineFactsShare?: number;
  /** Emit one user_attributes event before a user's first session (default true). */
  attributeEvents?: boolean;
  /** Zipf exponent of item popularity (default 1.1). */
  zipfS?: number;
  /**
   * Share of users planted as abusers of one of `ABUSER_KINDS` (default 0). At 0 the shop draws nothing for
   * them, so its items, attributes and events are the same as a shop without the option.
   */
  abuserShare?: number;
}

/**
 * Planted abuse, one kind per abuser: review bombers post bursts of copy-paste reviews all rated 1 or all 5;
 * card testers place many small orders on many payment methods in one session; cart abusers add and remove
 * items in storms without buying.
 */
export const ABUSER_KINDS = ['review_bomber', 'card_tester', 'cart_abuser'] as const;
export type AbuserKind = (typeof ABUSER_KINDS)[number];

/** Share of an abuser's sessions that are abusive; the others are ordinary sessions. */
const ABUSIVE_SESSION_SHARE = 0.5;

/** What review bombers paste, by the rating they give. */
const BOMBER_TEXTS: Record<1 | 5, string[]> = {
  1: [
    'Terrible product, do not buy!!!',
    'Scam. Broke after one day, seller ignores complaints.',
    'Worst purchase ever, total waste of money.',
  ],
  5: ['Best product ever, buy it now!!!', 'Amazing!!! Five stars, everyone needs this.', 'Perfect perfect perfect, highly recommended.'],
};

export interface ShopStats {
  events: number;
  /** Events other than user_attributes: what profiles count in behavior.eventCount. */
  behaviour: number;
  byType: Record<string, number>;
  sessions: number;
  purchases: number;
  usersSeen: number;
}

interface UserTraits {
  favourites: number[];
  /** Probability that a viewed item comes from a favourite category. */
  loyalty: number;
  channel: 'web' | 'app' | 'other';
}

/** A session's events in time order, waiting in the merge heap. */
interface PendingSession {
  events: ShopEvent[];
  times: number[];
  next: number;
}

const DAY_MS = 86_400_000;
const YEAR_MS = 365.25 * DAY_MS;
/** Prior for the adaptive arrival rate until real session lengths are known. */
const INITIAL_EVENTS_PER_SESSION = 6;

/**
 * A seedable synthetic shop: catalogue, users with category affinity and attributes, and a
 * time-ordered stream of sessions (views, searches, carts, purchases, reviews). Everything derives from
 * the seed, so two shops with equal options produce identical items, attributes and events.
 * Users and items are kept as compact arrays; events are generated lazily and never materialized.
 * With `abuserShare`, a seeded share of users are abusers (`abuserKind`) whose sessions are often abusive ones.
 */
export class SyntheticShop {
  readonly options: Required<ShopOptions>;
  readonly stats: ShopStats = { events: 0, behaviour: 0, byType: {}, sessions: 0, purchases: 0, usersSeen: 0 };

  private readonly rng: Rng;
  private readonly idPrefix: string;
  private readonly rootTable: CumulativeTable;
  private readonly globalZipf: CumulativeTable;
  private readonly userActivity: CumulativeTable;
  private readonly rootItems: number[][];
  private readonly rootZipf: (CumulativeTable | undefined)[];
  private readonly itemRoot: Uint8Array;
  private readonly itemSub: Uint8Array;
  private readonly itemBrand: Uint8Array;
  private readonly itemPrice: Float64Array;
  private readonly categoryPaths: string[][][];
  private readonly seenUsers: Uint8Array;
  /** Users that had at least one abusive session so far. */
  private readonly abusedUsers: Uint8Array;
  private cheapest: number[] | undefined;
  private sessionSeq = 0;
  private eventSeq = 0;
  private extraSeq = 0;

  constructor(options: ShopOptions) {
    if (options.users < 1 || options.items < 1) throw new RangeError('a shop needs at least one user and one item');
    if (!(options.endMs > options.startMs)) throw new RangeError('endMs must be after startMs');
    if (options.abuserShare !== undefined && !(options.abuserShare >= 0 && options.abuserShare <= 1))
      throw new RangeError('abuserShare must be between 0 and 1');
    this.options = { userPrefix: '', inlineFactsShare: 1, attributeEvents: true, zipfS: 1.1, abuserShare: 0, ...options };
    const seed = options.seed >>> 0;
    this.rng = mulberry32(hashSeed(seed, 0));
    this.idPrefix = `e${seed.toString(36)}-`;
    this.rootTable = new CumulativeTable(ROOT_CATEGORIES.map((c) => c.weight));
    this.categoryPaths = ROOT_CATEGORIES.map((root) => root.subcategories.map((sub) => [root.name, sub]));

    // Catalogue: item 0 is the most popular; roots, brands and prices are drawn per item.
    const n = options.items;
    this.itemRoot = new Uint8Array(n);
    this.itemSub = new Uint8Array(n);
    this.itemBrand = new Uint8Array(n);
    this.itemPrice = new Float64Array(n);
    this.rootItems = ROOT_CATEGORIES.map(() => []);
    const catalogueRng = mulberry32(hashSeed(seed, 1));
    const brandZipf = new Map<number, CumulativeTable>();
    for (let i = 0; i < n; i++) {
      const root = this.rootTable.sample(catalogueRng);
      const def = ROOT_CATEGORIES[root]!;
      let brands = brandZipf.get(def.brands.length);
      if (!brands) brandZipf.set(def.brands.length, (brands = zipfTable(def.brands.length, 0.8)));
      this.itemRoot[i] = root;
      this.itemSub[i] = Math.floor(catalogueRng() * def.subcategories.length);
      this.itemBrand[i] = brands.sample(catalogueRng);
      this.itemPrice[i] = shopPrice(logNormal(catalogueRng, def.medianPrice, def.priceSigma));
      this.rootItems[root]!.push(i);
    }
    this.globalZipf = zipfTable(n, this.options.zipfS);
    this.rootZipf = this.rootItems.map((items) => (items.length > 0 ? zipfTable(items.length, this.options.zipfS) : undefined));

    // Heavy-tailed activity: a few users are far more active than the median one.
    const activityRng = mulberry32(hashSeed(seed, 2));
    const weights = new Float64Array(options.users);
    for (let u = 0; u < options.users; u++) weights[u] = Math.exp(0.75 * normal(activityRng));
    this.userActivity = new CumulativeTable(weights);
    this.seenUsers = new Uint8Array(options.users);
    this.abusedUsers = new Uint8Array(options.users);
  }

  /** The kind of abuse a user was planted with; undefined for an ordinary user. Drawn per user from the seed. */
  abuserKind(index: number): AbuserKind | undefined {
    const share = this.options.abuserShare;
    if (share <= 0) return undefined;
    const rng = mulberry32(hashSeed(this.options.seed, 6, index));
    if (rng() >= share) return undefined;
    return ABUSER_KINDS[Math.floor(rng() * ABUSER_KINDS.length)]!;
  }

  isAbuser(index: number): boolean {
    return this.abuserKind(index) !== undefined;
  }

  /** Whether the user has had an abusive session in what the shop generated so far (planted abusers may not have yet). */
  hasAbused(index: number): boolean {
    return this.abusedUsers[index] === 1;
  }

  userId(index: number): string {
    return `${this.options.userPrefix}u${index}`;
  }

  itemId(index: number): string {
    return `i${index}`;
  }

  /** Catalogue entries, valid for POST /v1/items/batch. */
  *items(): Generator<ShopItem> {
    const updatedAt = new Date(this.options.startMs - 30 * DAY_MS).toISOString();
    for (let i = 0; i < this.options.items; i++) {
      const rng = mulberry32(hashSeed(this.options.seed, 3, i));
      const def = ROOT_CATEGORIES[this.itemRoot[i]!]!;
      const sub = def.subcategories[this.itemSub[i]!]!;
      const brand = def.brands[this.itemBrand[i]!]!;
      const colour = pick(rng, COLOURS);
      yield {
        itemId: this.itemId(i),
        title: `${brand} ${pick(rng, TITLE_WORDS)} ${sub} ${colour}`,
        description: `${pick(rng, TITLE_WORDS)} ${sub.toLowerCase()} by ${brand}, ${colour}.`,
        category: this.categoryPaths[this.itemRoot[i]!]![this.itemSub[i]!]!,
        brand,
        price: this.itemPrice[i]!,
        currency: 'EUR',
        tags: [colour, sub.toLowerCase()],
        inStock: rng() < 0.94,
        updatedAt,
      };
    }
  }

  /** The attributes a user has in the shop's CRM; deterministic per user. */
  attributes(user: string | number): UserAttributesInput {
    const index = typeof user === 'number' ? user : this.userIndex(user);
    const rng = mulberry32(hashSeed(this.options.seed, 4, index));
    const gender = weighted(rng, [
      ['female', 48],
      ['male', 45],
      ['other', 1.5],
      ['unknown', 5.5],
    ] as const);
    const birthYear = Math.round(Math.min(2008, Math.max(1935, 1984 + 14 * normal(rng))));
    const place = weighted(
      rng,
      REGIONS.map((r) => [r, r.weight] as const),
    );
    const signup = this.options.startMs - rng() * 3 * YEAR_MS;
    const first = pick(rng, FIRST_NAMES);
    const last = pick(rng, LAST_NAMES);
    const attributes: UserAttributesInput = {
      gender,
      birthYear,
      occupation: birthYear > 1960 ? weighted(rng, OCCUPATIONS) : 'retired',
      region: place.region,
      city: pick(rng, place.cities),
      signupDate: new Date(Math.floor(signup / 1000) * 1000).toISOString(),
      email: `${first}.${last}${index}@${weighted(rng, MAIL_DOMAINS)}`,
      consents: {
        email: rng() < 0.55,
        sms: rng() < 0.15,
        push: rng() < 0.35,
        ads: rng() < 0.4,
        personalization: rng() < 0.7,
      },
    };
    if (rng() < 0.7)
      attributes.phone = `+491${pick(rng, ['51', '52', '57', '60', '62', '70', '71', '76'])}${String(intBetween(rng, 0, 99_999_999)).padStart(8, '0')}`;
    return attributes;
  }

  /**
   * `count` events in time order: session starts form a Poisson process over [startMs, endMs] whose
   * rate adapts so the stream ends near `endMs`; concurrent sessions are merged through a heap.
   * Ids are `e<seed>-<sequence>`, unique and the same for the same options.
   */
  *events(count: number): Generator<ShopEvent> {
    const heap: PendingSession[] = [];
    let pendingEvents = 0;
    let builtEvents = 0;
    let built = 0;
    let arrival = this.options.startMs;
    let emitted = 0;
    while (emitted < count) {
      const top = heap[0];
      if (top && top.times[top.next]! <= arrival) {
        const event = top.events[top.next]!;
        top.next++;
        pendingEvents--;
        if (top.next >= top.events.length) heapPop(heap);
        else heapSiftDown(heap, 0);
        event.eventId = this.idPrefix + (this.eventSeq++).toString(36);
        this.count(event);
        emitted++;
        yield event;
        continue;
      }
      const session = this.buildSession(this.userActivity.sample(this.rng), Math.min(arrival, this.options.endMs));
      built++;
      builtEvents += session.events.length;
      pendingEvents += session.events.length;
      heapPush(heap, session);
      const perSession = built < 50 ? INITIAL_EVENTS_PER_SESSION : builtEvents / built;
      const remainingSessions = Math.max(1, (count - emitted - pendingEvents) / perSession);
      const remainingSpan = Math.max(0, this.options.endMs - arrival);
      arrival += exponential(this.rng, remainingSpan / remainingSessions);
    }
  }

  /**
   * One session of one user starting at `atMs`, outside the main stream (ids `e<seed>-x<n>`): for probes
   * and targeted loads. Timestamps are not clamped to `endMs`.
   */
  session(user: number, atMs: number): ShopEvent[] {
    const session = this.buildSession(user, atMs, Number.POSITIVE_INFINITY);
    for (const event of session.events) {
      event.eventId = `${this.idPrefix}x${(this.extraSeq++).toString(36)}`;
      this.count(event);
    }
    return session.events;
  }

  /** `sessions` sessions for each given user, spread over the time range, each user's in time order. */
  *eventsForUsers(users: Iterable<number>, sessions: number): Generator<ShopEvent> {
    const span = this.options.endMs - this.options.startMs;
    for (const user of users) {
      const starts = Array.from({ length: sessions }, () => this.options.startMs + this.rng() * span * 0.98).sort((a, b) => a - b);
      for (const start of starts) yield* this.session(user, start);
    }
  }

  private userIndex(userId: string): number {
    const index = Number(userId.slice(this.options.userPrefix.length + 1));
    if (!Number.isInteger(index) || index < 0 || index >= this.options.users) throw new RangeError(`not a user of this shop: ${userId}`);
    return index;
  }

  private count(event: ShopEvent): void {
    this.stats.events++;
    this.stats.byType[event.type] = (this.stats.byType[event.type] ?? 0) + 1;
    if (event.type !== 'user_attributes') this.stats.behaviour++;
    if (event.type === 'purchase') this.stats.purchases++;
  }

  private traits(user: number): UserTraits {
    const rng = mulberry32(hashSeed(this.options.seed, 5, user));
    const favourites: number[] = [];
    const wanted = weighted(rng, [
      [1, 35],
      [2, 40],
      [3, 25],
    ] as const);
    for (let tries = 0; favourites.length < wanted && tries < 10; tries++) {
      const root = this.rootTable.sample(rng);
      if (!favourites.includes(root)) favourites.push(root);
    }
    return {
      favourites,
      loyalty: 0.55 + 0.35 * rng(),
      channel: weighted(rng, [
        ['web', 58],
        ['app', 38],
        ['other', 4],
      ] as const),
    };
  }

  private pickItem(traits: UserTraits): number {
    const rng = this.rng;
    if (rng() < traits.loyalty) {
      // Earlier favourites are stronger.
      const f = traits.favourites.length === 1 || rng() < 0.6 ? 0 : 1 + Math.floor(rng() * (traits.favourites.length - 1));
      const root = traits.favourites[f]!;
      const zipf = this.rootZipf[root];
      if (zipf) return this.rootItems[root]![zipf.sample(rng)]!;
    }
    return this.globalZipf.sample(rng);
  }

  private query(traits: UserTraits): string {
    const rng = this.rng;
    const def = ROOT_CATEGORIES[rng() < 0.8 ? pick(rng, traits.favourites) : this.rootTable.sample(rng)]!;
    const sub = pick(rng, def.subcategories).toLowerCase();
    const brand = pick(rng, def.brands);
    switch (Math.floor(rng() * 4)) {
      case 0:
        return sub;
      case 1:
        return brand.toLowerCase();
      case 2:
        return `${brand.toLowerCase()} ${sub}`;
      default:
        return `${pick(rng, QUERY_ADJECTIVES)} ${sub}`;
    }
  }

  private buildSession(user: number, startMs: number, clampMs = this.options.endMs): PendingSession {
    const rng = this.rng;
    const traits = this.traits(user);
    const userId = this.userId(user);
    const sessionId = `s${this.options.seed.toString(36)}-${(this.sessionSeq++).toString(36)}`;
    this.stats.sessions++;
    const channel = traits.channel;
    const events: ShopEvent[] = [];
    const times: number[] = [];
    let t = startMs;
    const push = (event: EventBody): void => {
      const at = Math.floor(Math.min(t, clampMs));
      times.push(at);
      events.push({ eventId: '', userId, timestamp: new Date(at).toISOString(), sessionId, channel, ...event } as ShopEvent);
      t += 1000 * logNormal(rng, 25, 0.8);
    };

    if (this.options.attributeEvents && this.seenUsers[user] === 0) {
      this.seenUsers[user] = 1;
      this.stats.usersSeen++;
      push({ type: 'user_attributes', attributes: this.attributes(user) });
    } else if (this.seenUsers[user] === 0) {
      this.seenUsers[user] = 1;
      this.stats.usersSeen++;
    }

    const kind = this.abuserKind(user);
    if (kind !== undefined && rng() < ABUSIVE_SESSION_SHARE) {
      this.abusedUsers[user] = 1;
      this.abuse(kind, user, traits, push);
      return { events, times, next: 0 };
    }

    const inline = (): boolean => this.options.inlineFactsShare >= 1 || rng() < this.options.inlineFactsShare;
    const facts = (item: number): { category?: string[]; brand?: string; price?: number } =>
      inline()
        ? {
            category: this.categoryPaths[this.itemRoot[item]!]![this.itemSub[item]!]!,
            brand: ROOT_CATEGORIES[this.itemRoot[item]!]!.brands[this.itemBrand[item]!]!,
            price: this.itemPrice[item]!,
          }
        : {};
    const search = (): void => push({ type: 'search', query: this.query(traits), resultsCount: Math.round(logNormal(rng, 40, 1.2)) });

    if (rng() < 0.35) search();
    const views = Math.min(30, 1 + geometric(rng, 0.25));
    const viewed: number[] = [];
    const cart = new Map<number, number>();
    for (let v = 0; v < views; v++) {
      if (v > 0 && rng() < 0.06) search();
      const item = this.pickItem(traits);
      viewed.push(item);
      push({ type: 'page_view', itemId: this.itemId(item), url: `/p/${this.itemId(item)}`, ...facts(item) });
      if (rng() < 0.08) {
        const quantity = weighted(rng, [
          [1, 90],
          [2, 8],
          [3, 2],
        ] as const);
        cart.set(item, (cart.get(item) ?? 0) + quantity);
        push({ type: 'add_to_cart', itemId: this.itemId(item), quantity, ...facts(item) });
      }
    }
    for (const [item, quantity] of [...cart]) {
      if (rng() < 0.15) {
        cart.delete(item);
        push({ type: 'remove_from_cart', itemId: this.itemId(item), quantity, ...facts(item) });
      }
    }
    if (rng() < (cart.size > 0 ? 0.12 : 0.01)) {
      const lines = [...cart].slice(0, 4).map(([item, quantity]) => ({ item, quantity }));
      const extra = lines.length === 0 ? intBetween(rng, 1, 2) : rng() < 0.2 ? 1 : 0;
      for (let i = 0; i < extra && lines.length < 4; i++) {
        const item = pick(rng, viewed);
        if (!lines.some((l) => l.item === item)) lines.push({ item, quantity: 1 });
      }
      const orderLines = lines.map(({ item, quantity }) => {
        const f = facts(item);
        return { itemId: this.itemId(item), category: f.category, brand: f.brand, quantity, unitPrice: this.itemPrice[item]! };
      });
      const amount = Math.round(orderLines.reduce((sum, l) => sum + l.quantity * l.unitPrice, 0) * 100) / 100;
      push({
        type: 'purchase',
        order: {
          orderId: `o${this.options.seed.toString(36)}-${this.sessionSeq.toString(36)}`,
          lines: orderLines,
          amount,
          currency: 'EUR',
          paymentMethod: weighted(rng, PAYMENT_METHODS),
        },
      });
    }
    if (rng() < 0.012) {
      const rating = weighted(rng, RATINGS);
      push({
        type: 'review',
        itemId: this.itemId(pick(rng, viewed)),
        rating,
        ...(rng() < 0.4 ? { text: rating >= 4 ? 'Great quality, fast delivery.' : 'Not as described.' } : {}),
      });
    }
    return { events, times, next: 0 };
  }

  /** One abusive session's events of `kind`, pushed in time order; items carry their facts inline. */
  private abuse(kind: AbuserKind, user: number, traits: UserTraits, push: (event: EventBody) => void): void {
    const rng = this.rng;
    const facts = (item: number) => ({
      category: this.categoryPaths[this.itemRoot[item]!]![this.itemSub[item]!]!,
      brand: ROOT_CATEGORIES[this.itemRoot[item]!]!.brands[this.itemBrand[item]!]!,
    });
    switch (kind) {
      case 'review_bomber': {
        // Each bomber rates one way and pastes mostly one text of their own.
        const own = mulberry32(hashSeed(this.options.seed, 7, user));
        const rating = own() < 0.5 ? 1 : 5;
        const texts = BOMBER_TEXTS[rating];
        const text = pick(own, texts);
        const reviews = intBetween(rng, 2, 9);
        for (let r = 0; r < reviews; r++) {
          const item = this.pickItem(traits);
          push({
            type: 'page_view',
            itemId: this.itemId(item),
            url: `/p/${this.itemId(item)}`,
            ...facts(item),
            price: this.itemPrice[item]!,
          });
          push({
            type: 'review',
            itemId: this.itemId(item),
            rating,
            ...(rng() < 0.85 ? { text } : rng() < 0.5 ? { text: pick(rng, texts) } : {}),
          });
        }
        break;
      }
      case 'card_tester': {
        const orders = intBetween(rng, 2, 10);
        const cheapest = this.cheapestItems();
        for (let n = 0; n < orders; n++) {
          const item = pick(rng, cheapest);
          const unitPrice = this.itemPrice[item]!;
          push({
            type: 'purchase',
            order: {
              orderId: `o${this.options.seed.toString(36)}-${this.sessionSeq.toString(36)}-${n}`,
              lines: [{ itemId: this.itemId(item), ...facts(item), quantity: 1, unitPrice }],
              amount: unitPrice,
              currency: 'EUR',
              paymentMethod: pick(rng, PAYMENT_METHODS)[0],
            },
          });
        }
        break;
      }
      case 'cart_abuser': {
        const cycles = intBetween(rng, 4, 25);
        for (let c = 0; c < cycles; c++) {
          const item = this.pickItem(traits);
          const quantity = intBetween(rng, 1, 5);
          push({ type: 'add_to_cart', itemId: this.itemId(item), quantity, ...facts(item), price: this.itemPrice[item]! });
          push({ type: 'remove_from_cart', itemId: this.itemId(item), quantity, ...facts(item), price: this.itemPrice[item]! });
        }
        break;
      }
    }
  }

  /** The 50 cheapest items (computed when a card tester first needs them). */
  private cheapestItems(): number[] {
    this.cheapest ??= Array.from(this.itemPrice.keys())
      .sort((a, b) => this.itemPrice[a]! - this.itemPrice[b]! || a - b)
      .slice(0, 50);
    return this.cheapest;
  }
}

/** Catalogue-like price: x.99 above 5 EUR, two decimals below. */
function shopPrice(raw: number): number {
  if (raw < 5) return Math.max(0.49, Math.round(raw * 100) / 100);
  return Math.round(raw) - 0.01;
}

function sessionTime(s: PendingSession): number {
  return s.times[s.next]!;
}

function heapPush(heap: PendingSession[], session: PendingSession): void {
  heap.push(session);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >>> 1;
    if (sessionTime(heap[parent]!) <= sessionTime(heap[i]!)) break;
    [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
    i = parent;
  }
}

function heapPop(heap: PendingSession[]): void {
  const last = heap.pop()!;
  if (heap.length === 0) return;
  heap[0] = last;
  heapSiftDown(heap, 0);
}

function heapSiftDown(heap: PendingSession[], start: number): void {
  let i = start;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let smallest = i;
    if (l < heap.length && sessionTime(heap[l]!) < sessionTime(heap[smallest]!)) smallest = l;
    if (r < heap.length && sessionTime(heap[r]!) < sessionTime(heap[smallest]!)) smallest = r;
    if (smallest === i) return;
    [heap[smallest], heap[i]] = [heap[i]!, heap[smallest]!];
    i = smallest;
  }
}
