import { ConfigError, PortraitError } from '@portrait/shared';
import { createLogger, stopOnSignals } from '@portrait/runtime';
import { loadIngestConfig } from './config';
import { startIngest } from './service';

async function main(): Promise<void> {
  const config = loadIngestConfig();
  const logger = createLogger('ingest', config.LOG_LEVEL);
  const service = await startIngest(config, logger);
  stopOnSignals(service.stop, logger);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError || error instanceof PortraitError ? error.message : (error as Error).stack}\n`);
  process.exit(1);
});
