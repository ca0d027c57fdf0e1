import { z } from 'zod';
import { ConfigError } from './errors.js';
import { parseBand } from './select.js';

/**
 * The resolved run configuration. Every default below is the paper's (DESIGN §3) or the
 * command line's (DESIGN §5); options marked "ours" go beyond the paper and are off or
 * neutral by default.
 */
export const RunConfigSchema = z
  .object({
    /** Input corpora: files, folders or globs (JSONL, one document per line). */
    input: z.array(z.string().min(1)).min(1),
    /** Output folder. */
    out: z.string().min(1),
    /** Pool corpora indexed for negatives; empty = the input. */
    pool: z.array(z.string().min(1)).default([]),
    /** T: tokens per output sequence. */
    targetTokens: z.number().int().min(16).default(131072),
    /** Number of meta-documents, by a seeded sample; absent = every input document. */
    sequences: z.number().int().min(1).optional(),
    seed: z.number().int().min(0).default(0),
    /** s: chunker max length in code points (reference max_length). */
    chunkChars: z.number().int().min(1).default(2048),
    placement: z.enum(['head', 'tail', 'random']).default('head'),
    /** `paper` = App. D.1 formula then cut; `exact` (ours) = by measured token counts. */
    budget: z.enum(['paper', 'exact']).default('paper'),
    separator: z.string().default('\n\n'),
    /** llama3 | cl100k | o200k | path to a Hugging Face tokenizer.json. */
    tokenizer: z.string().min(1).default('llama3'),
    /** `static` (embedded GloVe model) or a folder with model.onnx + tokenizer.json. */
    model: z.string().min(1).default('static'),
    vectors: z.enum(['segments', 'qdrant']).default('segments'),
    format: z.enum(['jsonl', 'mds', 'both']).default('jsonl'),
    textField: z.string().min(1).default('text'),
    idField: z.string().min(1).default('id'),
    /** Shards processed at once by the local executor; 0 = number of cores. */
    concurrency: z.number().int().min(0).default(0),
    /** w: the paper's overshoot weight. */
    negativeWeight: z.number().positive().default(1.5),
    /** E: characters per token; absent = measured on a sample of the input. */
    charsPerToken: z.number().positive().optional(),
    /** Ours: skip candidates more similar than this (false-negative guard); absent = off (paper). */
    similarityCeiling: z.number().min(-1).max(1).optional(),
    /**
     * Ours, a debug check: every written sequence is tokenized again by the raw tokenizer (no
     * pre-token cache, no splicing) and the shard fails on any difference from its ids.
     */
    verifyTokens: z.boolean().default(false),
    /** Records longer than this (code points) are rejected. */
    maxRecordChars: z.number().int().positive().default(5_000_000),
    /** A shard whose share of bad records exceeds this fails. */
    maxBadShare: z.number().min(0).max(1).default(0.5),
    /** Documents per pool/meta shard when a file is split (uncompressed JSONL only). */
    shardDocs: z.number().int().positive().default(2000),
    embedBatch: z.number().int().positive().default(64),
    /** Max tokens per chunk fed to the embedding model (a transformer folder's max_seq_length caps it). */
    embedMaxTokens: z.number().int().positive().default(512),
    /** Model folder: pooling instead of 1_Pooling/config.json's (docs/models.md). */
    embedPooling: z.enum(['cls', 'mean', 'max', 'lasttoken', 'mean_sqrt_len']).optional(),
    /** Model folder: a prompt name of config_sentence_transformers.json, or the prompt text. */
    embedPrompt: z.string().optional(),
    /** Model folder with task adapters (jina-embeddings-v3): a name of config.json lora_adaptations (default text-matching). */
    embedTask: z.string().min(1).optional(),
    /** Matryoshka: keep the first N values of each vector (then normalize); absent = the model's width. */
    embedDim: z.number().int().positive().optional(),
    /** Model folder: model_<variant>.onnx instead of model.onnx (fp16, quantized, qint8_avx512, O3, …). */
    embedVariant: z.string().regex(/^[A-Za-z0-9_]+$/, 'letters, digits and _ (model_<variant>.onnx)').optional(),
    /** onnxruntime intra-op threads per session; 0 = onnxruntime's default. */
    embedThreads: z.number().int().min(0).default(1),
    /** HNSW parameters of the segments index (bench/README.md `ann`: M 16, ef 512 → recall@512 0.977, 10.4× exact wall, 9.5× CPU on a loaded 2-core VM). */
    hnswConnectivity: z.number().int().min(2).default(16),
    hnswExpansionAdd: z.number().int().min(8).default(128),
    hnswExpansionSearch: z.number().int().min(8).default(512),
    /**
     * Most chunks per HNSW partition of the segments index: a larger pool is split into balanced
     * key ranges, one graph each, built in parallel and all searched. Changes the index (and so,
     * possibly, the negatives); pools up to this size are one graph.
     */
    indexPartitionChunks: z.number().int().min(1).default(131072),
    /** Partitions built at once, one thread each; 0 = number of cores. Never changes the output. */
    indexThreads: z.number().int().min(0).default(0),
    /**
     * Ours: stored type of the segments index's vectors and HNSW graphs: `f16` halves them, `i8`
     * quarters them (scores then from the stored values, so negatives may change). Qdrant has its own
     * options (qdrantDatatype, qdrantQuantization).
     */
    vectorType: z.enum(['f32', 'f16', 'i8']).default('f32'),
    /** Over-fetch: extra candidates requested beyond k + known exclusions. */
    overfetch: z.number().int().min(0).default(32),
    /**
     * The data condition (paper Table 1): `nextlong` (paper), or a comparison method: `standard`
     * (random documents), `knn` (nearest documents), `iclm` (In-Context Pretraining), `quest` (keyword groups).
     */
    method: z.enum(['nextlong', 'standard', 'knn', 'iclm', 'quest']).default('nextlong'),
    /** `method: iclm`: neighbours per document in the k-NN graph it traverses. */
    iclmNeighbors: z.number().int().min(1).default(10),
    /** `method: quest`: RAKE keywords per document that it is grouped by. */
    questKeywords: z.number().int().min(1).default(5),
    /**
     * Ours (the paper's Table 5 ablation): `topk` (paper), `band` (a rank band of the candidates),
     * `random-candidates` (k at random among them), `random-pool` (random pool chunks, no retrieval).
     */
    selection: z.enum(['topk', 'band', 'random-candidates', 'random-pool']).default('topk'),
    /** Candidates retrieved per meta-chunk for `band` and `random-candidates` (the paper: 512). */
    candidates: z.number().int().min(1).default(512),
    /** `selection: band`: first-last rank (1-based, inclusive) among the eligible candidates. */
    band: z.string().regex(/^\d+-\d+$/, 'expected ranks FIRST-LAST, e.g. 256-512').default('256-512'),
    /** The negatives retriever: `dense` (embeddings, paper) or `bm25` (ours: terms over chunk texts, LiteLong App. D). */
    retriever: z.enum(['dense', 'bm25']).default('dense'),
    /** `vectors: qdrant`: vector storage of the collection the run creates (float16 halves its memory). */
    qdrantDatatype: z.enum(['float32', 'float16']).default('float32'),
    /** `vectors: qdrant`: original vectors in RAM, or on disk (memory-mapped; pair with int8 quantization). */
    qdrantVectorStorage: z.enum(['memory', 'disk']).default('memory'),
    /** `vectors: qdrant`: scalar int8 quantization (quantized copy in RAM, search rescored from the originals). */
    qdrantQuantization: z.enum(['none', 'int8']).default('none'),
    /** `vectors: qdrant`: longest wait for the collection to finish indexing (status green) before synth. */
    qdrantIndexWaitSeconds: z.number().int().min(0).default(3600),
  })
  .strict();

