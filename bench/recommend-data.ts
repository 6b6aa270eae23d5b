import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { catalogueItem, interactionEvent, readCsv } from '../scripts/interactions';
import { hashSeed, mulberry32 } from './prng';
import { SyntheticShop } from './synthetic-shop';

/**
 * Evaluation data sets for the recommenders: what is ingested (the catalogue and every interaction before the split),
 * what each evaluated user should be recommended (the items they turned to after it), and the split instant the
 * services' evaluation clock is set to. No test item is ingested: the services only ever see the past.
 */
export interface EvaluationData {
  name: string;
  /** How the split was made, for the report. */
  split: string;
  items: Record<string, unknown>[];
  events: Record<string, unknown>[];
  /** userId -> the held-out items. */
  relevant: Map<string, Set<string>>;
  /** The clock of the services: just after the last training event. */
  clockMs: number;
  /** Items bought before this many days are recommendable again (repeat-purchase data sets need a short window). */
  boughtDays: number;
}

const DATA = path.resolve(__dirname, '../infra/data');
const DAY = 86_400_000;
/** Fixed, long past: the evaluation clock is what makes old data evaluate, not the date it runs. */
const EPOCH = Date.UTC(2001, 0, 1);

const purchase = (userId: string, itemId: string, at: number, id: string, price = 1) => ({
  type: 'purchase',
  eventId: id,
  userId,
  timestamp: new Date(at).toISOString(),
  order: { orderId: id, amount: price, currency: 'EUR', paymentMethod: 'imported', lines: [{ itemId, quantity: 1, unitPrice: price }] },
});

/**
 * The synthetic shop, whose shoppers have planted category tastes: a time split at 80 % of the span. Relevant items
 * are the ones a user viewed, carted or bought after the split that they had not met before it.
 */
export function syntheticEvaluation(seed: number, users = 3000, items = 600, events = 90_000): EvaluationData {
  const startMs = EPOCH;
  const endMs = EPOCH + 120 * DAY;
  const shop = new SyntheticShop({ seed, users, items, startMs, endMs, attributeEvents: false });
  const split = startMs + 0.8 * (endMs - startMs);
  const train: Record<string, unknown>[] = [];
  const seen = new Map<string, Set<string>>();
  const relevant = new Map<string, Set<string>>();
  const itemsOf = (event: Record<string, any>): string[] =>
    event.type === 'purchase' ? event.order.lines.map((l: { itemId: string }) => l.itemId) : event.itemId ? [event.itemId] : [];
  for (const event of shop.events(events)) {
    const e = event as Record<string, any>;
    const at = Date.parse(e.timestamp);
    if (at < split) {
      train.push(e);
      let s = seen.get(e.userId);
      if (!s) seen.set(e.userId, (s = new Set()));
      for (const id of itemsOf(e)) s.add(id);
    } else if (e.type === 'purchase' || e.type === 'add_to_cart') {
      const before = seen.get(e.userId);
      if (!before) continue;
      for (const id of itemsOf(e)) {
        if (before.has(id)) continue;
        let r = relevant.get(e.userId);
        if (!r) relevant.set(e.userId, (r = new Set()));
        r.add(id);
      }
    }
  }
  return {
    name: 'synthetic',
    split: `time split at day 96 of 120; relevant: items carted or bought after it, new to the user (${users} users, ${items} items, ${events} events)`,
    items: [...shop.items()].map((i) => ({ ...i, updatedAt: undefined })),
    events: train,
    relevant,
    clockMs: split + 60_000,
    boughtDays: 365,
  };
}

/**
 * Scotch: one basket of brands per respondent. Each basket of two or more brands has one brand held out at random
 * (seeded); the rest are ingested as purchases a day apart before the split.
 */
export function scotchEvaluation(seed: number): EvaluationData {
  const [header, ...rows] = parse(readFileSync(path.join(DATA, 'scotch_baskets.csv'))) as string[][];
  const brands = header!;
  const items = brands.map((brand) => ({
    itemId: brand,
    title: brand.replace(/\./g, ' '),
    category: ['Spirits', 'Scotch whisky'],
    brand: brand.slice(0, 100),
    price: 30,
  }));
  const events: Record<string, unknown>[] = [];
  const relevant = new Map<string, Set<string>>();
  const split = EPOCH + 30 * DAY;
  rows.forEach((row, r) => {
    const basket = brands.filter((_, i) => row[i] === '1');
    if (basket.length === 0) return;
    const userId = `scotch-${r}`;
    const rng = mulberry32(hashSeed(seed, r));
    const held = basket.length >= 2 ? basket[Math.floor(rng() * basket.length)] : undefined;
    if (held !== undefined) relevant.set(userId, new Set([held]));
    basket
      .filter((b) => b !== held)
      .forEach((brand, n) => events.push(purchase(userId, brand, split - (basket.length - n) * DAY, `scotch-${r}-${n}`, 30)));
  });
  return {
    name: 'scotch',
    split: 'leave one brand out per respondent with 2+ brands',
    items,
    events,
    relevant,
    clockMs: split + 60_000,
    boughtDays: 365,
  };
}

