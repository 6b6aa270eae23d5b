import type { Redis } from './redis';

/**
 * A value loaded from Elasticsearch and cached per process, reloaded when a Redis generation counter moves
 * (one GET per use) or when it is older than `maxAgeMs`, in case a bump was lost. Whoever changes the source
 * bumps the counter after the change, so a process lags it by at most one use. Concurrent uses share one load.
 */
export class GenerationCache<T> {
  private value: T;
  private generation: string | null | undefined;
  private loadedAt = 0;
  private loading: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly load: () => Promise<T>,
    initial: T,
    private readonly maxAgeMs = 60_000,
  ) {
    this.value = initial;
  }

  async get(): Promise<T> {
    // Read the counter before loading: a change that lands during the load moves it again.
    const generation = await this.redis.get(this.key);
    if (generation !== this.generation || Date.now() - this.loadedAt >= this.maxAgeMs) {
      this.loading ??= this.reload(generation).finally(() => (this.loading = undefined));
      await this.loading;
    }
    return this.value;
  }

  /** The generation the cached value was loaded at (null before any bump). */
  loadedGeneration(): string | null | undefined {
    return this.generation;
  }

  private async reload(generation: string | null): Promise<void> {
    this.value = await this.load();
    this.generation = generation;
    this.loadedAt = Date.now();
  }
}
