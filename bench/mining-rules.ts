/**
 * Association rules: FP-Growth on synthetic baskets (seeded, Zipf-like popularity, planted bundles), at item and
 * category level, with time and peak RSS; then the top rules on the Scotch and margarine baskets.
 *
 *   node --import tsx bench/mining-rules.ts [--seed N] [--baskets N] [--items N]
 *
 * Pure computation: needs neither Elasticsearch nor Redis. JSON on stdout.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { categoryBaskets, mineRules, rulesFor, type AssociationRule, type RuleMiningOptions, type RulesModel } from '@portrait/shared';
import { margarineBaskets, scotchBaskets, syntheticBaskets } from './basket-data';
import { atLeast, atMost, finish, round, type BenchResult, type MachineInfo } from './harness';

export interface MiningRulesArgs {
  seed: number;
  baskets?: number;
  items?: number;
}

const SYNTHETIC: RuleMiningOptions = { minSupport: 0.0005, minConfidence: 0.1, minLift: 1, maxItemsetSize: 4, maxRules: 10_000 };
const CATEGORIES: RuleMiningOptions = { minSupport: 0.005, minConfidence: 0.1, minLift: 1, maxItemsetSize: 3, maxRules: 10_000 };
/** The same baskets at a support of 10 baskets: many more itemsets, to show the cost grows gently. */
const LOW_SUPPORT: RuleMiningOptions = { ...SYNTHETIC, minSupport: 10 };
const REAL: RuleMiningOptions = { minSupport: 0.01, minConfidence: 0.1, minLift: 1, maxItemsetSize: 3, maxRules: 10_000 };
const RUNS = 3;

export async function benchMiningRules(args: MiningRulesArgs): Promise<BenchResult> {
  const started = Date.now();
  const count = args.baskets ?? 100_000;
  const items = args.items ?? 5000;

  let t = performance.now();
  const shop = syntheticBaskets(args.seed, count, items);
  const generateMs = performance.now() - t;
  const rssBeforeMb = process.memoryUsage().rss / 2 ** 20;

  const times: number[] = [];
  const outputs = new Set<string>();
  let model: RulesModel | undefined;
  for (let run = 0; run < RUNS; run++) {
    t = performance.now();
    model = mineRules(shop.baskets, SYNTHETIC);
    times.push(performance.now() - t);
    outputs.add(JSON.stringify(model));
  }
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const itemLevel = model!;

  // A planted bundle is recovered when each of its ordered pairs is a rule with lift > 1.
  let pairs = 0;
  let recovered = 0;
  for (const bundle of shop.bundles) {
    for (const a of bundle) {
      for (const b of bundle) {
        if (a === b) continue;
        pairs++;
        if (rulesFor(itemLevel, a, { limit: 10_000 }).some((r) => r.consequent.length === 1 && r.consequent[0] === b)) recovered++;
      }
    }
  }

  t = performance.now();
  const lowSupport = mineRules(shop.baskets, LOW_SUPPORT);
  const lowSupportMs = performance.now() - t;

  t = performance.now();
  const byCategory = categoryBaskets(shop.baskets, shop.categoryOf);
  const mapMs = performance.now() - t;
  t = performance.now();
  const categoryModel = mineRules(byCategory, CATEGORIES);
  const categoryMs = performance.now() - t;

  const scotch = realFigures(scotchBaskets());
  const margarine = realFigures(margarineBaskets());
  const medianMs = [...times].sort((a, b) => a - b)[Math.floor(RUNS / 2)]!;

  const figures = {
    synthetic: {
      baskets: count,
      distinctItems: itemLevel.distinctItems,
      meanBasketSize: round(shop.baskets.reduce((s, b) => s + b.length, 0) / count, 2),
      generateMs: round(generateMs, 0),
      mineMs: { first: round(times[0]!, 0), median: round(medianMs, 0), runs: RUNS },
      rssBeforeMiningMb: round(rssBeforeMb, 0),
      peakRssMb: round(peakRssMb, 0),
      deterministic: outputs.size === 1,
      minSupportCount: itemLevel.minSupportCount,
      frequentItemsets: itemLevel.itemsets.length,
      byItemsetSize: sizes(itemLevel),
      rulesFound: itemLevel.rulesFound,
      rulesKept: itemLevel.rules.length,
      modelJsonKb: round(JSON.stringify(itemLevel).length / 1024, 0),
      plantedPairsRecovered: `${recovered} / ${pairs}`,
      topRules: itemLevel.rules.slice(0, 5).map((r) => show(r, count)),
    },
    syntheticLowSupport: {
      minSupportCount: lowSupport.minSupportCount,
      mineMs: round(lowSupportMs, 0),
      frequentItemsets: lowSupport.itemsets.length,
      rulesFound: lowSupport.rulesFound,
      peakRssMb: round(process.resourceUsage().maxRSS / 1024, 0),
    },
    syntheticCategories: {
      categories: categoryModel.distinctItems,
      mapToCategoriesMs: round(mapMs, 0),
      mineMs: round(categoryMs, 0),
      frequentItemsets: categoryModel.itemsets.length,
      rulesFound: categoryModel.rulesFound,
      topRules: categoryModel.rules.slice(0, 3).map((r) => show(r, count)),
    },
    scotch,
    margarine,
  };
  const targets = [
    atMost('FP-Growth on the synthetic baskets (median)', round(medianMs / 1000, 2), 10, 's'),
    atMost('peak RSS', round(peakRssMb, 0), 1024, 'MB'),
    atLeast('planted bundle pairs recovered', round(recovered / pairs, 3), 1, 'share'),
    atLeast('identical models over runs', outputs.size === 1 ? 1 : 0, 1, 'bool'),
  ];
  return finish(
    'mining-rules',
    started,
    machine(),
    { ...args, baskets: count, items, synthetic: SYNTHETIC, lowSupport: LOW_SUPPORT, categories: CATEGORIES, real: REAL },
    figures,
    targets,
    [
      'peak RSS is the process maximum (getrusage), generation of the baskets included',
      'synthetic: 1-8 items per basket, Zipf s = 1 over the items, a quarter of the baskets start with 2-3 items of one of 40 planted 3-item bundles',
    ],
  );
}

