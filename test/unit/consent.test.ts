import fc from 'fast-check';
import {
  DEFAULT_PROFILE_OPTIONS as OPTS,
  consentOf,
  deriveProfile,
  foldEvents,
  recordConsent,
  type ConsentRegister,
  type ProfileState,
  type QueuedEvent,
} from '@portrait/shared';

const T = Date.parse('2026-11-23T12:00:00.000Z');
const MIN = 60_000;

let n = 0;
function consent(email: boolean, timestamp: number, receivedAt: number): QueuedEvent {
  n++;
  return {
    type: 'user_attributes',
    eventId: `c${n}`,
    userId: 'u',
    timestamp: new Date(timestamp).toISOString(),
    receivedAt,
    attributes: { consents: { email } },
  };
}

const emailConsent = (events: QueuedEvent[][]): boolean => {
  let state: ProfileState | undefined;
  for (const batch of events) state = foldEvents(state, batch, T + 60 * MIN, OPTS).state;
  return deriveProfile('u', state!, T + 60 * MIN, T, OPTS).attributes.consents.email;
};

describe('consents', () => {
  it('lets a later withdrawal sent without a timestamp beat a grant stamped a few minutes ahead', () => {
    const grant = consent(true, T + 4 * MIN, T);
    // Ingest stamps an attribute update without a timestamp with its receive time.
    const withdrawal = consent(false, T + 1 * MIN, T + 1 * MIN);
    expect(emailConsent([[grant], [withdrawal]])).toBe(false);
    expect(emailConsent([[withdrawal, grant]])).toBe(false);
  });

  it('never lets a withdrawal lose to a grant received before it, whatever its timestamp says', () => {
    const grant = consent(true, T, T);
    const lateWithdrawal = consent(false, T - 30 * MIN, T + MIN);
    expect(emailConsent([[grant], [lateWithdrawal]])).toBe(false);
  });

  it('ignores a grant given before the withdrawal even when it arrives after it', () => {
    const withdrawal = consent(false, T, T);
    const staleGrant = consent(true, T - 10 * MIN, T + 5 * MIN);
    expect(emailConsent([[withdrawal], [staleGrant]])).toBe(false);
  });

  it('grants again when a grant is both given and received after the withdrawal', () => {
    const first = consent(true, T - 20 * MIN, T - 20 * MIN);
    const withdrawal = consent(false, T - 10 * MIN, T - 10 * MIN);
    const again = consent(true, T, T);
    expect(emailConsent([[first], [withdrawal], [again]])).toBe(true);
    expect(emailConsent([[again, withdrawal, first]])).toBe(true);
  });

  it('records when the consent in force was given and when it was last withdrawn', () => {
    const state = foldEvents(undefined, [consent(false, T - 10 * MIN, T - 10 * MIN), consent(true, T, T)], T, OPTS).state;
    expect(consentOf(state, 'email')).toEqual({ granted: true, grantedAt: T, withdrawnAt: T - 10 * MIN });
    expect(consentOf(state, 'sms')).toEqual({ granted: false });
  });

  it('reads and upgrades the last-writer-wins register of profiles folded before consent registers', () => {
    const legacy = foldEvents(undefined, [], T, OPTS).state;
    legacy.attributes['consents.email'] = [true, T - 10 * MIN, 'old'];
    expect(consentOf(legacy, 'email').granted).toBe(true);
    const after = foldEvents(legacy, [consent(false, T, T)], T, OPTS).state;
    expect(consentOf(after, 'email').granted).toBe(false);
    expect(after.attributes['consents.email']).toBeUndefined();
  });

  it('gives the same answer whatever order grants and withdrawals are applied in, and once is as good as twice', () => {
    const arbMark = fc.record({ granted: fc.boolean(), at: fc.integer({ min: 0, max: 20 }), rcv: fc.integer({ min: 0, max: 20 }) });
    fc.assert(
      fc.property(fc.array(arbMark, { maxLength: 12 }), fc.func(fc.integer()), (marks, key) => {
        const apply = (list: typeof marks): ConsentRegister | undefined =>
          list.reduce<ConsentRegister | undefined>((r, m) => recordConsent(r, m.granted, [m.at, m.rcv]), undefined);
        const shuffled = [...marks].sort((a, b) => key(a.at * 100 + a.rcv) - key(b.at * 100 + b.rcv));
        const a = apply(marks);
        expect(apply(shuffled)).toEqual(a);
        expect(apply([...marks, ...marks])).toEqual(a);
        // Granted exactly when some grant is later than every withdrawal both when given and when received.
        const withdrawals = marks.filter((m) => !m.granted);
        const expected = marks.some((g) => g.granted && withdrawals.every((w) => g.at > w.at && g.rcv > w.rcv));
        expect((a?.granted.length ?? 0) > 0).toBe(expected);
      }),
    );
  });
});
