import {
  fillDocuments,
  groupSegments,
  iclmPath,
  meanVector,
  questDocuments,
  randomDocuments,
  Rng,
  DocMatrix,
  type DocPart,
  type Embedder,
  type FillOptions,
  type Method,
  type DiscardReason,
  type MethodOutcome,
  type MethodRecord,
  type RunConfig,
  type SequenceRecord,
  type SkipCounts,
} from '@nextlong/core';
import { docPoolFor, documentKeywords, type DocPool } from './doc-pool.js';

/** A written record of any method: NExtLong's (DESIGN §4, plus `method`) or a comparison method's. */
export type OutputRecord = (SequenceRecord & { method: 'nextlong' }) | MethodRecord;

/** One finished sequence of any method and what the shard stats need of it. */
export interface Made {
  outcome: { kind: 'written'; record: OutputRecord; ids: Uint32Array } | { kind: 'discarded'; reason: DiscardReason };
  /**
   * nextlong: the negatives' scores. Comparison methods: the cosine of each placed document to
   * the anchor (iclm: to the previous document on the path).
   */
  scores: number[];
  /** Cosine of the anchor to a few random pool chunks/documents: the baseline the scores are read against. */
  randomScores: number[];
  /** Input documents placed in this sequence besides its anchor (iclm), so counts balance. */
  merged: number;
  negatives: number;
  shortfall: number;
  skips?: SkipCounts;
}

/** Builds a comparison method's sequences from the sampled documents of one input shard, in order. */
export interface SequenceMaker {
  add(doc: { id: string; text: string }, signal?: AbortSignal): Promise<Made[]>;
  finish(signal?: AbortSignal): Promise<Made[]>;
}

export interface MakerDeps {
  config: RunConfig;
  embedder: Embedder;
  fill: FillOptions;
  /** The run's context: the document pool is loaded once per process for it. */
  owner: object;
  store: Parameters<typeof docPoolFor>[1];
}

const RANDOM_BASELINE = 8;

export async function createMaker(method: Exclude<Method, 'nextlong'>, deps: MakerDeps, signal?: AbortSignal): Promise<SequenceMaker> {
  if (method === 'iclm') return new IclmMaker(deps);
  const pool = await docPoolFor(deps.owner, deps.store, deps.config.questKeywords, signal);
  return new AnchorMaker(method, pool, deps);
}

/** The input document as a sequence part: its non-blank chunks (what the embed stage indexes). */
export function anchorPart(doc: { id: string; text: string }, chunkChars: number): DocPart {
  const chunks = groupSegments(doc.text, chunkChars)
    .map((text, chunk) => ({ chunk, text }))
    .filter((c) => c.text.trim() !== '');
  return { docId: doc.id, chunks };
}

async function docVector(part: DocPart, embedder: Embedder, signal?: AbortSignal): Promise<Float32Array> {
  return meanVector(
    await embedder.embed(
      part.chunks.map((c) => c.text),
      signal,
    ),
    embedder.dim,
  );
}

function randomBaseline(m: DocMatrix, q: Float32Array, rng: Rng): number[] {
  if (m.count === 0) return [];
  return Array.from({ length: Math.min(RANDOM_BASELINE, m.count) }, () => m.score(rng.int(m.count), q));
}

/** A comparison method's outcome as a Made. */
function made(outcome: MethodOutcome, scores: number[], randomScores: number[], merged: number): Made {
  return { outcome, scores, randomScores, merged, negatives: 0, shortfall: 0 };
}

const empty = (): Made => made({ kind: 'discarded', reason: 'too_short', placed: 1 }, [], [], 0);

/** standard / knn / quest: one sequence per input document, anchored by it, filled from the pool. */
class AnchorMaker implements SequenceMaker {
  constructor(
    private readonly method: 'standard' | 'knn' | 'quest',
    private readonly pool: DocPool,
    private readonly deps: MakerDeps,
  ) {}

  async add(doc: { id: string; text: string }, signal?: AbortSignal): Promise<Made[]> {
    const c = this.deps.config;
    const anchor = anchorPart(doc, c.chunkChars);
    if (anchor.chunks.length === 0) return [empty()]; // no text to anchor a sequence
    const q = await docVector(anchor, this.deps.embedder, signal);
    const self = this.pool.ordinal(doc.id);
    const skip = (ord: number) => ord === self;
    const m = this.pool.vectors;
    const candidates = this.candidates(anchor, q, skip, new Rng(`${c.seed}:${this.method}:${doc.id}`));
    const taken: DocPart[] = [];
    const next = () => {
      const r = candidates.next();
      if (r.done) return undefined;
      const part = this.pool.part(r.value.ord, { score: r.value.score ?? m.score(r.value.ord, q), keyword: r.value.keyword });
      taken.push(part);
      return part;
    };
    const outcome = fillDocuments(anchor, next, this.deps.fill);
    const scores = taken.slice(0, outcome.placed - 1).map((p) => p.score!);
    return [made(outcome, scores, randomBaseline(m, q, new Rng(`${c.seed}:random:${doc.id}`)), 0)];
  }

  private *candidates(
    anchor: DocPart,
    q: Float32Array,
    skip: (ord: number) => boolean,
    rng: Rng,
  ): Generator<{ ord: number; score?: number; keyword?: string }> {
    if (this.method === 'standard') {
      for (const ord of randomDocuments(this.pool.size, rng, skip)) yield { ord };
    } else if (this.method === 'knn') {
      yield* this.pool.vectors.rank(q, skip);
    } else {
      const { groups } = this.pool.keywordIndex();
      yield* questDocuments(documentKeywords(anchor, this.deps.config.questKeywords), groups, rng, skip);
    }
  }

  async finish(): Promise<Made[]> {
    return [];
  }
}

/**
 * iclm: the shard's documents are collected, embedded, traversed greedily over their k-NN graph
 * (each used once) and the path is cut into T-token sequences. Partitioned by input shard: the
 * graph holds one shard's documents (README "Comparison methods").
 */
class IclmMaker implements SequenceMaker {
  private readonly docs: DocPart[] = [];
  constructor(private readonly deps: MakerDeps) {}

  async add(doc: { id: string; text: string }): Promise<Made[]> {
    const part = anchorPart(doc, this.deps.config.chunkChars);
    if (part.chunks.length === 0) return [empty()];
    this.docs.push(part);
    return [];
  }

  async finish(signal?: AbortSignal): Promise<Made[]> {
    if (this.docs.length === 0) return [];
    const c = this.deps.config;
    const rows: Float32Array[] = [];
    for (const d of this.docs) rows.push(await docVector(d, this.deps.embedder, signal));
    const m = DocMatrix.of(rows, this.deps.embedder.dim);
    const queue = iclmPath(m, c.iclmNeighbors).map((s) => ({ ...this.docs[s.ord]!, score: s.score, ord: s.ord }));
    const out: Made[] = [];
    while (queue.length > 0) {
      signal?.throwIfAborted();
      const first = queue.shift()!;
      const taken: typeof queue = [];
      const next = () => {
        const d = queue.shift();
        if (d) taken.push(d);
        return d;
      };
      const outcome = fillDocuments({ ...first, score: undefined }, next, this.deps.fill);
      queue.unshift(...(outcome.unused as typeof queue));
      const placed = taken.slice(0, outcome.placed - 1);
      const scores = placed.filter((d) => d.score !== undefined).map((d) => d.score!);
      out.push(made(outcome, scores, randomBaseline(m, m.row(first.ord), new Rng(`${c.seed}:random:${first.docId}`)), outcome.placed - 1));
    }
    return out;
  }
}
