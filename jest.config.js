/** Jest 30 + @swc/jest, native ES modules. Workspace packages resolve to their sources. */
const swc = {
  jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
  module: { type: 'es6' },
  sourceMaps: 'inline',
};

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper: {
    '^@nextlong/(core|tokenizers|embedding|vectors|storage|pipeline|testing|fleet|metrics)$': '<rootDir>/packages/$1/src/index.ts',
    '^@nextlong/embedding/testing$': '<rootDir>/packages/embedding/src/testing/index.ts',
    '^@nextlong/cli$': '<rootDir>/apps/cli/src/main.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/packages/*/src/**/*.test.ts', '<rootDir>/apps/*/src/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 120000,
  reporters: ['default', '<rootDir>/test/summary-reporter.cjs'],
};
