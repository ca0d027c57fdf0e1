export const HELP = `nextlong — NExtLong long-context training data synthesis (Negative document Extension)

Usage:
  nextlong run --input <path|glob>... --out <dir> [options]
  nextlong chunk [--chunk-chars 2048] [--text-field text] [--id-field id]  < docs.jsonl
  nextlong status (--redis <url> --run <id> | --out <dir>)
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
  --separator "\\n\\n"           between pieces (\\n and \\t are understood)
  --tokenizer llama3|cl100k|o200k|<tokenizer.json>
  --model static|<model dir>   embedding model: built-in GloVe static model, or a
                               folder with model.onnx + tokenizer.json
  --vectors segments|qdrant    vector backend: embedded index segments, or Qdrant (QDRANT_URL)
  --qdrant-datatype float32|float16  --qdrant-vector-storage memory|disk
  --qdrant-quantization none|int8    storage of a Qdrant collection the run creates (large pools)
  --qdrant-index-wait-seconds 3600   synth waits until the collection has finished indexing
  --format jsonl|mds|both      JSONL.zst parts, MosaicML Streaming MDS (input_ids), or both
  --text-field text --id-field id
  --concurrency N              shards at once: this process and N-1 shard processes (default: cores)
  --index-threads N            index partitions built at once (default: number of cores)
  --index-partition-chunks 131072  most chunks per HNSW graph of the segments index
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
