import { UnrecoverableError, type Job } from 'bullmq';
import fc from 'fast-check';
import { dispatch, handlers, jobsMetrics, kindOf, loadJobsConfig, type Handlers, type JobsDeps } from '@portrait/jobs';
import { IdSchema, JOBS, type JobKind } from '@portrait/shared';
import { Registry } from '@portrait/runtime';

const KINDS = Object.keys(JOBS) as JobKind[];

function fakeJob(name: string, data: unknown): Job {
  return { id: '1', name, data } as unknown as Job;
}

/** Handlers that record what they were given instead of doing the work. */
function recording(): { handlers: Handlers; calls: { kind: JobKind; data: unknown }[] } {
  const calls: { kind: JobKind; data: unknown }[] = [];
  const entries = Object.fromEntries(
    KINDS.map((kind) => [kind, { run: async ({ data }: { data: unknown }) => calls.push({ kind, data }) }]),
  ) as unknown as Handlers;
  return { handlers: entries, calls };
}

function context(h: Handlers) {
  const deps = { metrics: jobsMetrics(new Registry()) } as unknown as JobsDeps;
  return { handlers: h, deps, stopping: () => false };
}

describe('the job registry', () => {
  it('maps every job name on its queue back to one kind, and every kind has a handler', () => {
    for (const kind of KINDS) {
      expect(kindOf(JOBS[kind].queue, JOBS[kind].name)).toBe(kind);
      expect(typeof handlers[kind].run).toBe('function');
    }
    const names = KINDS.map((kind) => `${JOBS[kind].queue}/${JOBS[kind].name}`);
    expect(new Set(names).size).toBe(names.length);
    expect(kindOf('exports', JOBS.refresh.name)).toBeUndefined();
  });

  it('schedules the periodic jobs with an empty payload, at the intervals the configuration gives', () => {
    const config = loadJobsConfig({
      REFRESH_EVERY_MS: '60000',
      SEGMENT_RECONCILE_EVERY_MS: '30000',
      SEGMENT_SNAPSHOT_EVERY_MS: '120000',
      EXPORT_SWEEP_EVERY_MS: '5000',
      MODEL_TRAIN_EVERY_MS: '3600000',
    });
    const scheduled = Object.fromEntries(
      KINDS.flatMap((kind) => {
        const every = (handlers[kind] as { every?: (c: typeof config) => number }).every;
        return every ? [[kind, every(config)]] : [];
      }),
    );
    expect(scheduled).toEqual({
      refresh: 60_000,
      retention: 86_400_000,
      segmentReconcile: 30_000,
      segmentSnapshot: 120_000,
      exportSweep: 5000,
      modelRetrain: 3_600_000,
    });
    for (const kind of Object.keys(scheduled) as JobKind[]) expect(JOBS[kind].payload.safeParse({}).success).toBe(true);
  });
});

describe('dispatch', () => {
  it('hands the handler the payload parsed with its schema', async () => {
    const { handlers: h, calls } = recording();
    await dispatch('maintenance', fakeJob(JOBS.segmentBackfill.name, { segmentId: 'vip' }), undefined, context(h));
    await dispatch('exports', fakeJob(JOBS.exportSweep.name, {}), undefined, context(h));
    expect(calls).toEqual([
      { kind: 'segmentBackfill', data: { segmentId: 'vip' } },
      { kind: 'exportSweep', data: {} },
    ]);
  });

  it('fails a job for good when its name has no handler on that queue', async () => {
    const { handlers: h, calls } = recording();
    await expect(dispatch('exports', fakeJob(JOBS.refresh.name, {}), undefined, context(h))).rejects.toThrow(
      new UnrecoverableError('no handler for job refresh-profiles on the exports queue'),
    );
    expect(calls).toEqual([]);
  });

  it('runs the handler only with a valid payload and fails every other payload for good, whatever it is', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.anything(), fc.record({ exportId: fc.string() }), fc.record({ exportId: fc.string(), x: fc.anything() })),
        async (data) => {
          const { handlers: h, calls } = recording();
          const valid =
            IdSchema.safeParse((data as { exportId?: unknown } | null)?.exportId).success && Object.keys(data as object).length === 1;
          try {
            await dispatch('exports', fakeJob(JOBS.exportRun.name, data), undefined, context(h));
            expect(valid).toBe(true);
            expect(calls).toEqual([{ kind: 'exportRun', data }]);
          } catch (error) {
            expect(error).toBeInstanceOf(UnrecoverableError);
            expect((error as Error).message).toContain('has an invalid payload');
            expect(valid).toBe(false);
            expect(calls).toEqual([]);
          }
        },
      ),
    );
  });
});
