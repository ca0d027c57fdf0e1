import os from 'node:os';
import path from 'node:path';
import type { Embedder, ObjectStore, Tokenizer, VectorSearcher } from '@nextlong/core';
import { createEmbedder } from '@nextlong/embedding';
import { FsObjectStore } from '@nextlong/storage';
import { loadTokenizer } from '@nextlong/tokenizers';
import { openSegmentsIndex } from '@nextlong/vectors';
import type { RunPlan } from './run-state.js';

/**
 * Per-process resources of one run, created on first use and shared by every shard the
 * process runs (a model session and the index are expensive to open).
 */
export class RunContext {
  private embedder?: Promise<Embedder>;
  private searcher?: Promise<VectorSearcher>;
  readonly tokenizer: Tokenizer;
  constructor(
    readonly plan: RunPlan,
    readonly store: ObjectStore,
    /** Folder for temporary files on this machine. */
    readonly tmpDir: string,
  ) {
    this.tokenizer = loadTokenizer(plan.config.tokenizer);
  }

  static forLocalOut(plan: RunPlan): RunContext {
    const store = new FsObjectStore(plan.config.out);
    return new RunContext(plan, store, path.join(store.root, '.tmp'));
  }

  getEmbedder(): Promise<Embedder> {
    const c = this.plan.config;
    this.embedder ??= createEmbedder({ model: c.model, batchSize: c.embedBatch, maxTokens: c.embedMaxTokens, threads: c.embedThreads });
    return this.embedder;
  }

  getSearcher(): Promise<VectorSearcher> {
    this.searcher ??= openSegmentsIndex(this.store, {
      cacheDir: path.join(os.tmpdir(), 'nextlong-index', this.plan.runId),
      expansionSearch: this.plan.config.hnswExpansionSearch,
    });
    return this.searcher;
  }

  async close(): Promise<void> {
    await Promise.all([this.embedder?.then((e) => e.close()), this.searcher?.then((s) => s.close())]);
  }
}