function realFigures(baskets: string[][]): Record<string, unknown> {
  const t = performance.now();
  const model = mineRules(baskets, REAL);
  return {
    baskets: baskets.length,
    distinctItems: model.distinctItems,
    meanBasketSize: round(baskets.reduce((s, b) => s + b.length, 0) / baskets.length, 2),
    mineMs: round(performance.now() - t, 1),
    frequentItemsets: model.itemsets.length,
    rulesFound: model.rulesFound,
    topItems: model.itemsets.slice(0, 5).map((s) => `${s.items.join(' + ')} (${s.support})`),
    topRules: model.rules.slice(0, 10).map((r) => show(r, baskets.length)),
  };
}

function show(rule: AssociationRule, baskets: number): Record<string, unknown> {
  return {
    rule: `${rule.antecedent.join(' + ')} -> ${rule.consequent.join(' + ')}`,
    support: rule.support,
    supportShare: round(rule.support / baskets, 4),
    confidence: round(rule.confidence, 3),
    lift: round(rule.lift, 2),
  };
}

function sizes(model: RulesModel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { items } of model.itemsets) out[items.length] = (out[items.length] ?? 0) + 1;
  return out;
}

function machine(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

if (require.main === module) {
  const { values } = parseArgs({ options: { seed: { type: 'string' }, baskets: { type: 'string' }, items: { type: 'string' } } });
  const numberOr = (value: string | undefined, fallback: number): number => (value === undefined ? fallback : Number(value));
  benchMiningRules({ seed: numberOr(values.seed, 42), baskets: numberOr(values.baskets, 100_000), items: numberOr(values.items, 5000) })
    .then((result) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`))
    .catch((error: unknown) => {
      process.stderr.write(`${String(error)}\n`);
      process.exitCode = 1;
    });
}
