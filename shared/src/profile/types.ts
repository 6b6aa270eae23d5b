import type { ConsentChannel, Consents } from '../consent-channels';
import type { BehaviourType } from '../events';
import type { ProfileScores } from '../models/scores';
import type { LifecycleStage } from '../profile-fields';
import type { Decayed } from './decay';

export type DayCounts = Partial<Record<BehaviourType, number>> & {
  /** Spend in the base currency on this day. */
  spend?: number;
};

/** A last-writer-wins register: value, event time, event id (tie-break). */
export type Register = [value: unknown, atMs: number, eventId: string];

/** When a consent was given or withdrawn: the event's time and the time ingest received it (epoch ms). */
export type ConsentMark = [atMs: number, receivedAtMs: number];

/** One channel's consent: see `recordConsent`. */
export interface ConsentRegister {
  /** The latest withdrawal, per coordinate: the newest event time and the newest receive time of any. */
  withdrawn?: ConsentMark;
  /** Grants later than every withdrawal in both coordinates, none covering another; empty means not granted. */
  granted: ConsentMark[];
}

export interface OrderAmounts {
  count: number;
  sum: number;
  sumSquares: number;
  max: number;
}

export type RatingCounts = [stars1: number, stars2: number, stars3: number, stars4: number, stars5: number];

/** How many reviews had one text, and the newest one's event time (epoch ms). */
export type ReviewText = [count: number, lastAtMs: number];

/**
 * One item of the user's own history: decayed interest (score as of `asOf`, by the interest half-life), the newest
 * interaction and the newest purchase (epoch ms; 0 = never bought).
 */
export type ItemTrace = [score: number, asOf: number, lastAt: number, boughtAt: number];

/** A recommended item the shop showed the user: how many times, the newest impression and the newest click (0 = never). */
export type ShownTrace = [count: number, lastAt: number, clickedAt: number];

/**
 * Everything the fold needs to go on: stored with the profile, not indexed.
 * Every indexed field is derived from this state and "now", so time can move without events.
 */
export interface ProfileState {
  v: 1;
  /** Per UTC day (`YYYY-MM-DD`) counts for the last RETAINED_DAYS days by event time. */
  days: Record<string, DayCounts>;
  lifetime: Partial<Record<BehaviourType, number>>;
  firstSeen?: number;
  lastSeen?: number;
  /** By category and brand name: user input, so read and written only through `own`/`setOwn`. */
  categories: Record<string, Decayed>;
  brands: Record<string, Decayed>;
  /** Attribute registers by attribute name (fixed names, never user input). */
  attributes: Record<string, Register>;
  /** Consent registers by channel; profiles folded before they existed keep `consents.<channel>` in `attributes`. */
  consents?: Partial<Record<ConsentChannel, ConsentRegister>>;
  /** Newest first: [event time, query, event id]. */
  searches: [number, string, string][];
  orders: {
    count: number;
    units: number;
    spend: Record<string, number>;
    first?: number;
    last?: number;
    /** By payment method (user input: `own`/`setOwn`). */
    payment: Record<string, number>;
    priceBands: Record<string, number>;
    /**
     * Orders in the base currency since profiles kept this (absent before): count, sum, sum of squares and
     * largest amount, so an order can be set against the user's own mean and deviation.
     */
    amounts?: OrderAmounts;
  };
  reviews: {
    count: number;
    ratingSum: number;
    /** Reviews rated 1..5 at indexes 0..4, since profiles kept this (absent before). */
    ratings?: RatingCounts;
    /**
     * Review texts by fingerprint (`reviewFingerprint`): how many reviews had it and the newest one's event time;
     * the REVIEW_TEXTS_KEPT newest fingerprints. Derived from user input: read and written only through `own`/`setOwn`.
     */
    texts?: Record<string, ReviewText>;
  };
  /**
   * Items the user viewed, carted, bought or reviewed, by item id (user input: `own`/`setOwn`): the ITEMS_KEPT
   * newest, purchases within RETAINED_DAYS first. Absent in profiles folded before it existed.
   */
  items?: Record<string, ItemTrace>;
  /** Recommended items shown to the user, by item id (user input): the SHOWN_KEPT newest impressions. */
  shown?: Record<string, ShownTrace>;
  /** Applied event ids with their receive time, within the dedup horizon (user input: `own`/`setOwn`). */
  seen: Record<string, number>;
  maxReceivedAt: number;
}

export interface WindowCounts {
  d7: number;
  d30: number;
  d90: number;
  lifetime: number;
}

export interface Interest {
  name: string;
  score: number;
}

export type { Consents, LifecycleStage };

/** The profile document as stored in Elasticsearch; the active models' scores sit beside the derived fields. */
export interface ProfileDoc extends ProfileScores {
  userId: string;
  attributes: {
    gender?: string;
    birthYear?: number;
    age?: number;
    ageBand?: string;
    occupation?: string;
    region?: string;
    city?: string;
    signupDate?: string;
    consents: Consents;
  };
  /** PII: not searchable, only read back for exports. */
  contact: {
    email?: string;
    phone?: string;
    /** SHA-256 of the normalized e-mail, kept in doc values so hashed audience exports never parse `_source`. */
    emailSha256?: string;
  };
  behavior: {
    counts: Record<BehaviourType, WindowCounts>;
    eventCount: number;
    firstSeen?: string;
    lastSeen?: string;
    activeDays30: number;
    recentSearches: string[];
  };
  interests: {
    categories: Interest[];
    brands: Interest[];
    topCategories: string[];
    topBrands: string[];
  };
  purchases: {
    orders: number;
    units: number;
    totalSpend: number;
    avgOrderValue: number;
    spend30d: number;
    spend90d: number;
    currency: string;
    otherCurrencies: string[];
    firstPurchaseAt?: string;
    lastPurchaseAt?: string;
    daysSinceLastPurchase?: number;
    ordersPerMonth: number;
    paymentMethods: string[];
    preferredPaymentMethod?: string;
    preferredPriceBand?: string;
  };
  reviews: { count: number; avgRating?: number };
  /** The user's own items, for recommendations and segments. */
  items: {
    /** Up to RECENT_ITEMS item ids, newest interaction first. */
    recent: string[];
    /** Items bought within RETAINED_DAYS, newest first. */
    bought: string[];
  };
  lifecycle: { stage: LifecycleStage; daysSinceLastSeen?: number };
  /** When the fold last applied events. */
  updatedAt: string;
  /** The "now" the time-relative fields were computed for. */
  derivedAt: string;
  state: ProfileState;
}
