import {
  ConflictError,
  modelsGenerationKey,
  parseModelState,
  type CollaborativeState,
  type FactorQuality,
  type ModelDoc,
  type ModelPins,
  type RulesState,
  type ServedModelKind,
} from '@portrait/shared';
import { GenerationCache, type Client, type Logger, type ModelStore, type Redis } from '@portrait/runtime';

export interface Served<S> {
  version: number;
  state: S;
}

/** A collaborative version, with the hold-out figures its training measured (the hybrid reads them). */
export interface ServedCollaborative extends Served<CollaborativeState> {
  quality: FactorQuality;
}

/** The model versions a recommendation is served from: the active ones, or those the request pinned. */
export interface ServedModels {
  content?: Served<{ dims: number }>;
  collaborative?: ServedCollaborative;
  rules?: Served<RulesState>;
}

/** Pinned versions stay loaded this long (their state never changes; a deleted factor index shows up at query time). */
const PINNED_TTL_MS = 60_000;
const PINNED_KEPT = 16;

/**
 * The active content, collaborative and rules models, cached per process until the next promotion bumps the models
 * generation. A version whose state cannot be read is logged and left out: the strategies it serves answer `409`.
 * A request may pin other versions (`models=collaborative:4`): a trained or retired collaborative version serves
 * from its own factor indices while they exist, a rules version from its stored state; a content version only when
 * active, since the items carry the active version's vectors alone.
 */
export class ServedModelCache {
  private readonly cache: GenerationCache<ServedModels>;
  private readonly pinned = new Map<string, { at: number; served: Promise<ServedModels> }>();

  constructor(
    private readonly store: ModelStore,
    private readonly es: Client,
    redis: Redis,
    namespace: string,
    logger: Logger,
  ) {
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

  async get(pins: ModelPins = {}): Promise<ServedModels> {
    const active = await this.cache.get();
    const served: ServedModels = { ...active };
    for (const kind of Object.keys(pins) as ServedModelKind[]) {
      const version = pins[kind]!;
      if (active[kind]?.version === version) continue;
      if (kind === 'content')
        throw new ConflictError(
          `content v${version} is not the active content version${active.content ? ` (v${active.content.version} is)` : ''}: items carry the vectors of the active version only; promote it (POST /v1/models/content/${version}/promote) to serve it`,
        );
      Object.assign(served, await this.load(kind, version));
    }
    return served;
  }

  private load(kind: Exclude<ServedModelKind, 'content'>, version: number): Promise<ServedModels> {
    const key = `${kind}:${version}`;
    const now = Date.now();
    const cached = this.pinned.get(key);
    if (cached && now - cached.at < PINNED_TTL_MS) return cached.served;
    const served = (async () => {
      const doc = await this.store.get(kind, version);
      const out: ServedModels = {};
      load(out, doc);
      if (kind === 'collaborative') {
        const state = out.collaborative!.state;
        for (const index of [state.itemIndex, state.userIndex])
          if (!(await this.es.indices.exists({ index }))) throw factorsGone(version, doc.status, index);
      }
      return out;
    })();
    this.pinned.delete(key);
    this.pinned.set(key, { at: now, served });
    // A failed load is not kept: the next request asks again.
    served.catch(() => this.pinned.delete(key));
    while (this.pinned.size > PINNED_KEPT) this.pinned.delete(this.pinned.keys().next().value!);
    return served;
  }
}

export function factorsGone(version: number, status: string, index: string): ConflictError {
  return new ConflictError(
    `collaborative v${version} (${status}) cannot be served: its factor index ${index} is gone (the factors of older retired versions are deleted); pin a version GET /v1/models?kind=collaborative lists, or train a new one`,
  );
}

function load(served: ServedModels, doc: ModelDoc): void {
  const kind = doc.kind as ServedModelKind;
  if (kind === 'content') served.content = { version: doc.version, state: { dims: parseModelState('content', doc.state).dims } };
  else if (kind === 'collaborative')
    served.collaborative = {
      version: doc.version,
      state: parseModelState('collaborative', doc.state),
      quality: { ndcg: doc.quality.ndcg, popularNdcg: doc.quality.popularNdcg, windowDays: doc.parameters.windowDays },
    };
  else if (kind === 'rules') served.rules = { version: doc.version, state: parseModelState('rules', doc.state) };
}
