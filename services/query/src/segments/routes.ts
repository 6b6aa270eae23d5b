import { Router, type Request } from 'express';
import { z } from 'zod';
import {
  BREAKDOWNS,
  IdSchema,
  SegmentBody,
  SegmentPreviewBody,
  SegmentSampleQuery,
  SegmentUpdateBody,
  SegmentVersionParam,
  definitionOrThrow,
  parseOrThrow,
  segmentBreakdownQuery,
  type Breakdown,
} from '@portrait/shared';
import { jsonBody } from '@portrait/runtime';
import type { SegmentAnalytics } from './analytics';
import type { MembershipJobs } from './membership';
import type { SegmentStore } from './store';

const breakdownNames = Object.keys(BREAKDOWNS) as [Breakdown, ...Breakdown[]];
/** `?by&size` of the breakdown route, over the breakdowns analytics offers. */
export const BreakdownQuery = segmentBreakdownQuery(breakdownNames);

const parse = <S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> =>
  parseOrThrow(schema, value, where, where === 'query' ? ['query'] : []);

const id = (req: Request, name = 'id'): string => parseOrThrow(IdSchema, req.params[name], name, ['params', name]);

export function segmentRoutes(store: SegmentStore, analytics: SegmentAnalytics, membership: MembershipJobs): Router {
  const router = Router();
  const body = jsonBody('256kb');
  const current = async (segmentId: string) => {
    const segment = await store.get(segmentId);
    return { segment, definition: definitionOrThrow(segment.definition) };
  };

  router.post('/v1/segments/preview', ...body, async (req, res) => {
    const input = parse(SegmentPreviewBody, req.body, 'body');
    const definition = definitionOrThrow(input.definition);
    const others = input.overlapWith
      ? await Promise.all(
          input.overlapWith.map(async (segmentId) => {
            const other = await current(segmentId);
            return { segmentId, version: other.segment.version, definition: other.definition };
          }),
        )
      : undefined;
    res.json(
      await analytics.preview(definition, { sampleSize: input.sampleSize, by: input.by, breakdownSize: input.breakdownSize, others }),
    );
  });

  router.post('/v1/segments', ...body, async (req, res) => {
    const input = parse(SegmentBody, req.body, 'body');
    definitionOrThrow(input.definition);
    const segment = await store.create(input);
    res.status(201).json({ ...segment, membership: { backfillJobId: await membership.changed(segment) } });
  });

  router.get('/v1/segments', async (_req, res) => {
    res.json({ segments: await store.list() });
  });

  router.get('/v1/segments/:id', async (req, res) => {
    res.json(await store.get(id(req)));
  });

  router.get('/v1/segments/:id/versions/:version', async (req, res) => {
    const version = parseOrThrow(SegmentVersionParam, req.params.version, 'version', ['params', 'version']);
    res.json(await store.version(id(req), version));
  });

  router.put('/v1/segments/:id', ...body, async (req, res) => {
    const input = parse(SegmentUpdateBody, req.body, 'body');
    definitionOrThrow(input.definition);
    const segment = await store.update(id(req), input);
    // Queued for every save: a retried PUT after a Redis hiccup still starts the backfill (one per version).
    res.json({ ...segment, membership: { backfillJobId: await membership.changed(segment) } });
  });

  router.delete('/v1/segments/:id', async (req, res) => {
    await store.delete(id(req));
    await membership.changed(await store.get(id(req), true));
    res.status(204).end();
  });

  router.get('/v1/segments/:id/count', async (req, res) => {
    const { segment, definition } = await current(id(req));
    res.json({ segmentId: segment.segmentId, version: segment.version, count: await analytics.count(definition) });
  });

  router.get('/v1/segments/:id/membership', async (req, res) => {
    res.json(await membership.status(await store.get(id(req))));
  });

  router.get('/v1/segments/:id/sample', async (req, res) => {
    const { size } = parse(SegmentSampleQuery, req.query, 'query');
    const { segment, definition } = await current(id(req));
    res.json({ segmentId: segment.segmentId, version: segment.version, ...(await analytics.sample(definition, size)) });
  });

  router.get('/v1/segments/:id/breakdown', async (req, res) => {
    const { by, size } = parse(BreakdownQuery, req.query, 'query');
    const { segment, definition } = await current(id(req));
    res.json({ segmentId: segment.segmentId, version: segment.version, ...(await analytics.breakdown(definition, by, size)) });
  });

  router.get('/v1/segments/:id/overlap/:other', async (req, res) => {
    // Both ids parsed before either lookup starts: a bad second id must not orphan the first lookup's rejection.
    const [idA, idB] = [id(req), id(req, 'other')];
    const [a, b] = await Promise.all([current(idA), current(idB)]);
    res.json({ a: a.segment.segmentId, b: b.segment.segmentId, ...(await analytics.overlap(a.definition, b.definition)) });
  });

  router.get('/v1/users/:id/segments', async (req, res) => {
    res.json({ userId: id(req), ...(await analytics.segmentsOf(id(req), await store.list())) });
  });

  return router;
}
