/**
 * Offline evaluation of the recommenders on the real services:
 *
 *   npm run eval -- [--data synthetic|scotch|margarine|<interactions.csv>] [--items items.csv] [--k 10] [--users 1000] [--seed 42] [--keep]
 *
 * A fresh prefix; ingest, indexer, jobs and query started with an evaluation clock just after the training data
 * (`PORTRAIT_CLOCK`), so windows and decay are as of the split however old the data; the catalogue and the past
 * interactions sent through the ingest API; the content, collaborative and rules models trained and promoted through
 * the query API; then every strategy asked for each evaluated user over HTTP, and its top k scored against what the
 * user turned to after the split. `popular` is the baseline. A table goes to stderr, the JSON to stdout and
 * bench/results/eval-<data>-latest.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RankingEvaluator, STRATEGIES, type RankingSummary, type Strategy } from '@portrait/shared';
import { sendEvents, sendItems } from '../scripts/ingest-client';
import { cleanup, connectInfra, newPrefix, progress, round, serviceEnv } from './harness';
import { csvEvaluation, margarineEvaluation, scotchEvaluation, syntheticEvaluation, type EvaluationData } from './recommend-data';
import { startService, type RunningService } from './service-process';

const MODELS: { kind: string; parameters: Record<string, unknown> }[] = [
  { kind: 'content', parameters: { minDocFreq: 1 } },
  { kind: 'collaborative', parameters: {} },
  { kind: 'rules', parameters: { basket: 'user', minSupport: 3 } },
];

async function json(url: string, init?: RequestInit): Promise<any> {
  const res = await fetch(url, init);
  const body = await res.json();
  if (res.status >= 400) throw new Error(`${init?.method ?? 'GET'} ${url} answered ${res.status}: ${JSON.stringify(body).slice(0, 400)}`);
  return body;
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 600_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function dataOf(data: string, itemsFile: string | undefined, seed: number): EvaluationData {
  switch (data) {
    case 'synthetic':
      return syntheticEvaluation(seed);
    case 'scotch':
      return scotchEvaluation(seed);
    case 'margarine':
      return margarineEvaluation();
    default:
      return csvEvaluation(data, itemsFile);
  }
}

export interface EvaluationResult {
  data: string;
  split: string;
  k: number;
  users: number;
  catalogue: number;
  interactions: number;
  models: Record<string, unknown>;
  strategies: Record<Strategy, RankingSummary & { p95Ms: number; emptyAnswers: number }>;
  /** NDCG@k of hybrid over popularity. */
  hybridOverPopular: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: 'synthetic' },
      items: { type: 'string' },
      k: { type: 'string', default: '10' },
      users: { type: 'string', default: '1000' },
      seed: { type: 'string', default: '42' },
      keep: { type: 'boolean', default: false },
    },
  });
  const k = Number(values.k);
  const maxUsers = Number(values.users);
  const data = dataOf(values.data!, values.items, Number(values.seed));
  const infra = connectInfra();
  const prefix = newPrefix(
    `eval-${data.name
      .replace(/[^a-z0-9]/gi, '')
      .toLowerCase()
      .slice(0, 12)}`,
  );
  const env = serviceEnv(prefix, {
    PORTRAIT_CLOCK: new Date(data.clockMs).toISOString(),
    INGEST_MAX_EVENT_AGE_DAYS: '36500',
    RECOMMEND_BOUGHT_DAYS: String(data.boughtDays),
    INGEST_PORT: '0',
    QUERY_PORT: '0',
    INDEXER_PORT: '0',
    JOBS_PORT: '0',
    MODEL_TRAIN_EVERY_MS: '86400000',
  });
  const services: RunningService[] = [];
  try {
    progress(
      `${data.name}: ${data.items.length} items, ${data.events.length} interactions, ${data.relevant.size} users with a held-out item; clock ${env.PORTRAIT_CLOCK}`,
    );
    for (const name of ['ingest', 'indexer', 'jobs', 'query'] as const) services.push(await startService(name, env, 'process'));
    const [ingest, , , query] = services.map((s) => s.url);
    await sendItems(ingest!, data.items);
    const sent = await sendEvents(ingest!, data.name, data.events);
    if (sent.rejected > 0) throw new Error(`ingest refused ${sent.rejected} events, e.g. ${JSON.stringify(sent.rejections[0])}`);
    await until('the history to be indexed', async () => {
      await infra.es.indices.refresh({ index: `${prefix}-events`, allow_no_indices: true, ignore_unavailable: true });
      const n = (await infra.es.count({ index: `${prefix}-events`, allow_no_indices: true, ignore_unavailable: true })).count;
      return n >= sent.accepted ? n : undefined;
    });
    const models: Record<string, unknown> = {};
    for (const { kind, parameters } of MODELS) {
      progress(`training ${kind}`);
      const started = await json(`${query}/v1/models/${kind}/train`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ promote: true, parameters }),
      });
      const status = await until(`${kind} training`, async () => {
        const s = await json(`${query}${started.statusUrl}`);
        return ['completed', 'failed'].includes(s.state) ? s : undefined;
      });
      if (status.state === 'failed') {
        progress(`  ${kind} failed: ${status.failedReason}`);
        continue;
      }
      const doc = await json(`${query}/v1/models/${kind}/${status.model.version}`);
      models[kind] = { version: doc.version, quality: doc.quality, seconds: round(doc.training.durationMs / 1000, 1) };
    }
    await until('every item vectorized', async () => {
      await infra.es.indices.refresh({ index: `${prefix}-items` });
      const missing = (
        await infra.es.count({ index: `${prefix}-items`, query: { bool: { must_not: [{ exists: { field: 'contentModel' } }] } } })
      ).count;
      return missing === 0 ? true : undefined;
    });
    const users = [...data.relevant.keys()].sort().slice(0, maxUsers);
    const strategies = {} as EvaluationResult['strategies'];
    for (const strategy of STRATEGIES) {
      const evaluator = new RankingEvaluator(k, data.items.length);
      const times: number[] = [];
      let empty = 0;
      for (const [n, userId] of users.entries()) {
        const t0 = performance.now();
        const answer = await json(`${query}/v1/users/${encodeURIComponent(userId)}/recommendations?k=${k}&strategy=${strategy}`);
        times.push(performance.now() - t0);
        if (answer.items.length === 0) empty++;
        evaluator.add(
          answer.items.map((i: { itemId: string }) => i.itemId),
          data.relevant.get(userId)!,
        );
        if (n % 200 === 199) progress(`  ${strategy}: ${n + 1}/${users.length} users`);
      }
      times.sort((a, b) => a - b);
      strategies[strategy] = { ...evaluator.summary(), p95Ms: round(times[Math.floor(times.length * 0.95)] ?? 0, 1), emptyAnswers: empty };
    }
    const result: EvaluationResult = {
      data: data.name,
      split: data.split,
      k,
      users: users.length,
      catalogue: data.items.length,
      interactions: data.events.length,
      models,
      strategies,
      hybridOverPopular: round(strategies.hybrid.ndcg / Math.max(1e-9, strategies.popular.ndcg), 3),
    };
    const table = [
      `strategy   P@${k}    R@${k}    NDCG@${k}  hit     coverage  p95 ms`,
      ...STRATEGIES.map((s) => {
        const r = strategies[s];
        const f = (x: number) => x.toFixed(4).padEnd(8);
        return `${s.padEnd(10)} ${f(r.precision)} ${f(r.recall)} ${f(r.ndcg)}  ${f(r.hitRate)}${f(r.coverage)}  ${r.p95Ms}`;
      }),
      `hybrid NDCG / popular NDCG = ${result.hybridOverPopular}`,
    ].join('\n');
    process.stderr.write(`\n${data.name} (${data.split}), ${users.length} users\n${table}\n`);
    const dir = path.resolve(__dirname, 'results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `eval-${data.name.replace(/[^a-z0-9.-]/gi, '_')}-latest.json`), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    for (const service of services.reverse()) await service.stop().catch(() => undefined);
    if (!values.keep) await cleanup(infra, prefix).catch(() => undefined);
    await infra.close();
  }
}

main().catch((error) => {
  process.stderr.write(`eval: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
