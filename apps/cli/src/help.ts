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
  --format jsonl|mds|both      JSONL.zst parts, MosaicML Streaming MDS (input_ids), or both
  --text-field text --id-field id
  --concurrency N              shard processes (default: number of cores)
  Every other setting of the run configuration is a flag too, e.g. --similarity-ceiling 0.95,
  --chars-per-token 4.1, --shard-docs 2000, --embed-batch 64 (see README).

Fleet: the coordinator plans the run, enqueues shards in Redis (BullMQ) and waits; workers
need only --redis (REDIS_URL) and the S3/Qdrant environment: each job names the run's output
location, where run.json holds the configuration. --metrics [host]:port serves /metrics,
/healthz and /readyz (default :9464 for fleet processes, NEXTLONG_METRICS_ADDR; "off" disables);
the coordinator keeps serving NEXTLONG_METRICS_LINGER_SECONDS (15) after it finishes.

Exit status: 0 on success, 1 when the run failed, 2 on a usage or configuration error.
`;
