/**
 * The data mining benchmarks, each in its own process so that its peak RSS is its own: clustering
 * (`mining-clusters.ts`), propensity (`mining-propensity.ts`), association rules (`mining-rules.ts`) and risk
 * flags on planted abusers (`mining-risk.ts`).
 * Their JSON figures are gathered into one result; each script also runs on its own with its options.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { machineInfo, progress, type BenchArgs, type BenchResult, type Infra } from './harness';

const run = promisify(execFile);
const PARTS = ['clusters', 'propensity', 'rules', 'risk'] as const;

export async function benchMining(args: BenchArgs, infra: Infra): Promise<BenchResult> {
  const started = Date.now();
  const figures: Record<string, unknown> = {};
  for (const part of PARTS) {
    progress(`mining: ${part}`);
    const script = path.join(__dirname, `mining-${part}.ts`);
    const extra = part === 'rules' || part === 'risk' ? ['--seed', String(args.seed)] : [];
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script, ...extra], {
      cwd: path.resolve(__dirname, '..'),
      maxBuffer: 64 * 2 ** 20,
    });
    figures[part] = JSON.parse(stdout) as unknown;
  }
  return {
    benchmark: 'mining',
    startedAt: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 100) / 10,
    parameters: { seed: args.seed },
    machine: await machineInfo(infra),
    figures,
    targets: [],
    met: true,
    notes: ['quality thresholds are held by the unit tests (test/unit/mining-*.test.ts); these are the figures'],
  };
}
