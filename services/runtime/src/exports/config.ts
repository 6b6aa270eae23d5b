import path from 'node:path';
import { z } from 'zod';
import { envInt } from '@portrait/shared';

/** `<repo>/exports`, git-ignored. */
export const DEFAULT_EXPORT_DIR = path.resolve(__dirname, '../../../../exports');

/**
 * The export settings the query service (streams, downloads) and the jobs process (export files) share;
 * each spreads them into its own environment schema.
 */
export const ExportEnv = {
  /** Where export jobs write their files; every query and jobs process must see the same directory. */
  EXPORT_DIR: z.string().min(1).default(DEFAULT_EXPORT_DIR),
  /** Profiles read per page of the point-in-time walk. */
  EXPORT_PAGE_SIZE: envInt(1, 10_000).default(1000),
  /** Pause between pages, to spare Elasticsearch during big exports (0: none). */
  EXPORT_PAGE_PAUSE_MS: envInt(0, 60_000).default(0),
};
