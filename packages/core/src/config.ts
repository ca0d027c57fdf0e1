import { z } from 'zod';
import { ConfigError } from './errors.js';

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
    /** Max tokens per chunk fed to the embedding model. */
    embedMaxTokens: z.number().int().positive().default(512),
    /** onnxruntime intra-op threads per session; 0 = onnxruntime's default. */
    embedThreads: z.number().int().min(0).default(1),
    /** HNSW parameters of the segments index (bench/README.md `ann`: M 16, ef 512 → recall@512 0.977, 11× exact wall, 9× CPU). */
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
    /** Over-fetch: extra candidates requested beyond k + known exclusions. */
    overfetch: z.number().int().min(0).default(32),
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
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.') || '(config)';
  throw new ConfigError(`invalid configuration: ${field}: ${issue.message}`);
}

/** Keys of the schema, for flag and environment mapping. */
export const configKeys = Object.keys(RunConfigSchema.shape) as (keyof RunConfig)[];
