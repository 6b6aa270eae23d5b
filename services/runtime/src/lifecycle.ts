import { ConfigError, PortraitError } from '@portrait/shared';
import { createLogger, type Logger } from './logger';

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

export interface ServiceEntry<C extends { LOG_LEVEL: string }> {
  name: string;
  loadConfig: () => C;
  start: (config: C, logger: Logger) => Promise<{ stop: () => Promise<void> }>;
  /** How long a stop may take after a signal before the process exits anyway. */
  graceMs?: number;
}

/**
 * A service's `main`: parses its configuration before anything connects, starts it, and stops it on
 * SIGINT/SIGTERM. A bad configuration or a failed start exits 1 with the reason (the list of bad variables).
 */
export function runService<C extends { LOG_LEVEL: string }>(entry: ServiceEntry<C>): void {
  const main = async (): Promise<void> => {
    const config = entry.loadConfig();
    const logger = createLogger(entry.name, config.LOG_LEVEL);
    const service = await entry.start(config, logger);
    stopOnSignals(service.stop, logger, entry.graceMs);
  };
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof ConfigError || error instanceof PortraitError ? error.message : (error as Error).stack}\n`);
    process.exit(1);
  });
}
