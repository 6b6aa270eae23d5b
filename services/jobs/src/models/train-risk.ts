import { RiskFitter } from '@portrait/shared';
import type { Trainer } from './context';
import { walkProfiles } from './profile-walk';

/**
 * Population thresholds of the risk signals and the anomaly reference, from one walk over the profiles: each
 * profile's signals are read from its fold state as the page goes by, and only a seeded sample of their rows is kept.
 */
export const trainRisk: Trainer<'risk'> = async ({ deps, parameters, seed, progress }) => {
  const fitter = new RiskFitter({ ...parameters, seed });
  const rows = await walkProfiles(deps.es, deps.names.profiles, deps.config.MODEL_PAGE_SIZE, (doc) => fitter.add(doc), progress, {
    withState: true,
  });
  await progress({ phase: 'fitting', rows });
  const state = fitter.fit();
  return {
    algorithm: 'risk-signals',
    features: state.anomaly.features,
    state,
    quality: {
      profiles: state.profiles,
      sampled: state.sampled,
      flaggedShare: state.flaggedShare,
      thresholds: Object.fromEntries(Object.entries(state.signals).map(([name, s]) => [name, s.threshold])),
      firedShare: Object.fromEntries(Object.entries(state.signals).map(([name, s]) => [name, s.firedShare])),
    },
    training: { rows, source: 'profiles' },
  };
};
