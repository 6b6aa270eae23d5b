import { z } from 'zod';
import { CONSENT_CHANNELS, type ConsentChannel } from './consent-channels';
import { CALLING_CODE, checkEmail, checkPhone, type Normalized } from './identifiers';
import { Limits } from './limits';
import { STRATEGIES } from './recommend/strategies';

/** Client-chosen identifiers: printable, no whitespace, bounded. */
export const IdSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(Limits.maxIdLength, `must be at most ${Limits.maxIdLength} characters`)
  .regex(/^[A-Za-z0-9._:@-]+$/, 'may contain only letters, digits and . _ : @ -')
  .refine((id) => id !== '__proto__', 'is reserved');

/** Names that become object keys in the profile state (categories, brands, payment methods). */
export const KeyName = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => s !== '__proto__', 'is reserved');

/**
 * An ISO 8601 date-time, normalized to UTC with millisecond precision (`2026-11-23T10:15:00.000Z`): what
 * Elasticsearch's `date` accepts whatever offset (it refuses beyond ±18:00) or fraction digits were sent.
 */
export const TimestampSchema = z.iso
  .datetime({ offset: true, message: 'must be an ISO 8601 date-time, e.g. 2026-11-23T10:15:00Z' })
  .transform((text) => new Date(Date.parse(text)).toISOString());

const Money = z.number().finite().nonnegative().max(1e9);
const Currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR');
const CategoryPath = z.array(KeyName(100)).min(1).max(Limits.maxCategoryDepth);
const Brand = KeyName(100);
const Quantity = z.number().int().min(1).max(10_000);

/** Optional item facts an event may carry inline; missing ones are looked up in the catalogue. */
const ItemFacts = {
  itemId: IdSchema,
  category: CategoryPath.optional(),
  brand: Brand.optional(),
  price: Money.optional(),
};

const Common = {
  /** Client-given idempotency key; assigned by ingest when absent. */
  eventId: IdSchema.optional(),
  userId: IdSchema,
  timestamp: TimestampSchema,
  sessionId: IdSchema.optional(),
  channel: z.enum(['web', 'app', 'store', 'other']).optional(),
};

export const PageViewEvent = z.strictObject({
  ...Common,
  type: z.literal('page_view'),
  itemId: IdSchema.optional(),
  category: CategoryPath.optional(),
  brand: Brand.optional(),
  price: Money.optional(),
  url: z.string().max(2048).optional(),
});

export const SearchEvent = z.strictObject({
  ...Common,
  type: z.literal('search'),
  query: z.string().trim().min(1, 'must not be blank').max(Limits.maxQueryLength),
  resultsCount: z.number().int().nonnegative().max(Limits.maxInteger).optional(),
});

export const AddToCartEvent = z.strictObject({
  ...Common,
  type: z.literal('add_to_cart'),
  ...ItemFacts,
  quantity: Quantity.default(1),
});

export const RemoveFromCartEvent = z.strictObject({
  ...Common,
  type: z.literal('remove_from_cart'),
  ...ItemFacts,
  quantity: Quantity.default(1),
});

export const OrderLine = z.strictObject({
  ...ItemFacts,
  quantity: Quantity,
  unitPrice: Money,
});

export const PurchaseEvent = z.strictObject({
  ...Common,
  type: z.literal('purchase'),
  order: z.strictObject({
    orderId: IdSchema,
    lines: z.array(OrderLine).min(1, 'an order needs at least one line').max(Limits.maxOrderLines),
    amount: Money,
    currency: Currency,
    paymentMethod: KeyName(50),
  }),
});

export const ReviewEvent = z.strictObject({
  ...Common,
  type: z.literal('review'),
  itemId: IdSchema,
  rating: z.number().int().min(1).max(5),
  text: z.string().max(Limits.maxReviewText).optional(),
});

/**
 * Recommendation feedback: the shop reports each item it showed (an impression) and each one the shopper opened (a
 * click), with the request id, strategy and 1-based position the recommendation endpoint returned. One event per
 * item, so click-through rates can be read per strategy and position from the event history.
 */
const Feedback = {
  ...Common,
  itemId: IdSchema,
  requestId: IdSchema,
  strategy: z.enum(STRATEGIES),
  position: z.number().int().min(1).max(Limits.maxRecommendations),
};

export const RecommendationImpressionEvent = z.strictObject({ ...Feedback, type: z.literal('recommendation_impression') });
export const RecommendationClickEvent = z.strictObject({ ...Feedback, type: z.literal('recommendation_click') });

type ConsentShape = Record<ConsentChannel, z.ZodOptional<z.ZodBoolean>>;

