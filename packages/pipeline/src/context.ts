import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Embedder, Tokenizer, VectorSearcher } from '@nextlong/core';
import { createEmbedder } from '@nextlong/embedding';
import { openObjectStore, type StreamingObjectStore } from '@nextlong/storage';
import { loadTokenizer } from '@nextlong/tokenizers';
import { openSegmentsIndex } from '@nextlong/vectors';
import { timedEmbedder, timedSearcher } from './instrument.js';
import { openQdrantForRun } from './vectors-backend.js';
import type { RunPlan } from './run-state.js';

/**
 * Per-process resources of one run, created on first use and shared by every shard the
 * process runs (a model session and the index are expensive to open).
 */
export class RunContext {
  private embedder?: Promise<Embedder>;
  private searcher?: Promise<VectorSearcher>;
  private loadedTokenizer?: Tokenizer;
  constructor(
    readonly plan: RunPlan,
    readonly store: StreamingObjectStore,
    /** Folder for temporary files on this machine. */
    readonly tmpDir: string = tmpDirFor(store, plan.runId),
  ) {}

  /**
   * Loaded on first use: only synth needs it, and loading Llama-3's takes over a second of
   * synchronous work that would hold an embed or index job's event loop (and its BullMQ lock).
   */
  get tokenizer(): Tokenizer {
    return (this.loadedTokenizer ??= loadTokenizer(this.plan.config.tokenizer));
  }

  static forOut(plan: RunPlan): RunContext {
    return new RunContext(plan, openObjectStore(plan.config.out));
  }

  getEmbedder(): Promise<Embedder> {
    const c = this.plan.config;
    this.embedder ??= createEmbedder({ model: c.model, batchSize: c.embedBatch, maxTokens: c.embedMaxTokens, threads: c.embedThreads }).then(timedEmbedder);
    return this.embedder;
  }

  getSearcher(): Promise<VectorSearcher> {
    this.searcher ??= (this.plan.config.vectors === 'qdrant' ? this.openQdrant() : this.openSegments()).then(timedSearcher);
    return this.searcher;
  }

  private async openQdrant(): Promise<VectorSearcher> {
    return openQdrantForRun(this.plan, (await this.getEmbedder()).dim, false);
  }

  private openSegments(): Promise<VectorSearcher> {
    return openSegmentsIndex(this.store, {
      cacheDir: this.indexCacheDir,
      expansionSearch: this.plan.config.hnswExpansionSearch,
    });
  }

  /** Where a remote index is downloaded: this process's own, removed on close. */
  private get indexCacheDir(): string {
    return path.join(os.tmpdir(), 'nextlong-index', `${this.plan.runId}-${process.pid}`);
  }

  async close(): Promise<void> {
    await Promise.all([this.embedder?.then((e) => e.close()), this.searcher?.then((s) => s.close())]);
    await rm(this.indexCacheDir, { recursive: true, force: true });
    // temporary files of a remote store live in the OS temp folder: leave nothing behind
    if (!this.store.localPath) await rm(this.tmpDir, { recursive: true, force: true });
  }
}

/** Temporary files live beside a local output (same filesystem: renames), else in the OS temp folder. */
export function tmpDirFor(store: StreamingObjectStore, runId: string): string {
  const local = store.localPath?.('.tmp');
  return local ?? path.join(os.tmpdir(), 'nextlong', runId);
}
