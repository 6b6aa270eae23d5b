import type { Logger } from './logger';

type Cleanup = { name: string; run: () => Promise<unknown> | unknown; timeoutMs: number };

/**
 * Ordered shutdown: cleanups run last-registered-first, every one runs even if another throws,
 * and calling `stop()` twice returns the same promise.
 */
export class Lifecycle {
  private readonly cleanups: Cleanup[] = [];
  private stopping?: Promise<void>;

  constructor(private readonly logger: Logger) {}

  /** Registers a cleanup; one that takes longer than `timeoutMs` is abandoned so shutdown always ends. */
  defer(name: string, run: Cleanup['run'], timeoutMs = 15_000): void {
    this.cleanups.push({ name, run, timeoutMs });
  }

  stop(): Promise<void> {
    this.stopping ??= this.runAll();
    return this.stopping;
  }

  private async runAll(): Promise<void> {
    for (const cleanup of [...this.cleanups].reverse()) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(cleanup.run),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`did not finish within ${cleanup.timeoutMs} ms`)), cleanup.timeoutMs);
          }),
        ]);
      } catch (error) {
        this.logger.error({ err: error, step: cleanup.name }, 'shutdown step failed');
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

/** Wires SIGINT/SIGTERM to `stop`, exiting when it is done (or forcibly after `graceMs`). */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger, graceMs = 30_000): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) return;
    signalled = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ graceMs }, 'shutdown took too long, exiting');
      process.exit(1);
    }, graceMs);
    timer.unref();
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}
