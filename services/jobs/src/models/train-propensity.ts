import {
  eventFromDoc,
  timeSplitCutoffs,
  TimeSplitRows,
  trainTimeSplit,
  ValidationError,
  type EventDoc,
  type PropensityTarget,
  type QueuedEvent,
} from '@portrait/shared';
import { pointInTimePages, type Client } from '@portrait/runtime';
import type { TrainContext, Trained, Trainer } from './context';

const BEHAVIOUR = { bool: { must_not: [{ term: { type: 'user_attributes' } }] } };

/**
 * The end of the observed history: the newest behaviour event, or now if that is later. Data sets imported
 * from the past are labelled by their own clock, not by today's.
 */
async function historyEnd(es: Client, index: string, nowMs: number): Promise<number | undefined> {
  const res = await es.search({
    index,
    size: 0,
    query: BEHAVIOUR,
    aggs: { last: { max: { field: 'timestamp' } } },
    allow_no_indices: true,
    ignore_unavailable: true,
  });
  const last = (res.aggregations?.last as { value: number | null } | undefined)?.value;
  return last === null || last === undefined ? undefined : Math.min(nowMs, last);
}

/**
 * Replays every user's history from the events index, as of two cutoffs, into the labelled rows of
 * `TimeSplitRows` (one user in memory at a time: the walk is sorted by user, then time), fits the model on the
 * earlier cutoff, compares it with the recency baseline on the later one, and refits it there.
 */
async function train(target: PropensityTarget, context: TrainContext<'purchase' | 'churn'>): Promise<Trained> {
  const { deps, parameters, nowMs, progress } = context;
  const index = deps.names.events;
  await deps.es.indices.refresh({ index, allow_no_indices: true, ignore_unavailable: true });
  const end = await historyEnd(deps.es, index, nowMs);
  if (end === undefined)
    throw new ValidationError(`the events index ${index} holds no behaviour events yet: there is nothing to train on`, [
      { path: 'events', reason: 'empty; ingest events first' },
    ]);
  const horizonDays = parameters.horizonDays;
  const activeDays = 'activeDays' in parameters ? parameters.activeDays : undefined;
  const cutoffs = timeSplitCutoffs(end, horizonDays);
  const rows = new TimeSplitRows({ cutoffs, horizonDays, activeDays, profileOptions: deps.profileOptions });
  const query = { bool: { ...BEHAVIOUR.bool, filter: [{ range: { timestamp: { lte: new Date(end).toISOString() } } }] } };
  const total = (await deps.es.count({ index, query })).count;
  let read = 0;
  let user: string | undefined;
  let events: QueuedEvent[] = [];
  await progress({ phase: 'reading', rows: 0, total });
  const pages = pointInTimePages<EventDoc>(deps.es, {
    index,
    pageSize: deps.config.MODEL_PAGE_SIZE,
    query,
    sort: [{ userId: 'asc' }, { timestamp: 'asc' }],
  });
  for await (const hits of pages) {
    for (const hit of hits) {
      const doc = hit._source;
      if (!doc) continue;
      if (doc.userId !== user) {
        if (user !== undefined) rows.addUser(user, events);
        user = doc.userId;
        events = [];
      }
      const event = eventFromDoc(doc);
      if (event) events.push(event);
    }
    read += hits.length;
    await progress({ phase: 'reading', rows: read, total });
  }
  if (user !== undefined) rows.addUser(user, events);
  await progress({ phase: 'fitting', rows: read, total });
  const split = rows.result();
  const trained = trainTimeSplit(split, target, { l2: parameters.l2 });
  const { model } = trained;
  return {
    algorithm: 'logistic-regression',
    features: model.features,
    state: model,
    quality: { ...model.quality },
    training: {
      rows: model.quality.rows,
      source: 'events',
      from: new Date(cutoffs[0]).toISOString(),
      to: new Date(end).toISOString(),
    },
  };
}

export const trainPropensity =
  <K extends 'purchase' | 'churn'>(target: K): Trainer<K> =>
  (context) =>
    train(target, context as TrainContext<'purchase' | 'churn'>);
