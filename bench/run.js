#!/usr/bin/env node
/**
 * npm run bench [-- <filter>...] [--runs N] [--json results.json] [--list]
 *
 * Runs every bench/*.bench.js (or those whose name contains a filter), each printing a table.
 * Benches import the BUILT packages (packages/*\/dist): run `npm run build` first.
 * Text: ../shared/corpora/docs-a.jsonl.zst when present, else test/fixtures/docs-a.slice.jsonl
 * (override with BENCH_CORPUS=<file>, cap with BENCH_MAX_MB=<n>).
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadCorpus } from './lib/corpus.js';
import { measure, printTable } from './lib/harness.js';

const here = dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const args = { filters: [], runs: undefined, json: undefined, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--runs') args.runs = Number(argv[++i]);
    else if (a === '--json') args.json = argv[++i];
    else if (a === '--list') args.list = true;
    else if (a === '--help' || a === '-h') args.help = true;
    else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else args.filters.push(a);
  }
  if (args.runs !== undefined && !(Number.isInteger(args.runs) && args.runs > 0)) throw new Error('--runs takes a positive integer');
  return args;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`bench: ${err.message}`);
    process.exit(2);
  }
  if (args.help) {
    console.log('usage: npm run bench [-- <filter>...] [--runs N] [--json results.json] [--list]');
    return;
  }
  const all = readdirSync(here)
    .filter((f) => f.endsWith('.bench.js'))
    .sort();
  const files = args.filters.length ? all.filter((f) => args.filters.some((x) => f.includes(x))) : all;
  if (args.list || files.length === 0) {
    if (files.length === 0) console.error(`bench: nothing matches ${args.filters.join(', ')}`);
    console.log(`benches: ${all.map((f) => f.replace(/\.bench\.js$/, '')).join(', ')}`);
    process.exit(files.length === 0 ? 2 : 0);
  }
  for (const pkg of ['core', 'tokenizers']) {
    if (!existsSync(join(here, '..', 'packages', pkg, 'dist', 'index.js'))) {
      console.error(
        `bench: packages/${pkg}/dist is missing: run \`npm run build\` (or \`npx tsc -b packages/core packages/tokenizers\`) first`,
      );
      process.exit(2);
    }
  }
  const corpus = await loadCorpus();
  console.log(`corpus: ${corpus.file}: ${corpus.docs.length} documents, ${(corpus.bytes / 1e6).toFixed(1)} MB UTF-8`);
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  const results = [];
  for (const f of files) {
    const mod = await import(pathToFileURL(join(here, f)).href);
    const bench = await mod.default({ corpus: loadCorpus, runs: args.runs });
    const result = await measure(bench, args.runs);
    printTable(result);
    results.push({ file: f, ...result });
  }
  if (args.json)
    writeFileSync(
      args.json,
      `${JSON.stringify({ corpus: { file: corpus.file, docs: corpus.docs.length, bytes: corpus.bytes }, node: process.version, results }, null, 2)}\n`,
    );
  const below = results.flatMap((r) => r.rows.filter((row) => row.ok === false).map((row) => `${r.title}: ${row.name}`));
  if (below.length) console.log(`\nbelow goal: ${below.join('; ')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
