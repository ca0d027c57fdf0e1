import { writeFileSync } from 'node:fs';
import { startS3rver, tempDir, type S3rverHandle } from '@nextlong/testing';
import { Rng } from './chaos/harness.js';
import { referenceRun, uploadCorpus, type Corpus, type Output } from './chaos/output.js';
import { scenarios, type TrialResult } from './chaos/scenarios.js';
import { formatTable, passed, summarize, type Row } from './chaos/table.js';

// The chaos suite (docs/chaos.md). By default the short version: one trial per scenario, part
// of `npm test`. CHAOS_LONG=1 (`npm run chaos`) runs the long version: 31 trials, about 10 minutes
// on 2 cores. Every trial is a fleet run of the built CLI with faults injected, checked byte for
// byte against an uninterrupted `nextlong run`.
const LONG = process.env.CHAOS_LONG === '1';
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 2 ** 31);
const BOUND_MS = 1000 * Number(process.env.CHAOS_BOUND_S ?? (LONG ? 120 : 75));
// a safety stop: past it, each remaining scenario runs one trial only
const BUDGET_MS = 1000 * Number(process.env.CHAOS_BUDGET_S ?? (LONG ? 900 : 600));
const only = process.env.CHAOS_ONLY; // a substring of scenario names, to run some of them

const chosen = scenarios.filter((s) => !only || s.name.includes(only));
const trialsOf = (s: (typeof scenarios)[number]) => (LONG ? s.trials.long : s.trials.short);

describe(`chaos (${LONG ? 'long' : 'short'} version, seed ${SEED})`, () => {
  let s3: S3rverHandle;
  let corpus: Corpus;
  let reference: Output;
  let shards: number;
  let cleanup: () => Promise<void>;
  const rows: Row[] = [];
  const suiteStart = Date.now();

  beforeAll(async () => {
    s3 = await startS3rver({ buckets: ['corpus', 'results'] });
    let dir: string;
    ({ dir, cleanup } = await tempDir('nextlong-chaos-'));
    corpus = await uploadCorpus(s3.env);
    reference = await referenceRun(corpus, s3.env, dir);
    shards = Object.keys(reference.parts).length;
  }, 180_000);

  afterAll(async () => {
    const table = formatTable(
      rows,
      `chaos table (${LONG ? 'long' : 'short'} version, seed ${SEED}, ${Math.round((Date.now() - suiteStart) / 1000)} s):`,
    );
    process.stdout.write(`${table}\n`);
    if (process.env.CHAOS_TABLE) writeFileSync(process.env.CHAOS_TABLE, table);
    await s3?.stop();
    await cleanup?.();
  });

  for (const [si, scenario] of chosen.entries()) {
    const trials = trialsOf(scenario);
    test(
      scenario.name,
      async () => {
        // a scenario stops at its first hung trial: the next would only hang as well
        const t0 = Date.now();
        const results: TrialResult[] = [];
        for (let i = 0; i < trials; i++) {
          if (i > 0 && Date.now() > suiteStart + BUDGET_MS) break;
          const rng = new Rng(SEED + 7919 * si + i);
          const name = `${scenario.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}${LONG ? 'long' : ''}-${i}-${rng.seed}`;
          const r = await scenario.run({ corpus, reference, s3env: s3.env, shards, rng, name, boundMs: BOUND_MS, index: i, long: LONG });
          results.push(r);
          if (r.hung) break;
        }
        const row = summarize(scenario.name, results, (Date.now() - t0) / 1000);
        rows.push(row);
        const failures = results.map((r, i) => ({ r, i })).filter(({ r }) => !(r.completed && r.identical && !r.hung));
        if (failures.length) {
          const report = failures.map(({ r, i }) => `trial ${i}: faults ${r.faults}\n${r.notes.join('\n')}`).join('\n\n');
          throw new Error(`${scenario.name}: ${failures.length} of ${results.length} trial(s) failed\n${report}`);
        }
        expect(passed(row)).toBe(true);
        expect(row.faults).toBeGreaterThan(0); // a trial without a fault proves nothing
      },
      trials * BOUND_MS + 60_000,
    );
  }
});
