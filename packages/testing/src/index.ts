export * from './fixtures.js';
export * from './sequences.js';
export * from './mds-reader.js';
