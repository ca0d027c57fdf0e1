export * from './fixtures.js';
export * from './sequences.js';
export * from './mds-reader.js';
export * from './s3rver.js';
export * from './parquet-fixture.js';
export * from './redis.js';
export * from './qdrant-simulator.js';
export * from './test-helpers.js';
