import { buildOpenApiDocument, INGEST_API, HEALTH_ROUTES, ItemBatchEntry } from '@portrait/shared';
import { getRefId } from '@asteasolutions/zod-to-openapi';
import { QUERY_API } from '../services/query/src/api';
console.error(getRefId(ItemBatchEntry));
const which = process.argv[2] === 'query' ? QUERY_API : INGEST_API;
const d = buildOpenApiDocument({ ...which, routes: [...HEALTH_ROUTES, ...which.routes] });
console.log(JSON.stringify(d, null, 1));
