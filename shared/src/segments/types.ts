import type { BehaviourType } from '../events';
import type { WINDOWS_DAYS } from '../profile/options';
import type { InterestKind, SegmentField } from './fields';

/** A span of time back from "now", e.g. `{ days: 30 }`. */
export interface DaysAgo {
  days: number;
}

export interface EqCondition {
  field: SegmentField;
  op: 'eq';
  value: string | number | boolean;
}

export interface InCondition {
  field: SegmentField;
  op: 'in';
  values: string[] | number[];
}

export interface PrefixCondition {
  field: SegmentField;
  op: 'prefix';
  /** Case-sensitive, like the keyword it is matched against. */
  value: string;
}

export interface ExistsCondition {
  field: SegmentField;
  op: 'exists';
}

/**
 * Numbers take numeric bounds. Dates take ISO 8601 bounds, or bounds relative to "now":
 * `last: { days: 30 }` means at or after now - 30 x 24 h, `olderThan: { days: 60 }` before now - 60 x 24 h.
 */
export interface RangeCondition {
  field: SegmentField;
  op: 'range';
  gte?: number | string;
  gt?: number | string;
  lte?: number | string;
  lt?: number | string;
  last?: DaysAgo;
  olderThan?: DaysAgo;
}

export type FieldCondition = EqCondition | InCondition | PrefixCondition | ExistsCondition | RangeCondition;

/** Windows of the profile's behaviour counts: UTC calendar days, today included. */
export type EventWindow = (typeof WINDOWS_DAYS)[number];

/**
 * "Did event `type` between `atLeast` and `atMost` times (at least once when neither is given) in the last
 * `inLastDays` days, or ever when it is omitted?", answered from the profile's window counts.
 */
export interface EventCondition {
  event: { type: BehaviourType; atLeast?: number; atMost?: number; inLastDays?: EventWindow };
}

/** A time-decayed interest in a category or brand (exact, case-sensitive name), with a score above `above` when given. */
export interface InterestCondition {
  interest: { kind: InterestKind; name: string; above?: number };
}

export interface AndNode {
  and: SegmentDefinition[];
}

export interface OrNode {
  or: SegmentDefinition[];
}

export interface NotNode {
  not: SegmentDefinition;
}

export type SegmentDefinition = AndNode | OrNode | NotNode | FieldCondition | EventCondition | InterestCondition;
