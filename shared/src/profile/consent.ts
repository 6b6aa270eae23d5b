import type { ConsentChannel } from '../consent-channels';
import type { ConsentMark, ConsentRegister, ProfileState } from './types';

/** Grants kept per channel; more than one survives only when grants arrive out of order. */
const MAX_GRANTS = 8;

/** A grant outranks a withdrawal only when it is later both by the time it was given and by when it was received. */
const beats = (grant: ConsentMark, withdrawal: ConsentMark): boolean => grant[0] > withdrawal[0] && grant[1] > withdrawal[1];
const covers = (a: ConsentMark, b: ConsentMark): boolean => a[0] >= b[0] && a[1] >= b[1];

/**
 * Records one grant or withdrawal. A withdrawal never loses to a grant received before it, nor to one
 * given before it (whatever the clock of the sender said), so the register errs towards "no". The
 * register is a join of max-registers: the result does not depend on the order events are applied in,
 * and applying the same mark twice changes nothing.
 */
export function recordConsent(register: ConsentRegister | undefined, granted: boolean, mark: ConsentMark): ConsentRegister {
  const current: ConsentRegister = register ?? { granted: [] };
  if (!granted) {
    const w = current.withdrawn;
    const withdrawn: ConsentMark = w ? [Math.max(w[0], mark[0]), Math.max(w[1], mark[1])] : mark;
    return { withdrawn, granted: current.granted.filter((g) => beats(g, withdrawn)) };
  }
  if (current.withdrawn && !beats(mark, current.withdrawn)) return current;
  if (current.granted.some((g) => covers(g, mark))) return current;
  const grants = [...current.granted.filter((g) => !covers(mark, g)), mark].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { ...current, granted: grants.slice(-MAX_GRANTS) };
}

export interface ConsentView {
  granted: boolean;
  /** When the consent now in force was given (event time), if it is granted. */
  grantedAt?: number;
  /** The latest withdrawal's event time, if any. */
  withdrawnAt?: number;
}

/** What the state says about one channel, including profiles folded before consents had their own registers. */
export function consentOf(state: ProfileState, channel: ConsentChannel): ConsentView {
  const register = state.consents?.[channel];
  if (register) {
    const latest = register.granted.at(-1);
    return { granted: latest !== undefined, grantedAt: latest?.[0], withdrawnAt: register.withdrawn?.[0] };
  }
  const legacy = state.attributes[`consents.${channel}`];
  if (!legacy) return { granted: false };
  return legacy[0] === true ? { granted: true, grantedAt: legacy[1] } : { granted: false, withdrawnAt: legacy[1] };
}

/** Moves a last-writer-wins consent register of an older profile into the consent registers. */
export function upgradeConsent(state: ProfileState, channel: ConsentChannel): void {
  const key = `consents.${channel}`;
  const legacy = state.attributes[key];
  if (!legacy || state.consents?.[channel]) return;
  // The receive time of the old register is unknown; its event time stands in for it.
  state.consents = { ...state.consents, [channel]: recordConsent(undefined, legacy[0] === true, [legacy[1], legacy[1]]) };
  delete state.attributes[key];
}
