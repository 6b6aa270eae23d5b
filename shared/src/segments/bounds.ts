import { DAY_MS } from '../profile/time';
import type { FieldSpec } from './fields';
import type { RangeCondition } from './types';

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * Epoch ms of an ISO 8601 date (`2025-01-31`, midnight UTC) or date-time with a zone, as Elasticsearch's
 * `date` type reads it: sub-millisecond digits are dropped. Undefined for anything else, including
 * impossible calendar dates, and date-times without a zone unless `zoneless` allows them (as UTC, like
 * Elasticsearch; JavaScript would read them as local time).
 */
export function parseIsoDate(text: string, zoneless = false): number | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  if (h !== undefined && zone === undefined && !zoneless) return undefined;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMin = 0;
  if (zone !== undefined && zone !== 'Z') {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const base = new Date(0);
  base.setUTCFullYear(year, month - 1, day);
  base.setUTCHours(hour, minute, second, 0);
  const millis = frac === undefined ? 0 : Number(frac.padEnd(3, '0').slice(0, 3));
  return base.getTime() + millis - offsetMin * 60_000;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeap(year) ? 29 : (MONTH_DAYS[month - 1] ?? 0);
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Resolved bounds of a range, numbers for number fields and epoch ms for date fields. */
export interface Bounds {
  gte?: number;
  gt?: number;
  lte?: number;
  lt?: number;
}

/** The numeric bounds of a range condition; relative date bounds are taken back from `nowMs`. */
export function rangeBounds(cond: RangeCondition, spec: FieldSpec, nowMs: number): Bounds {
  const value = (v: number | string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    if (spec.kind !== 'date') return v as number;
    const ms = typeof v === 'string' ? parseIsoDate(v) : undefined;
    if (ms === undefined) throw new RangeError(`not a valid date bound: ${String(v)}`);
    return ms;
  };
  const bounds: Bounds = {};
  const gte = cond.last ? nowMs - cond.last.days * DAY_MS : value(cond.gte);
  const gt = value(cond.gt);
  const lte = value(cond.lte);
  const lt = cond.olderThan ? nowMs - cond.olderThan.days * DAY_MS : value(cond.lt);
  if (gte !== undefined) bounds.gte = gte;
  if (gt !== undefined) bounds.gt = gt;
  if (lte !== undefined) bounds.lte = lte;
  if (lt !== undefined) bounds.lt = lt;
  return bounds;
}

export function inBounds(v: number, b: Bounds): boolean {
  return (
    (b.gte === undefined || v >= b.gte) &&
    (b.gt === undefined || v > b.gt) &&
    (b.lte === undefined || v <= b.lte) &&
    (b.lt === undefined || v < b.lt)
  );
}
