#!/usr/bin/env node
// Runs every condition of examples/paper on one corpus and prints them side by side.
//
//   node examples/paper/run-all.js [--input <corpus>...] [--out <folder>] [--only a,b] [-- <flags for every run>]
//
// Defaults: the demo corpus (demo/corpus) and out/paper/<condition>. Each condition is one
// `nextlong run --config examples/paper/<condition>.yaml`; flags after `--` override the configs
// (e.g. `-- --target-tokens 8192 --sequences 50`). Re-running resumes finished runs (the
// manifest is rewritten, so their seconds and tokens/s are then those of the quick re-run). Needs the built CLI (`npm run build`).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const cli = path.join(root, 'apps', 'cli', 'bin', 'nextlong.js');

/** The paper's order: Table 1's methods, then the ablations, then LiteLong's retriever. */
const ORDER = ['table1-nextlong', 'table1-quest', 'table1-standard', 'table1-knn', 'table1-iclm'];

function parseArgs(argv) {
  const o = { input: [], out: path.join(root, 'out', 'paper'), only: undefined, extra: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      o.extra = argv.slice(i + 1);
      break;
    } else if (a === '--input') o.input.push(argv[++i]);
    else if (a === '--out') o.out = argv[++i];
    else if (a === '--only') o.only = new Set(argv[++i].split(','));
    else if (a === '--help' || a === '-h') {
      console.log(
        readFileSync(fileURLToPath(import.meta.url), 'utf8')
          .split('\n')
          .slice(1, 9)
          .join('\n')
          .replace(/^\/\/ ?/gm, ''),
      );
      process.exit(0);
    } else {
      console.error(`run-all: unknown argument ${a} (see --help)`);
      process.exit(2);
    }
  }
  if (o.input.length === 0) o.input.push(path.join(root, 'demo', 'corpus'));
  return o;
}

function conditions(only) {
  const names = readdirSync(here)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -5));
  const rank = (n) => (ORDER.includes(n) ? ORDER.indexOf(n) : n.startsWith('ablation-') ? 100 : 200);
  return names.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1)).filter((n) => !only || only.has(n));
}

function runOne(name, o) {
  const out = path.join(o.out, name);
  const args = [
    cli,
    'run',
    '--config',
    path.join(here, `${name}.yaml`),
    '--out',
    out,
    ...o.input.flatMap((i) => ['--input', i]),
    ...o.extra,
  ];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  const manifest = path.join(out, 'manifest.json');
  if (r.status !== 0 || !existsSync(manifest)) {
    const why = (r.stderr || '').trim().split('\n').filter(Boolean).pop() ?? `exit ${r.status}`;
    return { name, error: why };
  }
  return { name, wall, m: JSON.parse(readFileSync(manifest, 'utf8')) };
}

function row(r) {
  if (r.error) return [r.name, '', '', '', '', '', '', '', `failed: ${r.error.slice(0, 80)}`];
  const m = r.m;
  const c = m.counts;
  const discarded = Object.values(c.sequences_discarded).reduce((a, b) => a + b, 0);
  const neg = m.negative_score.mean;
  const rnd = m.random_score.mean;
  const secs = m.timings.total_seconds ?? r.wall;
  const f = (x, d = 3) => (x === null || x === undefined ? '-' : x.toFixed(d));
  return [
    r.name,
    m.method ?? m.config.method ?? 'nextlong',
    String(c.sequences_written),
    String(discarded),
    f(neg),
    f(rnd),
    neg !== null && rnd !== null ? f(neg - rnd) : '-',
    f(secs, 1),
    `${Math.round(c.output_tokens / Math.max(secs, 1e-9)).toLocaleString('en-US')}`,
  ];
}

const o = parseArgs(process.argv.slice(2));
if (!existsSync(path.join(root, 'apps', 'cli', 'dist', 'main.js'))) {
  console.error('run-all: the CLI is not built; run `npm run build` at the repository root');
  process.exit(2);
}
const head = ['condition', 'method', 'written', 'discarded', 'score', 'random', 'hardness', 'seconds', 'tokens/s'];
const rows = [];
for (const name of conditions(o.only)) {
  process.stderr.write(`run-all: ${name} ...\n`);
  rows.push(row(runOne(name, o)));
}
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (cells) =>
  cells
    .map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
    .join('  ')
    .trimEnd();
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
console.log(
  '\nscore: mean cosine of the placed negatives (nextlong) or of the added documents to the anchor (other methods);' +
    '\n  with retriever bm25 (litelong-bm25) score and random are BM25 scores, not cosines;' +
    '\nrandom: the same anchor against random pool chunks/documents; hardness = score - random.' +
    "\nseconds: the run's total (manifest timings); tokens/s: output tokens per second of it.",
);
process.exit(rows.some((r) => r[8].startsWith('failed')) ? 1 : 0);
