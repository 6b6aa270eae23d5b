import { z } from 'zod';
import type { ApiRoute } from './route';

/**
 * The console: the analysts' web page, built by `npm run console:build` into `console/dist` and served by the query
 * service. Open, like the API description: the page holds no data, and asks for an API key before it calls `/v1`.
 */

/** A file of the build: Vite names them `<name>-<hash>.js|css`, flat under `assets/`. */
export const ConsoleAssetParams = z.object({
  file: z
    .string()
    .regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}\.(js|css)$/, 'is a file name of the build ending in .js or .css')
    .meta({ description: 'A script or style sheet of the build' }),
});

export const CONSOLE_ROUTES: readonly ApiRoute[] = [
  {
    method: 'get',
    path: '/console',
    tag: 'console',
    scope: 'open',
    summary: 'The console: profile explorer, segment builder, insights (a web page)',
    description:
      'A single page that asks for an API key once (kept in the browser tab) and calls this API with it. `503` while the ' +
      'page is not built: run `npm run console:build`.',
    responses: { 200: { description: 'The page', content: { 'text/html': { schema: z.string() } } } },
    errors: [503],
  },
  {
    method: 'get',
    path: '/console/assets/:file',
    tag: 'console',
    scope: 'open',
    summary: "The console's scripts and style sheets",
    description: 'Named after their content, so they are cached for good.',
    request: { params: ConsoleAssetParams },
    responses: {
      200: {
        description: 'The file',
        content: { 'text/javascript': { schema: z.string() }, 'text/css': { schema: z.string() } },
      },
    },
    errors: [400, 404, 503],
  },
];
