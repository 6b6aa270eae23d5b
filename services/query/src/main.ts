import { ConfigError, PortraitError } from '@portrait/shared';
import { createLogger, stopOnSignals } from '@portrait/runtime';
import { loadQueryConfig } from './config';
import { startQuery } from './service';

async function main(): Promise<void> {
  const config = loadQueryConfig();
  const logger = createLogger('query', config.LOG_LEVEL);
  const service = await startQuery(config, logger);
  stopOnSignals(service.stop, logger);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof ConfigError || error instanceof PortraitError ? error.message : (error as Error).stack}\n`);
  process.exit(1);
});
