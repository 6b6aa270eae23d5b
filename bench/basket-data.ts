import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { hashSeed, intBetween, mulberry32, zipfTable } from './prng';

/** Baskets for association rules: the two real data sets in infra/data, and a seeded synthetic shop. */

const DATA = path.resolve(__dirname, '../infra/data');

/** `scotch_baskets.csv`: one basket per respondent, the brands (column names as in R) marked 1. */
export function scotchBaskets(): string[][] {
  const [header, ...rows] = parse(readFileSync(path.join(DATA, 'scotch_baskets.csv'))) as string[][];
  return rows.map((row) => header!.filter((_, i) => row[i] === '1'));
}

/**
 * `margarine_choices.csv`: one basket per household, the set of products it chose over its purchases. `choice` k
 * is the k-th price column (`PPk_Stk` ... `PHse_Tub`); a product is named after its column without the price `P`
 * (`Pk_Stk`: Parkay stick).
 */
export function margarineBaskets(): string[][] {
  const [header, ...rows] = parse(readFileSync(path.join(DATA, 'margarine_choices.csv'))) as string[][];
  const products = header!.slice(2).map((column) => column.replace(/^P/, ''));
  const byHousehold = new Map<string, Set<string>>();
  for (const [hhid, choice] of rows) {
    const product = products[Number(choice) - 1];
    if (product === undefined) throw new Error(`margarine: choice ${choice} is not a product`);
    let basket = byHousehold.get(hhid!);
    if (basket === undefined) byHousehold.set(hhid!, (basket = new Set()));
    basket.add(product);
  }
  return [...byHousehold.values()].map((basket) => [...basket]);
}

export interface SyntheticBaskets {
  baskets: string[][];
  /** Item -> category, for rules at category level. */
  categoryOf: (item: string) => string;
  /** Items sold together on purpose: every pair of one bundle should come out as a rule with lift > 1. */
  bundles: string[][];
}

/**
 * `count` baskets of 1-8 items over `items` items with Zipf-like popularity (s = 1), a quarter of them starting
 * with 2-3 items of one of `bundleCount` planted bundles of 3 mid-popularity items. Items are `i0000`...; category
 * of an item is one of 100, by a hash of its rank.
 */
export function syntheticBaskets(seed: number, count = 100_000, items = 5000, bundleCount = 40): SyntheticBaskets {
  const rng = mulberry32(seed);
  const width = String(items - 1).length;
  const name = (rank: number): string => `i${String(rank).padStart(width, '0')}`;
  const popularity = zipfTable(items, 1);
  const used = new Set<number>();
  const bundles: number[][] = [];
  for (let b = 0; b < bundleCount; b++) {
    const bundle: number[] = [];
    while (bundle.length < 3) {
      const rank = intBetween(rng, Math.floor(items / 50), Math.floor(items / 2));
      if (!used.has(rank)) {
        used.add(rank);
        bundle.push(rank);
      }
    }
    bundles.push(bundle);
  }
  const baskets: string[][] = [];
  for (let i = 0; i < count; i++) {
    const size = intBetween(rng, 1, 8);
    const basket = new Set<number>();
    if (rng() < 0.25) {
      const bundle = bundles[Math.floor(rng() * bundles.length)]!;
      const take = Math.min(size, intBetween(rng, 2, 3));
      const skip = take === 3 ? -1 : Math.floor(rng() * 3);
      bundle.forEach((rank, j) => j !== skip && basket.size < take && basket.add(rank));
    }
    // Repeats are kept as drawn: a real basket may hold an item twice, and mining must count it once.
    const drawn: number[] = [...basket];
    while (drawn.length < size) drawn.push(popularity.sample(rng));
    baskets.push(drawn.map(name));
  }
  const categoryOf = (item: string): string => `c${String(hashSeed(seed, Number(item.slice(1))) % 100).padStart(2, '0')}`;
  return { baskets, categoryOf, bundles: bundles.map((bundle) => bundle.map(name)) };
}
