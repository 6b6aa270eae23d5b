import { defineConfig } from 'vite';

/**
 * The console: a static page the query service serves at /console (`npm run console:build` writes console/dist).
 * `npm run console:dev` serves it with hot reload and sends /v1 to the query service (QUERY_URL).
 */
export default defineConfig({
  base: '/console/',
  build: { outDir: 'dist', emptyOutDir: true, assetsInlineLimit: 0, chunkSizeWarningLimit: 400 },
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  server: { proxy: { '/v1': process.env.QUERY_URL ?? 'http://127.0.0.1:3003' } },
});
