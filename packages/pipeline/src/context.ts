import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Embedder, RunConfig, Tokenizer, VectorSearcher } from '@nextlong/core';
import { createEmbedder, type CreateEmbedderOptions } from '@nextlong/embedding';
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
    this.embedder ??= createRunEmbedder(this.plan.config);
    return this.embedder;
  }

  /**
   * Takes over an embedder created from `config` before the plan existed (a shard process that
   * warms up while its parent plans); closed instead when this run's model options differ.
   */
  adoptEmbedder(early: Promise<Embedder>, config: RunConfig): void {
    const same = JSON.stringify(embedderOptions(config)) === JSON.stringify(embedderOptions(this.plan.config));
    if (same && !this.embedder) this.embedder = early;
    else void early.then((e) => e.close()).catch(() => undefined);
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
      // A remote index is downloaded once per host, into a cache every process shares (kept after close).
      cacheDir: process.env.NEXTLONG_INDEX_CACHE_DIR || undefined,
      expansionSearch: this.plan.config.hnswExpansionSearch,
    });
  }

  async close(): Promise<void> {
    await Promise.all([this.embedder?.then((e) => e.close()), this.searcher?.then((s) => s.close())]);
    // temporary files of a remote store live in the OS temp folder: leave nothing behind
    if (!this.store.localPath) await rm(this.tmpDir, { recursive: true, force: true });
  }
}

/** The embedder options of a run: the same in every process that works on it. */
function embedderOptions(c: RunConfig): CreateEmbedderOptions {
  return { model: c.model, batchSize: c.embedBatch, maxTokens: c.embedMaxTokens, threads: c.embedThreads };
}

/** The run's embedder, its calls timed for the metrics. */
export function createRunEmbedder(c: RunConfig): Promise<Embedder> {
  return createEmbedder(embedderOptions(c)).then(timedEmbedder);
}

/** Temporary files live beside a local output (same filesystem: renames), else in the OS temp folder. */
export function tmpDirFor(store: StreamingObjectStore, runId: string): string {
  const local = store.localPath?.('.tmp');
  return local ?? path.join(os.tmpdir(), 'nextlong', runId);
}
