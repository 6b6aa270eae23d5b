import { ConfigError, PortraitError } from '@portrait/shared';
import { createLogger, stopOnSignals } from '@portrait/runtime';
import { loadIndexerConfig } from './config';
import { startIndexer } from './service';

async function main(): Promise<void> {
  const config = loadIndexerConfig();
  const logger = createLogger('indexer', config.LOG_LEVEL);
  const service = await startIndexer(config, logger);
  // Batches in flight finish before exit; give them longer than a bulk request can take.
  stopOnSignals(service.stop, logger, 90_000);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError || error instanceof PortraitError ? error.message : (error as Error).stack}\n`);
  process.exit(1);
});
