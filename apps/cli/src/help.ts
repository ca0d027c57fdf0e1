export const HELP = `nextlong — NExtLong long-context training data synthesis (Negative document Extension)

Usage:
  nextlong run --input <path|glob>... --out <dir> [options]
  nextlong chunk [--chunk-chars 2048] [--text-field text] [--id-field id]  < docs.jsonl
  nextlong status (--redis <url> --run <id> | --out <dir>)
  nextlong embed --model <static|dir> [--embed-pooling …] [--embed-prompt …] [--embed-task …]
                 [--embed-dim N]  < docs.jsonl
  nextlong inspect --out <dir|s3://...> [--html report.html] [--sequences N|id,...]
  nextlong coordinator --redis <url> <run flags> [--metrics <addr>]
  nextlong worker --stage embed|synth --redis <url> [--concurrency 1] [--lock-ms 30000]
                  [--grace-seconds 25] [--metrics <addr>]

run options (flags > NEXTLONG_* environment > --config file > defaults):
  --input <path|glob|folder>   corpus: JSONL, .jsonl.gz, .jsonl.zst (repeatable)
  --out <dir>                  output folder (re-running the same command resumes)
  --pool <path|glob|folder>    negatives pool (default: the input) (repeatable)
  --config <nextlong.yaml>     settings file (keys as below, camelCase or kebab-case)
  --target-tokens 131072       T: tokens per output sequence
  --sequences N                N meta-documents by a seeded sample (default: all)
  --seed 0                     seed for sampling and random placement
  --chunk-chars 2048           chunker max length in code points
  --placement head|tail|random where each meta-chunk goes among its negatives
  --budget paper|exact         paper App. D.1 negatives budget, or exact by token counts
  --method nextlong|standard|knn|iclm|quest  the data condition (paper Table 1): NExtLong, or
                               random / nearest / ICLM-path / keyword-grouped whole documents
  --iclm-neighbors 10 --quest-keywords 5   k of iclm's document graph; RAKE keywords per document
  --selection topk|band|random-candidates|random-pool  negatives: the top k (paper), a rank band
                               of the candidates, k at random among them, or random pool chunks
  --candidates 512 --band 256-512  candidates retrieved per meta-chunk; band ranks (1-based)
  --retriever dense|bm25       negatives by embedding similarity, or BM25 over the chunk texts
  --separator "\\n\\n"           between pieces (\\n and \\t are understood)
  --tokenizer llama3|cl100k|o200k|<tokenizer.json>
  --model static|<model dir>   embedding model: built-in GloVe static model, or a
                               folder with model.onnx + tokenizer.json (docs/models.md)
  --embed-pooling cls|mean|max|lasttoken|mean_sqrt_len  instead of the folder's 1_Pooling
  --embed-prompt <name|text>   a prompt of config_sentence_transformers.json, or the text itself
  --embed-task <task>          jina-embeddings-v3 adapter (default text-matching)
  --embed-dim N                Matryoshka: first N dimensions, normalized
  --embed-max-tokens 512       caps the folder's max_seq_length
  --embed-variant fp16|quantized|…  model_<variant>.onnx instead of model.onnx
  --vectors segments|qdrant    vector backend: embedded index segments, or Qdrant (QDRANT_URL)
  --qdrant-datatype float32|float16  --qdrant-vector-storage memory|disk
  --qdrant-quantization none|int8    storage of a Qdrant collection the run creates (large pools)
  --qdrant-index-wait-seconds 3600   synth waits until the collection has finished indexing
  --format jsonl|mds|both      JSONL.zst parts, MosaicML Streaming MDS (input_ids), or both
  --text-field text --id-field id
  --concurrency N              shards at once: this process and N-1 shard processes (default: cores)
  --index-threads N            index partitions built at once (default: number of cores)
  --index-partition-chunks 131072  most chunks per HNSW graph of the segments index
  --vector-type f32|f16|i8     stored vectors and graphs of the segments index: f16 halves them,
                               i8 quarters them (qdrant: --qdrant-datatype, --qdrant-quantization)
  --verify-tokens              debug: re-tokenize every written sequence with the raw tokenizer
                               (no cache); any difference fails the shard
  Every other setting of the run configuration is a flag too, e.g. --similarity-ceiling 0.95,
  --chars-per-token 4.1, --shard-docs 2000, --embed-batch 64 (see README).

Fleet: the coordinator plans the run, enqueues shards in Redis (BullMQ) and waits; workers
need only --redis (REDIS_URL) and the S3/Qdrant environment: each job names the run's output
location, where run.json holds the configuration. --metrics [host]:port serves /metrics,
/healthz and /readyz (NEXTLONG_METRICS_ADDR; "off" disables). Unset, a fleet process serves on all
interfaces at :9464, or the next free port when that one is taken (the address is logged); an
explicit address that is taken exits 2; 127.0.0.1:9464 serves loopback only. The coordinator keeps
serving NEXTLONG_METRICS_LINGER_SECONDS (15) after it finishes.
Every command answers --help with its own flags.

Logs (stderr): --log-level trace|debug|info|warn|error|silent on any command (NEXTLONG_LOG_LEVEL,
default info); NEXTLONG_LOG_FORMAT json|pretty|plain (default: pretty on a terminal, plain lines
otherwise; the container image sets json). Secrets are redacted.

Exit status: 0 on success, 1 when the run failed, 2 on a usage or configuration error.
`;

const METRICS_FLAG = `  --metrics [host]:port        serve /metrics, /healthz, /readyz (NEXTLONG_METRICS_ADDR). Unset: all
                               interfaces on :9464, or the next free port if taken (logged); a
                               taken explicit address exits 2; 127.0.0.1:9464 = loopback only; off
`;

