export interface PriceBand {
  name: string;
  /** Upper bound (exclusive) of unit prices in this band; the last band has none. */
  below?: number;
}

export interface ProfileOptions {
  /** Half-life of category and brand interest, in days. */
  halfLifeDays: number;
  /** How long (by receive time) applied event ids are remembered per profile to drop redeliveries. */
  dedupHorizonMs: number;
  /** Currency totals and averages are expressed in; other currencies are kept apart. */
  baseCurrency: string;
  priceBands: PriceBand[];
  recentSearches: number;
  /** Interests kept per dimension (the weakest are dropped beyond this). */
  maxInterests: number;
  /** Interests exposed as `top*` keyword lists. */
  topInterests: number;
}

export const DEFAULT_PROFILE_OPTIONS: ProfileOptions = {
  halfLifeDays: 30,
  dedupHorizonMs: 24 * 3_600_000,
  baseCurrency: 'EUR',
  priceBands: [{ name: 'budget', below: 20 }, { name: 'mid', below: 100 }, { name: 'premium', below: 500 }, { name: 'luxury' }],
  recentSearches: 10,
  maxInterests: 50,
  topInterests: 5,
};

export const WINDOWS_DAYS = [7, 30, 90] as const;
export const RETAINED_DAYS = 90;

export function priceBandOf(price: number, bands: readonly PriceBand[]): string {
  for (const band of bands) {
    if (band.below === undefined || price < band.below) return band.name;
  }
  return bands[bands.length - 1]?.name ?? 'unknown';
}
