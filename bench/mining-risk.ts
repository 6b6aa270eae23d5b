/**
 * Risk flags on a synthetic shop with planted abusers (review bombers, card testers, cart abusers): the shop's
 * events folded into profiles in memory, the model fitted on them, every profile scored. Prints one JSON document
 * with precision and recall of the flag, per kind too, the fit time and the scoring time per profile.
 *
 *   node --import tsx bench/mining-risk.ts [--users 20000] [--events-per-user 20] [--abuser-share 0.03] [--seed 1]
 */
import { fitRisk, rocAuc, scoreRisk, type RiskScore } from '@portrait/shared';
import { riskReport, shopProfiles } from './risk-data';

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

const users = argument('users', 20_000);
const seed = argument('seed', 1);
const eventsPerUser = argument('events-per-user', 20);
const abuserShare = argument('abuser-share', 0.03);

const foldStarted = performance.now();
const { profiles, truth, events } = shopProfiles({ seed, users, eventsPerUser, abuserShare });
const foldMs = performance.now() - foldStarted;

const fitStarted = performance.now();
const model = fitRisk(profiles, { seed });
const fitMs = performance.now() - fitStarted;

const scoreStarted = performance.now();
const scores: RiskScore[] = profiles.map((doc) => scoreRisk(model, doc));
const scoreMs = performance.now() - scoreStarted;

const report = riskReport(scores, truth);
const labels = truth.map((kind) => (kind === undefined ? 0 : 1));
const anomalies = scores.map((s) => s.anomaly);
const mean = (values: number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);

console.log(
  JSON.stringify(
    {
      seed,
      shopUsers: users,
      events,
      users: report.users,
      abusers: report.abusers,
      flagged: report.flagged,
      precision: report.precision,
      recall: report.recall,
      perKind: report.perKind,
      falsePositives: report.falsePositives,
      levels: Object.fromEntries(['low', 'medium', 'high'].map((level) => [level, scores.filter((s) => s.level === level).length])),
      thresholds: Object.fromEntries(Object.entries(model.signals).map(([name, s]) => [name, round(s.threshold)])),
      anomaly: {
        reference: round(model.anomaly.reference),
        aucForAbusers: round(rocAuc(labels, anomalies)),
        meanOrdinary: round(mean(anomalies.filter((_, i) => labels[i] === 0))),
        meanAbuser: round(mean(anomalies.filter((_, i) => labels[i] === 1))),
      },
      foldMs: Math.round(foldMs),
      fitMs: round(fitMs, 1),
      scoreUsPerProfile: round((scoreMs * 1000) / profiles.length, 2),
    },
    null,
    2,
  ),
);
