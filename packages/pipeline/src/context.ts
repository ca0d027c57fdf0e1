import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  bm25Encoder,
  ConfigError,
  type Embedder,
  type QueryEncoder,
  type RunConfig,
  type Tokenizer,
  type VectorBackend,
  type VectorSearcher,
} from '@nextlong/core';
import { createEmbedder, type CreateEmbedderOptions, embedderOptionsOf } from '@nextlong/embedding';
import { openObjectStore, type StreamingObjectStore } from '@nextlong/storage';
import { loadTokenizer } from '@nextlong/tokenizers';
import { timedBackend, timedEmbedder, timedSearcher } from './instrument.js';
import { vectorBackendFor } from './vectors-backend.js';
import type { RunPlan } from './run-state.js';

/**
 * Per-process resources of one run, created on first use and shared by every shard the
 * process runs (a model session and the index are expensive to open).
 */
export class RunContext {
  private embedder?: Promise<Embedder>;
  private searcher?: Promise<VectorSearcher>;
  private backend?: VectorBackend;
  private retrieval?: Promise<Retrieval>;
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

  /** The run's vector backend (chosen once, in vectors-backend.ts), its writes timed. */
  get vectors(): VectorBackend {
    return (this.backend ??= timedBackend(vectorBackendFor(this.plan, this.store, async () => (await this.getEmbedder()).dim)));
  }

  getSearcher(): Promise<VectorSearcher> {
    this.searcher ??= this.vectors.openSearcher().then(timedSearcher);
    return this.searcher;
  }

  /**
   * The negatives retriever of the run (`retriever`): the searcher and the encoder of its
   * queries — the embedder and the vector searcher (dense), or BM25 over the chunk texts.
   */
  getRetrieval(): Promise<Retrieval> {
    this.retrieval ??= this.openRetrieval();
    return this.retrieval;
  }

  private async openRetrieval(): Promise<Retrieval> {
    if (this.plan.config.retriever === 'dense') return { searcher: await this.getSearcher(), embedder: await this.getEmbedder() };
    const open = this.vectors.openBm25Searcher;
    if (!open) throw new ConfigError(`retriever: bm25 is not available with vectors: ${this.vectors.name}`);
    return { searcher: timedSearcher(await open.call(this.vectors)), embedder: bm25Encoder };
  }

  async close(): Promise<void> {
    const bm25 = this.plan.config.retriever === 'bm25' ? this.retrieval?.then((r) => r.searcher.close()) : undefined;
    await Promise.all([this.embedder?.then((e) => e.close()), this.searcher?.then((s) => s.close()), bm25]);
    // temporary files of a remote store live in the OS temp folder: leave nothing behind
    if (!this.store.localPath) await rm(this.tmpDir, { recursive: true, force: true });
  }
}

/** A retriever: its searcher and the encoder of its queries (any query kind: see SequencePorts). */
export interface Retrieval {
  searcher: VectorSearcher<unknown>;
  embedder: QueryEncoder<unknown>;
}

/** The embedder options of a run: the same in every process that works on it. */
function embedderOptions(c: RunConfig): CreateEmbedderOptions {
  return embedderOptionsOf(c);
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
