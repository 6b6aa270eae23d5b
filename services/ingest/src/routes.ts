import { Router, type Request } from 'express';
import {
  EventBatchBody,
  IdSchema,
  ItemBatchBody,
  ValidationError,
  checkEvent,
  checkItem,
  eventSchemas,
  parseOrThrow,
  type EventRules,
  type EventBatchAnswerShape,
  type IncomingEvent,
  type QueuedItem,
  type TimeBounds,
} from '@portrait/shared';
import { jsonBody, Counter, type Registry } from '@portrait/runtime';
import type { Intake } from './intake';

export interface RouteOptions {
  intake: Intake;
  registry: Registry;
  bodyLimit: string;
  timeBounds: TimeBounds;
  /** Completes phone numbers sent without a country code (`INGEST_DEFAULT_CALLING_CODE`); unset, they are refused. */
  defaultCallingCode?: string;
  now?: () => number;
}

type BatchResult = EventBatchAnswerShape['results'][number];

const pathId = (req: Request, what: string): string => parseOrThrow(IdSchema, req.params.id, `${what} id`, ['params', 'id']);

export function ingestRoutes(options: RouteOptions): Router {
  const { intake } = options;
  const now = options.now ?? Date.now;
  const rules: EventRules = { ...options.timeBounds, defaultCallingCode: options.defaultCallingCode };
  const { AttributesRequest } = eventSchemas(rules);
  const events = new Counter({
    name: 'portrait_ingest_events_total',
    help: 'Events received, by outcome',
    labelNames: ['outcome'],
    registers: [options.registry],
  });
  const router = Router();
  const small = jsonBody('256kb');
  const large = jsonBody(options.bodyLimit);

  router.post('/v1/events', ...small, async (req, res) => {
    const received = now();
    const checked = checkEvent(req.body, received, rules);
    if (!checked.ok) {
      events.inc({ outcome: 'rejected' });
      throw new ValidationError('invalid event', checked.issues);
    }
    const [outcome] = await intake.submitEvents([checked.value], received);
    events.inc({ outcome: outcome!.status });
    res.status(outcome!.status === 'accepted' ? 202 : 200).json(outcome);
  });

  router.post('/v1/events/batch', ...large, async (req, res) => {
    const received = now();
    const body = parseOrThrow(EventBatchBody, req.body, 'batch');
    const results: BatchResult[] = [];
    const valid: { index: number; event: IncomingEvent }[] = [];
    body.events.forEach((raw, index) => {
      const checked = checkEvent(raw, received, rules, ['events', index]);
      if (checked.ok) valid.push({ index, event: checked.value });
      else results.push({ index, status: 'rejected', issues: checked.issues });
    });
    const outcomes = await intake.submitEvents(
      valid.map((v) => v.event),
      received,
    );
    outcomes.forEach((outcome, i) => results.push({ index: valid[i]!.index, ...outcome }));
    results.sort((a, b) => a.index - b.index);
    const count = (status: BatchResult['status']) => results.filter((r) => r.status === status).length;
    const summary = { accepted: count('accepted'), duplicate: count('duplicate'), erased: count('erased'), rejected: count('rejected') };
    for (const [outcome, n] of Object.entries(summary)) events.inc({ outcome }, n);
    // Nothing usable at all is a client error; otherwise the per-event results tell what to resend.
    res
      .status(valid.length === 0 ? 400 : 202)
      .json(
        valid.length === 0
          ? { error: 'validation_failed', message: 'no event in the batch is valid', ...summary, results }
          : { ...summary, results },
      );
  });

  router.put('/v1/users/:id/attributes', ...small, async (req, res) => {
    const received = now();
    const userId = pathId(req, 'user');
    const body = parseOrThrow(AttributesRequest, req.body, 'attribute update');
    const event = {
      type: 'user_attributes' as const,
      userId,
      eventId: body.eventId,
      timestamp: body.timestamp ?? new Date(received).toISOString(),
      attributes: body.attributes,
    };
    const checked = checkEvent(event, received, rules);
    if (!checked.ok) throw new ValidationError('invalid attribute update', checked.issues);
    const [outcome] = await intake.submitEvents([checked.value], received);
    events.inc({ outcome: outcome!.status });
    res.status(outcome!.status === 'accepted' ? 202 : 200).json(outcome);
  });

  router.put('/v1/items/:id', ...small, async (req, res) => {
    const itemId = pathId(req, 'item');
    const checked = checkItem(req.body, itemId, now(), options.timeBounds);
    if (!checked.ok) throw new ValidationError('invalid item', checked.issues);
    await intake.submitItems([checked.value]);
    res.status(202).json({ itemId, status: 'accepted', version: checked.value.version });
  });

  router.post('/v1/items/batch', ...large, async (req, res) => {
    const received = now();
    const body = parseOrThrow(ItemBatchBody, req.body, 'item batch');
    const accepted: QueuedItem[] = [];
    const results = body.items.map((raw, index) => {
      const checked = checkItem(raw, undefined, received, options.timeBounds, ['items', index]);
      if (!checked.ok) return { index, status: 'rejected' as const, issues: checked.issues };
      accepted.push(checked.value);
      return { index, status: 'accepted' as const, itemId: checked.value.itemId };
    });
    await intake.submitItems(accepted);
    const summary = { accepted: accepted.length, rejected: results.length - accepted.length, results };
    res
      .status(accepted.length === 0 ? 400 : 202)
      .json(accepted.length === 0 ? { error: 'validation_failed', message: 'no item in the batch is valid', ...summary } : summary);
  });

  return router;
}
