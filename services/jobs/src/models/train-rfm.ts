import { fitRfm, rfmInput, RFM_GROUPS, RFM_TIERS, scoreRfm, ValidationError, type RfmInput } from '@portrait/shared';
import type { Trainer } from './context';
import { walkProfiles } from './profile-walk';

/** Quintile boundaries over the buyers of the profile index; quality is the share of profiles per tier and group. */
export const trainRfm: Trainer<'rfm'> = async ({ deps, progress }) => {
  const inputs: RfmInput[] = [];
  const rows = await walkProfiles(deps.es, deps.names.profiles, deps.config.MODEL_PAGE_SIZE, (doc) => inputs.push(rfmInput(doc)), progress);
  await progress({ phase: 'fitting', rows });
  let state;
  try {
    state = fitRfm(inputs);
  } catch (error) {
    throw new ValidationError((error as Error).message, [{ path: 'profiles', reason: 'no buyer among them' }]);
  }
  const tiers = Object.fromEntries(RFM_TIERS.map((t) => [t, 0])) as Record<string, number>;
  const groups = Object.fromEntries(RFM_GROUPS.map((g) => [g, 0])) as Record<string, number>;
  for (const input of inputs) {
    const score = scoreRfm(state, input);
    tiers[score.tier]!++;
    groups[score.group]!++;
  }
  return {
    algorithm: 'rfm-quintiles',
    features: ['recency_days', 'orders', 'total_spend'],
    state,
    quality: { profiles: rows, buyers: state.buyers, tiers, groups },
    training: { rows, source: 'profiles' },
  };
};
