import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Router, type Response } from 'express';
import { ConsoleAssetParams, NotFoundError, UnavailableError, parseOrThrow } from '@portrait/shared';

/**
 * The page loads its own scripts and styles and talks to this service only; nothing inline, nothing from elsewhere.
 * Data URIs are the favicon and Chart.js' own images.
 */
const PAGE_POLICY = [
  "default-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const isFile = (file: string): Promise<boolean> =>
  stat(file).then(
    (s) => s.isFile(),
    () => false,
  );

/** `res.sendFile` as a promise: the file is streamed by `send`, as `express.static` does, confined to `root`. */
const sendFile = (res: Response, file: string, root: string, cache: { maxAge?: string; immutable?: boolean } = {}): Promise<void> =>
  new Promise((resolve, reject) =>
    res.sendFile(file, { root, dotfiles: 'deny', ...cache }, (error) => (error ? reject(error) : resolve())),
  );

/**
 * `/console` and its assets from the Vite build in `dir` (`console/dist`). Open routes: the page asks for an API key
 * itself. Looked up on every request, so a build made while the service runs is served at once, and a missing one is
 * a `503` that says how to make it.
 */
export function consoleRoutes(dir: string): Router {
  const router = Router();
  const assets = path.join(dir, 'assets');
  const built = async (): Promise<void> => {
    if (!(await isFile(path.join(dir, 'index.html'))))
      throw new UnavailableError(`the console is not built (no ${path.join(dir, 'index.html')}): run \`npm run console:build\``, 'console');
  };

  router.get('/console', async (_req, res) => {
    await built();
    res.setHeader('content-security-policy', PAGE_POLICY);
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    // Always revalidated: a new build names new assets.
    res.setHeader('cache-control', 'no-cache');
    await sendFile(res, 'index.html', dir);
  });

  router.get('/console/assets/:file', async (req, res) => {
    const { file } = parseOrThrow(ConsoleAssetParams, req.params, 'console file', ['params']);
    await built();
    if (!(await isFile(path.join(assets, file)))) throw new NotFoundError(`the console build has no file ${file}`);
    res.setHeader('x-content-type-options', 'nosniff');
    // Their names carry a hash of their content: cached for good.
    await sendFile(res, file, assets, { maxAge: '365d', immutable: true });
  });

  return router;
}
