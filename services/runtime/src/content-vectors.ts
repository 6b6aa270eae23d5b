import { ContentVectorizer, modelsGenerationKey, parseModelState } from '@portrait/shared';
import { GenerationCache } from './generation-cache';
import type { Logger } from './logger';
import type { ModelStore } from './model-store';
import type { Redis } from './redis';

/** The content model's active version, ready to vectorize items. */
export interface ActiveContent {
  version: number;
  vectorizer: ContentVectorizer;
}

export interface ContentVectors {
  active(): Promise<ActiveContent | undefined>;
}

/** Vectorizes nothing: items are stored without a content vector until a content model is promoted. */
export const NO_CONTENT: ContentVectors = { active: async () => undefined };

/**
 * The active content model, cached per process and reloaded when a promotion bumps the models generation, so the
 * indexer vectorizes upserted items with a promoted version from its next write (the vectorize job fixes the rest).
 */
export class ContentModelRegistry implements ContentVectors {
  private readonly cache: GenerationCache<ActiveContent | undefined>;

  constructor(store: ModelStore, redis: Redis, namespace: string, logger: Logger, maxAgeMs = 60_000) {
    this.cache = new GenerationCache(
      redis,
      modelsGenerationKey(namespace),
      async () => {
        const doc = (await store.active('content'))[0];
        if (doc === undefined) return undefined;
        try {
          return { version: doc.version, vectorizer: new ContentVectorizer(parseModelState('content', doc.state)) };
        } catch (error) {
          logger.error(
            { modelId: doc.modelId, reason: (error as Error).message },
            'active content model cannot be used; items keep their vectors',
          );
          return undefined;
        }
      },
      undefined,
      maxAgeMs,
    );
  }

  active(): Promise<ActiveContent | undefined> {
    return this.cache.get();
  }
}
