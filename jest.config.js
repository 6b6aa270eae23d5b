/**
 * Three suites: fast pure-logic unit tests, integration tests against the real Elasticsearch and Redis, and end-to-end
 * tests of the console in a real browser (in band, after the integration tests).
 */
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
};

module.exports = {
  projects: [
    {
      displayName: 'unit',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
      setupFilesAfterEnv: ['<rootDir>/test/support/fast-check-seed.ts'],
    },
    {
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      testEnvironmentOptions: { globalsCleanup: 'off' },
      setupFilesAfterEnv: ['<rootDir>/test/support/fast-check-seed.ts', '<rootDir>/test/integration/setup.ts'],
      slowTestThreshold: 30,
    },
    {
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      transform,
      testEnvironment: 'node',
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      setupFilesAfterEnv: ['<rootDir>/test/e2e/setup.ts'],
      slowTestThreshold: 120,
    },
  ],
};
