import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'coverage/**', '.cache/**', '.run/**', 'bench/results/**', 'console/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'no-console': 'error',
    },
  },
  {
    // Tests and command-line tools may print and may use loose types for HTTP bodies.
    files: ['test/**/*.ts', 'scripts/**/*.ts', 'bench/**/*.ts'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
  // Direction of dependencies: services depend on shared and runtime, never on each other; shared does no I/O;
  // scripts and benchmarks use a service's package entry, not its internals.
  ...['ingest', 'indexer', 'query', 'jobs', 'runtime'].map((service) => ({
    files: [`services/${service}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: ['ingest', 'indexer', 'query', 'jobs']
            .filter((other) => other !== service)
            .map((other) => ({
              group: [`@portrait/${other}`, `@portrait/${other}/*`, `**/${other}/src/**`],
              message: `services never import each other: move what ${service} needs from ${other} to shared/ or services/runtime/`,
            })),
        },
      ],
    },
  })),
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['@elastic/elasticsearch', 'ioredis', 'bullmq', 'express'].map((name) => ({
            name,
            message: 'shared/ is pure: I/O lives in services/runtime or a service',
          })),
          patterns: [{ group: ['@portrait/*', '**/services/**'], message: 'shared/ depends on no service' }],
        },
      ],
    },
  },
  {
    files: ['scripts/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/services/*/src/**', '@portrait/*/src/**'],
              message: "use the service's package entry (@portrait/<name>), not its internals",
            },
          ],
        },
      ],
    },
  },
  {
    // The console runs in the browser: it prints nothing, and takes only types from the services' packages (their code,
    // zod and Node's modules, would land in the bundle).
    files: ['console/**/*.ts', 'console/**/*.tsx'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', sessionStorage: 'readonly' } },
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@portrait/*', '**/shared/**', '**/services/**'],
              allowTypeImports: true,
              message: 'the console imports types only from the shared package',
            },
            { group: ['node:*'], message: 'the console runs in the browser' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { module: 'writable', require: 'readonly', process: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
