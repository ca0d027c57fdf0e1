export * from './fs-store.js';
