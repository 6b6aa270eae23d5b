/** Hard limits of the ingest API, shared by schemas, services and docs. */
export const Limits = {
  maxIdLength: 128,
  maxBatchEvents: 1000,
  maxBatchItems: 1000,
  maxOrderLines: 200,
  maxQueryLength: 256,
  maxReviewText: 5000,
  maxCategoryDepth: 6,
  maxTags: 50,
  /** Most items one recommendation request returns (`k`), hence the largest feedback position. */
  maxRecommendations: 100,
  /** Largest value of an Elasticsearch `integer` field. */
  maxInteger: 2_147_483_647,
} as const;