export type RunConfig = z.infer<typeof RunConfigSchema>;
export type RunConfigInput = z.input<typeof RunConfigSchema>;

/** Validates a merged configuration; a problem names the field and what is allowed. */
export function parseRunConfig(raw: unknown): RunConfig {
  const r = RunConfigSchema.safeParse(raw);
  if (r.success) {
    const d = r.data;
    // a setting the chosen strategy never reads is refused, not silently ignored
    if (d.method !== 'nextlong' && (d.selection !== 'topk' || d.retriever !== 'dense')) {
      const [key, value] = d.selection !== 'topk' ? ['selection', d.selection] : ['retriever', d.retriever];
      throw new ConfigError(`invalid configuration: ${key}: ${value} chooses negatives of method: nextlong, not method: ${d.method}`);
    }
    if (d.selection !== 'band' && d.band !== '256-512') {
      throw new ConfigError(`invalid configuration: band: ${d.band} is read only with selection: band (selection is ${d.selection})`);
    }
    if (d.selection === 'band') {
      try {
        parseBand(d.band, d.candidates); // the band must lie within the candidates
      } catch (err) {
        throw new ConfigError(`invalid configuration: ${(err as Error).message}`);
      }
    }
    if (d.vectors === 'qdrant' && d.vectorType !== 'f32') {
      throw new ConfigError(
        `invalid configuration: vectorType: ${d.vectorType} is for vectors: segments; with qdrant use --qdrant-datatype float16 or --qdrant-quantization int8`,
      );
    }
    // standard/knn/quest read the pool's documents from the index segments (README "Comparison methods")
    if (['standard', 'knn', 'quest'].includes(r.data.method) && r.data.vectors !== 'segments') {
      throw new ConfigError(`invalid configuration: method: ${r.data.method} needs vectors: segments (iclm and nextlong work with qdrant)`);
    }
    return r.data;
  }
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.') || '(config)';
  throw new ConfigError(`invalid configuration: ${field}: ${issue.message}`);
}

/** Keys of the schema, for flag and environment mapping. */
export const configKeys = Object.keys(RunConfigSchema.shape) as (keyof RunConfig)[];
