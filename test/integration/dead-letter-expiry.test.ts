import { createDeadLetterQueue, type Redis } from '@portrait/runtime';
import { expireDeadLetters } from '@portrait/jobs';
import { redisClient, testPrefix } from '../support/stack';

/** Dead letters hold raw payloads, contact data included: the retention job deletes them after a while. */

const namespace = `${testPrefix('dlq-expiry')}:ns`;
let redis: Redis;

beforeAll(() => {
  redis = redisClient();
});

afterAll(async () => {
  const queue = createDeadLetterQueue(redis, namespace);
  await queue.obliterate({ force: true });
  await queue.close();
  await redis.quit();
});

it('deletes dead letters older than the retention and keeps the recent ones', async () => {
  const queue = createDeadLetterQueue(redis, namespace);
  const day = 86_400_000;
  const letter = (id: string) => ({
    stage: 'fold',
    reason: 'test',
    failedAt: new Date().toISOString(),
    events: [{ eventId: id, userId: 'u1', attributes: { email: 'jane@example.com' } }],
  });
  for (let i = 0; i < 3; i++)
    await queue.add('events', letter(`old-${i}`) as never, { jobId: `old-${i}`, timestamp: Date.now() - 20 * day });
  await queue.add('events', letter('recent') as never, { jobId: 'recent', timestamp: Date.now() - 2 * day });
  expect(await expireDeadLetters({ redis, namespace, retentionDays: 14 })).toBe(3);
  expect((await queue.getJobs(['wait'])).map((j) => j.id)).toEqual(['recent']);
  expect(await expireDeadLetters({ redis, namespace, retentionDays: 14 })).toBe(0);
  // The shared connection stays usable.
  expect(await redis.ping()).toBe('PONG');
  await queue.close();
});
