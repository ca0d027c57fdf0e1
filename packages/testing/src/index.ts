export * from './fixtures.js';
export * from './sequences.js';
