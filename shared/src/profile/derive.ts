import { CONSENT_CHANNELS } from '../consent-channels';
import { hashEmail, normalizeEmail } from '../identifiers';
import { Limits } from '../limits';
import { BEHAVIOUR_TYPES, type BehaviourType } from '../events';
import { own } from '../own';
import { consentOf } from './consent';
import { decayedValue } from './decay';
import { RETAINED_DAYS, WINDOWS_DAYS, type ProfileOptions } from './options';
import { DAY_MS, dayKey, daysBetween, startOfDay } from './time';
import type { Consents, Interest, ItemTrace, LifecycleStage, ProfileDoc, ProfileState, WindowCounts } from './types';

const AGE_BANDS: [below: number, band: string][] = [
  [18, 'under-18'],
  [25, '18-24'],
  [35, '25-34'],
  [45, '35-44'],
  [55, '45-54'],
  [65, '55-64'],
];

export function ageBandOf(age: number): string {
  for (const [below, band] of AGE_BANDS) if (age < below) return band;
  return '65+';
}

const round = (n: number, digits = 4): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/** Counters are `integer` in the mapping: they saturate at its largest value instead of being refused. */
const saturate = (n: number): number => Math.min(n, Limits.maxInteger);

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/**
 * Lifecycle by recency: new within 30 days of first activity, then by days since the last activity: active
 * (up to 30), at risk (31–90), dormant (91–365), churned (more than a year).
 */
export function lifecycleStage(firstSeen: number | undefined, lastSeen: number | undefined, nowMs: number): LifecycleStage {
  if (firstSeen === undefined || lastSeen === undefined) return 'registered';
  const sinceLast = daysBetween(lastSeen, nowMs);
  if (sinceLast > 365) return 'churned';
  if (sinceLast > 90) return 'dormant';
  if (sinceLast > 30) return 'at_risk';
  if (daysBetween(firstSeen, nowMs) <= 30) return 'new';
  return 'active';
}

/** Attributes whose value the profile keeps in `contact` only: their state registers keep when and which event. */
export const CONTACT_ATTRIBUTES = ['email', 'phone'] as const;
type ContactAttribute = (typeof CONTACT_ATTRIBUTES)[number];
/** A contact register's value once it has moved to `contact`. */
const IN_CONTACT = { storedIn: 'contact' } as const;
const inContact = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && (value as { storedIn?: unknown }).storedIn === IN_CONTACT.storedIn;

/**
 * The state as stored: contact registers hold `IN_CONTACT` instead of the raw e-mail or phone, which the
 * document keeps once, normalized, in `contact`.
 */
function withoutContact(state: ProfileState): ProfileState {
  if (!CONTACT_ATTRIBUTES.some((key) => typeof own(state.attributes, key)?.[0] === 'string')) return state;
  const attributes = { ...state.attributes };
  for (const key of CONTACT_ATTRIBUTES) {
    const register = own(attributes, key);
    if (register && typeof register[0] === 'string') attributes[key] = [IN_CONTACT, register[1], register[2]];
  }
  return { ...state, attributes };
}

/**
 * Computes every indexed profile field from the state, as of `nowMs`. Pure and deterministic:
 * the periodic refresh calls it with a later "now" to move windows, decay and recency forward.
 * `stored` is the document the state was read from: the contact values the state no longer holds are
 * taken from it.
 */
