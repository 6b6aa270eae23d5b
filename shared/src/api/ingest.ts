import { z } from 'zod';
import { AttributesRequest, EventSchema, IdSchema } from '../events';
import { ItemBatchEntry, ItemSchema } from '../items';
import { Limits } from '../limits';
import { ErrorBody, IssueSchema } from './error-body';
import { componentRef } from './components';
import { json, type ApiDescription, type ApiRoute } from './route';

/** The ingest service's HTTP contract. */

/** `POST /v1/events/batch`: each event is checked on its own (`checkEvent`), so one bad event rejects only itself. */
export const EventBatchBody = z.strictObject({
  events: z
    .array(z.unknown())
    .min(1, 'send at least one event')
    .max(Limits.maxBatchEvents, `at most ${Limits.maxBatchEvents} events per batch; split larger batches`)
    .meta({ items: componentRef(EventSchema), description: `Events (at most ${Limits.maxBatchEvents}), each checked on its own` }),
});

/** `POST /v1/items/batch`: each item is checked on its own (`checkItem`). */
export const ItemBatchBody = z.strictObject({
  items: z
    .array(z.unknown())
    .min(1, 'send at least one item')
    .max(Limits.maxBatchItems, `at most ${Limits.maxBatchItems} items per batch`)
    .meta({ items: componentRef(ItemBatchEntry), description: `Items (at most ${Limits.maxBatchItems}), each checked on its own` }),
});

export const EventOutcomeSchema = z
  .object({
    eventId: z.string().meta({ description: "The client's id, or `h-` and 32 hex digits derived from the event's content" }),
    status: z.enum(['accepted', 'duplicate', 'erased']).meta({
      description: '`erased`: the user was erased (`DELETE /v1/users/:id`), so the event is dropped, not stored',
    }),
  })
  .meta({ id: 'EventOutcome' });

const Rejected = z.object({ index: z.number().int(), status: z.literal('rejected'), issues: z.array(IssueSchema) });
const Counts = { accepted: z.number().int(), duplicate: z.number().int(), erased: z.number().int(), rejected: z.number().int() };

export const EventBatchAnswer = z
  .object({
    ...Counts,
    results: z.array(z.union([z.object({ index: z.number().int(), ...EventOutcomeSchema.shape }), Rejected])).meta({
      description: 'One per event, in the order sent',
    }),
  })
  .meta({ id: 'EventBatchAnswer' });
export type EventBatchAnswerShape = z.infer<typeof EventBatchAnswer>;

export const ItemAcceptedSchema = z
  .object({
    itemId: IdSchema,
    status: z.literal('accepted'),
    version: z
      .number()
      .int()
      .meta({ description: '`updatedAt` (or the receive time) in epoch ms: an older version never overwrites a newer one' }),
  })
  .meta({ id: 'ItemAccepted' });

export const ItemBatchAnswer = z
  .object({
    accepted: z.number().int(),
    rejected: z.number().int(),
    results: z.array(z.union([z.object({ index: z.number().int(), status: z.literal('accepted'), itemId: IdSchema }), Rejected])),
  })
  .meta({ id: 'ItemBatchAnswer' });

/** A batch with nothing valid in it: the error body with the per-entry results. */
const refused = <S extends z.ZodObject>(answer: S, id: string) => ErrorBody.safeExtend(answer.shape).meta({ id });
const EventBatchRefused = refused(EventBatchAnswer, 'EventBatchRefused');
const ItemBatchRefused = refused(ItemBatchAnswer, 'ItemBatchRefused');

const UserParams = z.object({ id: IdSchema.meta({ description: 'The user id' }) });
const ItemParams = z.object({ id: IdSchema.meta({ description: 'The item id' }) });

const purchase = {
  type: 'purchase',
  userId: 'alice',
  timestamp: '2026-11-23T10:05:00Z',
  order: { orderId: 'o-1', amount: 59, currency: 'EUR', paymentMethod: 'card', lines: [{ itemId: 'sku-1', quantity: 1, unitPrice: 59 }] },
};
const pageView = { type: 'page_view', userId: 'alice', timestamp: '2026-11-23T10:01:00Z', itemId: 'sku-1', eventId: 'e-1' };
const item = { title: 'Margarine 500 g', category: ['food', 'spreads'], brand: 'Flora', price: 2.49, currency: 'EUR' };
const INGEST_ERRORS = [400, 413, 415, 429, 503] as const;

