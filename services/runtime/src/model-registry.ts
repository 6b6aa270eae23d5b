import { modelsGenerationKey, NO_MODELS, prepareModels, type PreparedModels } from '@portrait/shared';
import { GenerationCache } from './generation-cache';
import type { Logger } from './logger';
import type { ModelStore } from './model-store';
import type { Redis } from './redis';

/** What profile writers need to score profiles: the active models as of now. */
export interface Scoring {
  models(): Promise<PreparedModels>;
}

/** Scores nothing: for writers of data sets where no model applies. */
export const NO_SCORING: Scoring = { models: async () => NO_MODELS };

/**
 * The active models, cached per process and reloaded when a promotion bumps the generation counter (one GET
 * per write), so the indexer scores with a promoted version from its next write. An active version that can
 * no longer be used (malformed, or reading features profiles do not have) is logged once per load and left
 * out: the fields it wrote stay as they are.
 */
export class ModelRegistry implements Scoring {
  private readonly cache: GenerationCache<PreparedModels>;

  constructor(store: ModelStore, redis: Redis, namespace: string, logger: Logger, maxAgeMs = 60_000) {
    this.cache = new GenerationCache(
      redis,
      modelsGenerationKey(namespace),
      async () => {
        const { models, invalid } = prepareModels(await store.active());
        for (const bad of invalid) logger.error(bad, 'active model cannot be used; profiles keep the scores it wrote');
        logger.debug({ kinds: Object.keys(models) }, 'models loaded');
        return models;
      },
      NO_MODELS,
      maxAgeMs,
    );
  }

  models(): Promise<PreparedModels> {
    return this.cache.get();
  }
}