export function deriveProfile(
  userId: string,
  state: ProfileState,
  nowMs: number,
  updatedAtMs: number,
  options: ProfileOptions,
  stored?: { contact?: ProfileDoc['contact'] },
): ProfileDoc {
  const today = startOfDay(nowMs);
  const windowStart = (days: number): string => dayKey(today - (days - 1) * DAY_MS);
  const starts = WINDOWS_DAYS.map(windowStart);

  const counts = {} as Record<BehaviourType, WindowCounts>;
  for (const type of BEHAVIOUR_TYPES) counts[type] = { d7: 0, d30: 0, d90: 0, lifetime: saturate(state.lifetime[type] ?? 0) };
  let spend30d = 0;
  let spend90d = 0;
  let activeDays30 = 0;
  for (const [day, dayCounts] of Object.entries(state.days)) {
    const [in7, in30, in90] = starts.map((start) => day >= start);
    if (!in90) continue;
    for (const type of BEHAVIOUR_TYPES) {
      const n = dayCounts[type] ?? 0;
      const c = counts[type];
      if (in7) c.d7 += n;
      if (in30) c.d30 += n;
      c.d90 += n;
    }
    const spend = dayCounts.spend ?? 0;
    spend90d += spend;
    if (in30) {
      spend30d += spend;
      activeDays30++;
    }
  }
  const eventCount = saturate(BEHAVIOUR_TYPES.reduce((sum, t) => sum + (state.lifetime[t] ?? 0), 0));

  const attr = (key: string): unknown => own(state.attributes, key)?.[0] ?? undefined;
  const str = (key: string): string | undefined => {
    const v = attr(key);
    return typeof v === 'string' ? v : undefined;
  };
  const contact = (key: ContactAttribute): string | undefined => {
    const value = attr(key);
    if (inContact(value)) return stored?.contact?.[key];
    return typeof value === 'string' ? value : undefined;
  };
  const birthYear = attr('birthYear');
  const age = typeof birthYear === 'number' ? new Date(nowMs).getUTCFullYear() - birthYear : undefined;
  const consents = Object.fromEntries(CONSENT_CHANNELS.map((c) => [c, consentOf(state, c).granted])) as Consents;

  const categories = ranked(state.categories, nowMs, options);
  const brands = ranked(state.brands, nowMs, options);

  const o = state.orders;
  const totalSpend = o.spend[options.baseCurrency] ?? 0;
  const monthsBuying = o.first === undefined ? 0 : Math.max(1, (nowMs - o.first) / (30 * DAY_MS));

  return {
    userId,
    attributes: {
      gender: str('gender'),
      birthYear: typeof birthYear === 'number' ? birthYear : undefined,
      age,
      ageBand: age === undefined ? undefined : ageBandOf(age),
      occupation: str('occupation'),
      region: str('region'),
      city: str('city'),
      signupDate: str('signupDate'),
      consents,
    },
    // E-mails stored before ingest normalized them are normalized here; phones are E.164 since ingest, and an older
    // national one is left for the export's default calling code to complete.
    contact: { email: normalizeEmail(contact('email')), phone: contact('phone'), emailSha256: hashEmail(contact('email')) },
    behavior: {
      counts,
      eventCount,
      firstSeen: iso(state.firstSeen),
      lastSeen: iso(state.lastSeen),
      activeDays30,
      recentSearches: state.searches.map(([, query]) => query),
    },
    interests: {
      categories,
      brands,
      topCategories: categories.slice(0, options.topInterests).map((i) => i.name),
      topBrands: brands.slice(0, options.topInterests).map((i) => i.name),
    },
    purchases: {
      orders: saturate(o.count),
      units: saturate(o.units),
      totalSpend: round(totalSpend, 2),
      avgOrderValue: o.count === 0 ? 0 : round(totalSpend / o.count, 2),
      spend30d: round(spend30d, 2),
      spend90d: round(spend90d, 2),
      currency: options.baseCurrency,
      otherCurrencies: Object.keys(o.spend)
        .filter((c) => c !== options.baseCurrency)
        .sort(),
      firstPurchaseAt: iso(o.first),
      lastPurchaseAt: iso(o.last),
      daysSinceLastPurchase: o.last === undefined ? undefined : daysBetween(o.last, nowMs),
      ordersPerMonth: monthsBuying === 0 ? 0 : round(o.count / monthsBuying, 3),
      paymentMethods: Object.keys(o.payment).sort(),
      preferredPaymentMethod: argMax(o.payment),
      preferredPriceBand: argMax(o.priceBands),
    },
    reviews: {
      count: saturate(state.reviews.count),
      avgRating: state.reviews.count === 0 ? undefined : round(state.reviews.ratingSum / state.reviews.count, 3),
    },
    items: ownItems(state, nowMs),
    lifecycle: {
      stage: lifecycleStage(state.firstSeen, state.lastSeen, nowMs),
      daysSinceLastSeen: state.lastSeen === undefined ? undefined : daysBetween(state.lastSeen, nowMs),
    },
    updatedAt: new Date(updatedAtMs).toISOString(),
    derivedAt: new Date(nowMs).toISOString(),
    state: withoutContact(state),
  };
}

/** Item ids exposed as `items.recent`. */
export const RECENT_ITEMS = 20;

function ownItems(state: ProfileState, nowMs: number): ProfileDoc['items'] {
  const entries = Object.entries(state.items ?? {});
  const newestFirst = (at: (t: ItemTrace) => number) => (a: [string, ItemTrace], b: [string, ItemTrace]) =>
    at(b[1]) - at(a[1]) || (a[0] < b[0] ? -1 : 1);
  const since = startOfDay(nowMs) - (RETAINED_DAYS - 1) * DAY_MS;
  return {
    recent: [...entries]
      .sort(newestFirst((t) => t[2]))
      .slice(0, RECENT_ITEMS)
      .map(([id]) => id),
    bought: entries
      .filter(([, t]) => t[3] >= since)
      .sort(newestFirst((t) => t[3]))
      .map(([id]) => id),
  };
}

/** Interests with a positive decayed score, strongest first (name breaks ties). */
function ranked(scores: ProfileState['categories'], nowMs: number, options: ProfileOptions): Interest[] {
  return Object.entries(scores)
    .map(([name, decayed]) => ({ name, score: round(decayedValue(decayed, nowMs, options.halfLifeDays), 6) }))
    .filter((i) => i.score > 0)
    .sort((a, b) => b.score - a.score || (a.name < b.name ? -1 : 1));
}

function argMax(counts: Record<string, number>): string | undefined {
  let best: string | undefined;
  let bestCount = -Infinity;
  for (const key of Object.keys(counts).sort()) {
    const n = counts[key] ?? 0;
    if (n > bestCount) {
      best = key;
      bestCount = n;
    }
  }
  return best;
}
