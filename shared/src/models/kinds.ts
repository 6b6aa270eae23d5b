/**
 * The kinds of model Portrait trains. Every kind is trained by a job, stored as numbered versions in
 * `<prefix>-models`, and promoted explicitly: one version per kind is active. The scored kinds are applied to
 * each profile as it is written; `rules` is served by the query service.
 */
export const SCORED_MODEL_KINDS = ['rfm', 'clusters', 'purchase', 'churn', 'risk'] as const;
export type ScoredModelKind = (typeof SCORED_MODEL_KINDS)[number];

/** Served by the query service: association rules, and the two recommendation models. */
export const SERVED_MODEL_KINDS = ['rules', 'content', 'collaborative'] as const;
export type ServedModelKind = (typeof SERVED_MODEL_KINDS)[number];

export const MODEL_KINDS = [...SCORED_MODEL_KINDS, ...SERVED_MODEL_KINDS] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** What each kind is, for the API document and the CLI. */
export const MODEL_KIND_DESCRIPTIONS: Readonly<Record<ModelKind, string>> = {
  rfm: 'Recency, frequency and monetary quintile boundaries: RFM scores, code, group and value tier',
  clusters: 'k-means on standardized behaviour features, k chosen by silhouette, clusters named after their centroids',
  purchase: 'Logistic regression: will the profile buy in the next 30 days',
  churn: 'Logistic regression: will an active profile show no activity in the next 30 days',
  risk: 'Population thresholds of abuse signals (review bursts, copy-paste reviews, order velocity...) and an anomaly reference',
  rules: 'FP-Growth association rules over purchase baskets, at item and category level',
  content: 'TF-IDF over item title, description, category path, brand, tags and price band, randomly projected: item content vectors',
  collaborative: 'Implicit-feedback ALS factors for users and items, and item co-occurrence neighbours, from weighted interactions',
};

export function isModelKind(value: string): value is ModelKind {
  return (MODEL_KINDS as readonly string[]).includes(value);
}

export function isScoredKind(kind: ModelKind): kind is ScoredModelKind {
  return (SCORED_MODEL_KINDS as readonly string[]).includes(kind);
}

/** A model version's id in the models index. */
export function modelId(kind: ModelKind, version: number): string {
  return `${kind}-v${version}`;
}