/** `nextlong <command> --help`: each command's own usage and flags. */
export const COMMAND_HELP: Record<string, string> = {
  run: HELP,
  chunk: `Usage: nextlong chunk [--chunk-chars 2048] [--text-field text] [--id-field id] < docs.jsonl

Splits JSONL documents on stdin into meta-chunks (DESIGN 3.1, the reference group_segments) and
writes one {"id": ..., "chunks": [...]} per document to stdout. Bad lines are reported on stderr
by line number and skipped (exit status 1 if there were any).

  --chunk-chars 2048           max chunk length in Unicode code points
  --text-field text            field holding the document text
  --id-field id                field holding the document id (absent: the line number)
`,
  status: `Usage: nextlong status --out <dir|s3://bucket/prefix>
       nextlong status --redis <url> --run <id>

Shows per-stage progress (shards done / total) of a run, from its output folder or, for a fleet
run, from Redis (queue counts and failed jobs too).

  --out <dir|s3://...>         the run's output location
  --redis <url>                redis:// or rediss:// URL (REDIS_URL); with --run
  --run <id>                   the run id (printed by the coordinator, in run.json)
`,
  inspect: `Usage: nextlong inspect --out <dir|s3://bucket/prefix> [--html report.html] [--sequences N|id,...]

Writes one self-contained HTML report of a run (finished or in progress, local or S3): run
overview (configuration, counts, timings, rejects, shards), hardness (negative scores against
random pool pairs, negatives per meta-chunk, shortfalls, skips) and a sequence explorer. The file
opens from disk with no network access; corpus text is always shown as text.

  --out <dir|s3://...>         the run's output location
  --html <file>                where to write (default: <out>/report.html; for s3://, ./nextlong-report-<run id>.html)
  --sequences N|id,...         N sequences by a seeded sample (default 50), or these sequence ids
  --seed 0                     seed of the sample
  --budget-mb 12               most MB of sequence data embedded: later sampled sequences show their
                               segments without text, or are left out (the report says how many)
`,
  embed: `Usage: nextlong embed --model <static|dir> [options] < docs.jsonl

Embeds each JSONL document on stdin (its text whole, as one chunk) exactly as \`nextlong run\`
embeds a chunk with the same settings, and writes one {"id": ..., "vector": [...]} per document
to stdout (unit-length float32 values): compare a model folder with sentence-transformers'
encode_document(..., normalize_embeddings=True) before a long run (docs/models.md). Bad lines are
reported on stderr by line number and skipped (exit status 1 if there were any).

  --model static|<dir>         the built-in static model, or a model folder (docs/models.md)
  --embed-pooling <mode>       cls, mean, max, lasttoken or mean_sqrt_len (default: the folder's)
  --embed-prompt <name|text>   a named prompt of the folder, or the prompt text ("" for none)
  --embed-task <task>          jina-embeddings-v3: a name of config.json lora_adaptations
  --embed-dim N                keep the first N dimensions (Matryoshka), then normalize
  --embed-max-tokens 512       most tokens per text (the folder's max_seq_length caps it)
  --embed-variant <v>          model_<v>.onnx (fp16, quantized, int8, …) instead of model.onnx
  --embed-batch 64 --embed-threads 1   batch size and onnxruntime intra-op threads
  --text-field text --id-field id
  --config <nextlong.yaml>     settings file (NEXTLONG_* environment applies too)
`,
  coordinator: `Usage: nextlong coordinator --redis <url> <run flags> [--metrics <addr>] [--quiet]

Plans the run, enqueues its shards in Redis (BullMQ), waits at each stage's barrier and writes
the manifest. Starting it again with the same flags continues the same run.

  --redis <url>                redis:// or rediss:// URL (REDIS_URL)
  <run flags>                  every flag of \`nextlong run\` (see nextlong run --help)
${METRICS_FLAG}  --quiet                      no progress lines

Environment: NEXTLONG_REDIS_CONNECT_TIMEOUT_MS (30000: give up connecting at start, exit 2),
NEXTLONG_REDIS_OUTAGE_SECONDS (300: give up on a Redis outage mid-run, exit 1; the same command
resumes), NEXTLONG_NO_WORKERS_WARN_SECONDS (10: "waiting for embed workers (0 connected)"),
NEXTLONG_OVERDUE_FLOOR_SECONDS (60: a shard running over max(5 x p99, this) is logged).
`,
  worker: `Usage: nextlong worker --stage embed|synth --redis <url> [options]

A fleet worker: takes shard jobs of one stage from Redis and runs them until SIGTERM/SIGINT
(running shards finish, or are handed back after the grace period), then exits 0.

  --stage embed|synth          embed workers also build the index (NEXTLONG_STAGE)
  --redis <url>                redis:// or rediss:// URL (REDIS_URL)
  --concurrency 1              jobs at once (NEXTLONG_WORKER_CONCURRENCY)
  --lock-ms 30000              BullMQ lock duration, renewed every half (NEXTLONG_LOCK_MS)
  --grace-seconds 25           on SIGTERM, time before running shards are handed back
${METRICS_FLAG}
A job is refused (failed for good, nothing read) unless its run was registered in Redis by a
coordinator with the same output, and run.json there hashes to the job's run id.
Environment: NEXTLONG_ALLOWED_OUTPUTS (comma-separated prefixes a job's output must start with),
NEXTLONG_REDIS_CONNECT_TIMEOUT_MS (30000). Wrong Redis password or TLS problems exit 2.
`,
};
