import { getRefId, zodToOpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { z } from 'zod';
import {
  AddToCartEvent,
  AttributesRequest,
  EventSchema,
  PageViewEvent,
  PurchaseEvent,
  RemoveFromCartEvent,
  ReviewEvent,
  SearchEvent,
  UserAttributes,
  UserAttributesEvent,
} from '../events';
import { ExportRequestSchema } from '../exports/request';
import { ItemBatchEntry, ItemSchema } from '../items';

/**
 * Names under `components.schemas` for the contract schemas defined outside `api/`. The generator's registry
 * attaches a name to the schema object itself (`.meta()` and `.openapi()` would make a copy), so the routes
 * keep validating with exactly the schema the document shows. Schemas written in `api/` name themselves
 * with `.meta({ id })`.
 */
const NAMES: [z.ZodType, string][] = [
  [EventSchema, 'Event'],
  [PageViewEvent, 'PageViewEvent'],
  [SearchEvent, 'SearchEvent'],
  [AddToCartEvent, 'AddToCartEvent'],
  [RemoveFromCartEvent, 'RemoveFromCartEvent'],
  [PurchaseEvent, 'PurchaseEvent'],
  [ReviewEvent, 'ReviewEvent'],
  [UserAttributesEvent, 'UserAttributesEvent'],
  [UserAttributes, 'UserAttributes'],
  [AttributesRequest, 'AttributesRequest'],
  [ItemSchema, 'Item'],
  [ItemBatchEntry, 'ItemBatchEntry'],
  [ExportRequestSchema, 'ExportRequest'],
];
for (const [schema, refId] of NAMES) {
  const known = zodToOpenAPIRegistry.get(schema);
  zodToOpenAPIRegistry.add(schema, { ...known, _internal: { ...known?._internal, refId } });
}

/** A `$ref` to a named schema, for metadata that points at a schema the handler applies itself (a batch's entries). */
export function componentRef(schema: z.ZodType): { $ref: string } {
  const id = getRefId(schema);
  if (id === undefined) throw new Error('componentRef: the schema has no name; give it one with .meta({ id }) or in NAMES');
  return { $ref: `#/components/schemas/${id}` };
}
