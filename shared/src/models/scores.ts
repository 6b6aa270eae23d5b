import type { RiskLevel, RiskSignal } from '../mining/risk-vocabulary';
import type { RfmGroup, RfmTier } from '../mining/rfm';
import type { ScoredModelKind } from './kinds';

/**
 * What the active models write on a profile, beside the fields the fold derives. Each part is there when its
 * kind has an active version; `models` records the version of every model that scored the profile, so a
 * promotion can find the profiles still carrying an older one.
 */
export interface ProfileScores {
  /** From the RFM model: `high`, `medium` or `low`. */
  value?: { tier: RfmTier };
  /** RFM scores 1-5 and their code (absent for a profile that never bought), and the named group. */
  rfm?: { r?: number; f?: number; m?: number; code?: string; group: RfmGroup };
  /** The nearest cluster, its label and the distance to its centroid in standard deviations. */
  cluster?: { id: number; label: string; distance: number };
  /** Probabilities 0-1 for the next 30 days. */
  propensity?: { purchase?: number; churn?: number };
  /** Risk 0-1 with the signals that fired (strongest first), and how unusual the profile is (1: the top 1 %). */
  risk?: { score: number; level: RiskLevel; flagged: boolean; reasons: RiskSignal[]; anomaly: number };
  models?: Partial<Record<ScoredModelKind, number>>;
}
