/**
 * Relative-time segments move as time passes, with no event at all: the jobs process's periodic
 * reconciliation takes a profile out once its last visit falls outside "the last day".
 */
import type { Queue } from 'bullmq';
import type { IngestService } from '@portrait/ingest';
import type { QueryService } from '@portrait/query';
import type { SegmentChange } from '@portrait/shared';
import { createSegmentChangesQueue, type Redis } from '@portrait/runtime';
import { baseEnv, eventually, http, startStack, testPrefix, type Stack, namespaceOf } from '../support/stack';

const prefix = testPrefix('segtime');
const env = baseEnv(prefix, { SEGMENT_RECONCILE_EVERY_MS: '10000' });
const DAY = 86_400_000;
let redis: Redis;
let ing: IngestService;
let qry: QueryService;
let stack: Stack;
let changes: Queue<SegmentChange>;

beforeAll(async () => {
  stack = await startStack(prefix, env);
  ({ redis, ing, qry } = stack);
  changes = createSegmentChangesQueue(redis, await namespaceOf(stack.es, prefix));
});

afterAll(async () => {
  await changes?.close();
  await stack?.stop();
});

it('moves a profile out of "seen in the last day" once that day has passed, without any event', async () => {
  // Seen 1 day minus 12 seconds ago: in the segment now, out of it 12 seconds from now.
  const lastSeen = Date.now() - DAY + 12_000;
  const posted = await http('POST', `${ing.url}/v1/events`, {
    type: 'page_view',
    userId: 'fading',
    timestamp: new Date(lastSeen).toISOString(),
    category: ['Garden'],
  });
  expect(posted.status).toBe(202);
  await eventually(async () => (await http('GET', `${qry.url}/v1/users/fading/profile`)).status === 200, 20_000, 'profile folded');

  const definition = { field: 'behavior.lastSeen', op: 'range', last: { days: 1 } };
  await http('POST', `${qry.url}/v1/segments`, { segmentId: 'seen-today', name: 'Seen in the last day', definition });
  await eventually(
    async () => ((await http('GET', `${qry.url}/v1/users/fading/segments`)).body.materialized as string[]).includes('seen-today'),
    20_000,
    'entered by the backfill',
  );
  expect(Date.now()).toBeLessThan(lastSeen + DAY);

  // No event from here on: only time moves, and the periodic reconciliation follows it.
  const exit = await eventually(
    async () => {
      const jobs = await changes.getJobs(['waiting']);
      return jobs.map((j) => j.data).find((c) => c.userId === 'fading' && c.change === 'exited');
    },
    45_000,
    'exit published by the periodic reconciliation',
  );
  expect(Date.parse(exit.at)).toBeGreaterThanOrEqual(lastSeen + DAY);
  expect(exit).toMatchObject({ segmentId: 'seen-today', segmentVersion: 1 });
  expect((await http('GET', `${qry.url}/v1/users/fading/segments`)).body).toMatchObject({ segments: [], materialized: [] });
  expect((await http('GET', `${qry.url}/v1/segments/seen-today/count`)).body.count).toBe(0);
}, 90_000);