export const Gender = z.enum(['female', 'male', 'other', 'unknown']);

/** How contact data is read at intake: `defaultCallingCode` completes national phone numbers (`0170 …`). */
export interface ContactRules {
  defaultCallingCode?: string;
}

/** A string normalized by `check` from `identifiers`; what cannot be normalized is an issue with the reason. */
const normalized = (maxLength: number, check: (raw: string) => Normalized) =>
  z
    .string()
    .max(maxLength)
    .transform((raw, ctx) => {
      const result = check(raw);
      if (!result.ok) ctx.addIssue({ code: 'custom', message: result.reason });
      return result.ok ? result.value : z.NEVER;
    });

/** Attribute changes; every field optional, `null` clears a value. */
const userAttributes = (rules: ContactRules) =>
  z
    .strictObject({
      gender: Gender.nullable(),
      birthYear: z.number().int().min(1900).max(2100).nullable(),
      occupation: z.string().min(1).max(100).nullable(),
      region: z.string().min(1).max(100).nullable(),
      city: z.string().min(1).max(100).nullable(),
      signupDate: TimestampSchema.nullable(),
      email: normalized(1024, checkEmail).nullable(),
      phone: normalized(64, (raw) => checkPhone(raw, rules.defaultCallingCode)).nullable(),
      consents: z.strictObject(Object.fromEntries(CONSENT_CHANNELS.map((c) => [c, z.boolean().optional()])) as ConsentShape),
    })
    .partial()
    .refine((a) => Object.keys(a).length > 0, 'at least one attribute is required');

function buildEventSchemas(rules: ContactRules) {
  const UserAttributes = userAttributes(rules);
  const UserAttributesEvent = z.strictObject({
    ...Common,
    type: z.literal('user_attributes'),
    attributes: UserAttributes,
  });
  return {
    UserAttributes,
    UserAttributesEvent,
    /** Every event a client may send. */
    EventSchema: z.discriminatedUnion('type', [
      PageViewEvent,
      SearchEvent,
      AddToCartEvent,
      RemoveFromCartEvent,
      PurchaseEvent,
      ReviewEvent,
      RecommendationImpressionEvent,
      RecommendationClickEvent,
      UserAttributesEvent,
    ]),
    /** Body of PUT /v1/users/:id/attributes. */
    AttributesRequest: z.strictObject({
      eventId: IdSchema.optional(),
      timestamp: TimestampSchema.optional(),
      attributes: UserAttributes,
    }),
  };
}

export type EventSchemas = ReturnType<typeof buildEventSchemas>;

/** Without a default calling code a phone must carry its own (queued ones are E.164 already). */
const withoutCallingCode = buildEventSchemas({});
export const { UserAttributes, UserAttributesEvent, EventSchema, AttributesRequest } = withoutCallingCode;

const schemasByCallingCode = new Map<string, EventSchemas>();

/** The event schemas under `rules`, built once per calling code (an invalid code counts as none, as in `checkPhone`). */
export function eventSchemas(rules: ContactRules = {}): EventSchemas {
  const code = rules.defaultCallingCode;
  if (code === undefined || !CALLING_CODE.test(code)) return withoutCallingCode;
  let schemas = schemasByCallingCode.get(code);
  if (schemas === undefined) {
    schemas = buildEventSchemas({ defaultCallingCode: code });
    schemasByCallingCode.set(code, schemas);
  }
  return schemas;
}

export type IncomingEvent = z.infer<typeof EventSchema>;
export type EventType = IncomingEvent['type'];
export type UserAttributesInput = z.infer<typeof UserAttributes>;

export const BEHAVIOUR_TYPES = ['page_view', 'search', 'add_to_cart', 'remove_from_cart', 'purchase', 'review'] as const;
export type BehaviourType = (typeof BEHAVIOUR_TYPES)[number];

/** What the shop reports about the recommendations it showed: kept apart from the shopper's own behaviour counts. */
export const FEEDBACK_TYPES = ['recommendation_impression', 'recommendation_click'] as const;
export type FeedbackType = (typeof FEEDBACK_TYPES)[number];

/** An event as queued by ingest: id assigned, receive time stamped, timestamps as epoch ms. */
export type QueuedEvent = IncomingEvent & {
  eventId: string;
  /** Epoch ms when ingest accepted the event. */
  receivedAt: number;
};

/** The queued-event schema the indexer re-validates job payloads with. */
export const QueuedEventSchema = z.intersection(EventSchema, z.object({ eventId: IdSchema, receivedAt: z.number().int().positive() }));
