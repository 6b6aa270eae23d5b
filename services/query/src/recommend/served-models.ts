import {
  modelsGenerationKey,
  parseModelState,
  type CollaborativeState,
  type ModelDoc,
  type RulesState,
  type ServedModelKind,
} from '@portrait/shared';
import { GenerationCache, type Logger, type ModelStore, type Redis } from '@portrait/runtime';

export interface Served<S> {
  version: number;
  state: S;
}

/** The active versions of the models recommendations are served from. */
export interface ServedModels {
  content?: Served<{ dims: number }>;
  collaborative?: Served<CollaborativeState>;
  rules?: Served<RulesState>;
}

/**
 * The active content, collaborative and rules models, cached per process until the next promotion bumps the models
 * generation. A version whose state cannot be read is logged and left out: the strategies it serves answer `409`.
 */
export class ServedModelCache {
  private readonly cache: GenerationCache<ServedModels>;

  constructor(store: ModelStore, redis: Redis, namespace: string, logger: Logger) {
    this.cache = new GenerationCache(
      redis,
      modelsGenerationKey(namespace),
      async () => {
        const served: ServedModels = {};
        for (const doc of await store.active()) {
          try {
            load(served, doc);
          } catch (error) {
            logger.error({ modelId: doc.modelId, reason: (error as Error).message }, 'active model cannot be served');
          }
        }
        return served;
      },
      {},
    );
  }

  get(): Promise<ServedModels> {
    return this.cache.get();
  }
}

function load(served: ServedModels, doc: ModelDoc): void {
  const kind = doc.kind as ServedModelKind;
  if (kind === 'content') served.content = { version: doc.version, state: { dims: parseModelState('content', doc.state).dims } };
  else if (kind === 'collaborative') served.collaborative = { version: doc.version, state: parseModelState('collaborative', doc.state) };
  else if (kind === 'rules') served.rules = { version: doc.version, state: parseModelState('rules', doc.state) };
}