export const INGEST_ROUTES: readonly ApiRoute[] = [
  {
    method: 'post',
    path: '/v1/events',
    tag: 'events',
    scope: 'ingest',
    summary: 'Send one event',
    description:
      'Queued in Redis before the answer (`202`). An event id already queued within the dedup window answers `200` as a ' +
      'duplicate and is not queued again; an event without an id gets one derived from its content, so a retried request counts once.',
    request: {
      body: {
        content: json(EventSchema, {
          purchase: { summary: 'A purchase', value: purchase },
          pageView: { summary: 'A product page view with its own id', value: pageView },
          search: {
            summary: 'A search',
            value: { type: 'search', userId: 'alice', timestamp: '2026-11-23T10:00:00Z', query: 'margarine' },
          },
        }),
      },
    },
    responses: {
      202: {
        description: 'Queued',
        content: json(EventOutcomeSchema, { accepted: { summary: 'Queued', value: { eventId: 'e-1', status: 'accepted' } } }),
      },
      200: {
        description: 'Already queued, or the user was erased: not queued',
        content: json(EventOutcomeSchema, {
          duplicate: { summary: 'A re-send', value: { eventId: 'e-1', status: 'duplicate' } },
          erased: { summary: 'An erased user', value: { eventId: 'e-2', status: 'erased' } },
        }),
      },
    },
    errors: INGEST_ERRORS,
  },
  {
    method: 'post',
    path: '/v1/events/batch',
    tag: 'events',
    scope: 'ingest',
    summary: `Send up to ${Limits.maxBatchEvents} events`,
    description:
      'Each event is checked on its own: the valid ones are queued, the others rejected with their issues (paths under `events.<index>`).',
    request: {
      body: {
        content: json(EventBatchBody, { two: { summary: 'Two events', value: { events: [pageView, purchase] } } }),
      },
    },
    responses: {
      202: {
        description: 'The valid events are queued; `results` tells what to resend',
        content: json(EventBatchAnswer, {
          mixed: {
            summary: 'One queued, one rejected',
            value: {
              accepted: 1,
              duplicate: 0,
              erased: 0,
              rejected: 1,
              results: [
                { index: 0, status: 'accepted', eventId: 'e-1' },
                {
                  index: 1,
                  status: 'rejected',
                  issues: [{ path: 'events.1.order.currency', reason: 'must be an ISO 4217 code such as EUR' }],
                },
              ],
            },
          },
        }),
      },
      400: {
        description: 'Not one event is valid (with the per-event results), or the body is not a batch',
        content: json(z.union([EventBatchRefused, ErrorBody]), {
          noneValid: {
            summary: 'Nothing valid',
            value: {
              error: 'validation_failed',
              message: 'no event in the batch is valid',
              accepted: 0,
              duplicate: 0,
              erased: 0,
              rejected: 1,
              results: [
                {
                  index: 0,
                  status: 'rejected',
                  issues: [{ path: 'events.0.userId', reason: 'Invalid input: expected string, received undefined' }],
                },
              ],
            },
          },
        }),
      },
    },
    errors: [413, 415, 429, 503],
    schemas: [EventSchema],
  },
  {
    method: 'put',
    path: '/v1/users/:id/attributes',
    tag: 'events',
    scope: 'ingest',
    summary: "Change a user's attributes",
    description: 'Queued as a `user_attributes` event; `null` clears an attribute. E-mail and phone are normalized (phones to E.164).',
    request: {
      params: UserParams,
      body: {
        content: json(AttributesRequest, {
          consent: {
            summary: 'Region, phone and consents',
            value: { attributes: { region: 'Bavaria', phone: '+49 (0)170 123-4567', consents: { email: true, sms: false } } },
          },
          clear: { summary: 'Clear the city', value: { attributes: { city: null }, eventId: 'attr-7' } },
        }),
      },
    },
    responses: {
      202: {
        description: 'Queued',
        content: json(EventOutcomeSchema, { accepted: { summary: 'Queued', value: { eventId: 'attr-7', status: 'accepted' } } }),
      },
      200: { description: 'Already queued, or the user was erased: not queued', content: json(EventOutcomeSchema) },
    },
    errors: INGEST_ERRORS,
  },
  {
    method: 'put',
    path: '/v1/items/:id',
    tag: 'items',
    scope: 'ingest',
    summary: 'Create or replace a catalogue item',
    description: 'Item facts fill in what events about the item leave out. A write older than the stored `updatedAt` is ignored.',
    request: { params: ItemParams, body: { content: json(ItemSchema, { spread: { summary: 'An item', value: item } }) } },
    responses: {
      202: {
        description: 'Queued',
        content: json(ItemAcceptedSchema, {
          accepted: { summary: 'Queued', value: { itemId: 'sku-1', status: 'accepted', version: 1795428300000 } },
        }),
      },
    },
    errors: INGEST_ERRORS,
  },
  {
    method: 'post',
    path: '/v1/items/batch',
    tag: 'items',
    scope: 'ingest',
    summary: `Create or replace up to ${Limits.maxBatchItems} items`,
    request: {
      body: { content: json(ItemBatchBody, { one: { summary: 'One item', value: { items: [{ itemId: 'sku-1', ...item }] } } }) },
    },
    responses: {
      202: {
        description: 'The valid items are queued',
        content: json(ItemBatchAnswer, {
          queued: { summary: 'Queued', value: { accepted: 1, rejected: 0, results: [{ index: 0, status: 'accepted', itemId: 'sku-1' }] } },
        }),
      },
      400: {
        description: 'Not one item is valid (with the per-item results), or the body is not a batch',
        content: json(z.union([ItemBatchRefused, ErrorBody]), {
          noneValid: {
            summary: 'Nothing valid',
            value: {
              error: 'validation_failed',
              message: 'no item in the batch is valid',
              accepted: 0,
              rejected: 1,
              results: [{ index: 0, status: 'rejected', issues: [{ path: 'items.0.itemId', reason: 'is required' }] }],
            },
          },
        }),
      },
    },
    errors: [413, 415, 429, 503],
    schemas: [ItemBatchEntry],
  },
];

export const INGEST_API: ApiDescription = {
  title: 'Portrait ingest',
  description: 'Shopper behaviour and catalogue items in: validated, given ids, deduplicated and queued for the indexer.',
  routes: INGEST_ROUTES,
};