const MARGARINE = ['Pk_Stk', 'BB_Stk', 'Fl_Stk', 'Hse_Stk', 'Gen_Stk', 'Imp_Stk', 'SS_Tub', 'Pk_Tub', 'Fl_Tub', 'Hse_Tub'];

/**
 * Margarine: each household's purchases in panel order, a week apart; the last purchase is held out (the product it
 * chose next, often one it bought before: repeat purchase is what this panel is about, so the bought window is a day).
 */
export function margarineEvaluation(): EvaluationData {
  const [header, ...rows] = parse(readFileSync(path.join(DATA, 'margarine_choices.csv'))) as string[][];
  const products = header!.slice(2).map((c) => c.replace(/^P/, ''));
  const items = MARGARINE.map((code) => ({
    itemId: `margarine-${code}`,
    title: `${code.split('_')[0]} margarine ${code.endsWith('Tub') ? 'tub' : 'stick'}`,
    category: ['Grocery', 'Margarine', code.endsWith('Tub') ? 'Tub' : 'Stick'],
    brand: code.split('_')[0]!,
    price: 1,
  }));
  const byHousehold = new Map<string, { product: string; price: number }[]>();
  for (const row of rows) {
    const product = products[Number(row[1]) - 1]!;
    const list = byHousehold.get(row[0]!) ?? [];
    list.push({ product, price: Number(row[Number(row[1]) + 1]) || 1 });
    byHousehold.set(row[0]!, list);
  }
  const split = EPOCH + 400 * DAY;
  const events: Record<string, unknown>[] = [];
  const relevant = new Map<string, Set<string>>();
  for (const [hhid, purchases] of byHousehold) {
    const userId = `hh-${hhid}`;
    if (purchases.length < 2) continue;
    const last = purchases[purchases.length - 1]!;
    relevant.set(userId, new Set([`margarine-${last.product}`]));
    purchases
      .slice(0, -1)
      .forEach((p, n) =>
        events.push(purchase(userId, `margarine-${p.product}`, split - (purchases.length - n) * 7 * DAY, `mg-${hhid}-${n}`, p.price)),
      );
  }
  return {
    name: 'margarine',
    split: 'leave the last purchase out per household (bought window 1 day: repeats count)',
    items,
    events,
    relevant,
    clockMs: split + 60_000,
    boughtDays: 1,
  };
}

const present = <T>(value: T | undefined): T[] => (value === undefined ? [] : [value]);

/** Interactions from a CSV file (and a catalogue): each user's latest interaction is held out when it is new to them. */
export function csvEvaluation(interactionsFile: string, itemsFile: string | undefined): EvaluationData {
  const items: Record<string, unknown>[] = itemsFile
    ? readCsv(readFileSync(itemsFile, 'utf8')).flatMap((row, i) => present(catalogueItem(row, i + 2).value))
    : [];
  const prices = new Map(items.map((i) => [i.itemId as string, i.price as number]));
  const all: Record<string, any>[] = readCsv(readFileSync(interactionsFile, 'utf8')).flatMap((row, i) =>
    present(interactionEvent(row, i + 2, prices).value),
  );
  const itemOf = (e: Record<string, any>): string => (e.type === 'purchase' ? e.order.lines[0].itemId : e.itemId);
  if (items.length === 0) {
    for (const id of new Set(all.map(itemOf))) items.push({ itemId: id, title: id, category: ['Uncategorized'], price: 0 });
  }
  const byUser = new Map<string, Record<string, any>[]>();
  for (const e of all) byUser.set(e.userId as string, [...(byUser.get(e.userId as string) ?? []), e]);
  const events: Record<string, unknown>[] = [];
  const relevant = new Map<string, Set<string>>();
  let latest = 0;
  for (const [userId, list] of byUser) {
    list.sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp));
    const last = list[list.length - 1]!;
    const before = list.slice(0, -1);
    if (before.length > 0 && !before.some((e) => itemOf(e) === itemOf(last))) {
      relevant.set(userId, new Set([itemOf(last)]));
      events.push(...before);
    } else events.push(...list);
  }
  for (const e of events) latest = Math.max(latest, Date.parse(e.timestamp as string));
  return {
    name: path.basename(interactionsFile),
    split: 'leave the latest interaction out per user when it is new to them',
    items,
    events,
    relevant,
    clockMs: latest + 60_000,
    boughtDays: 365,
  };
}
