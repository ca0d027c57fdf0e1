/**
 * The bench harness: measures cases (median of N timed runs after warm-up, interleaved so that
 * drift hits every case alike) and prints one table per bench file with each case's ratio to
 * the baseline measured in the same run.
 *
 * A bench file (`bench/<name>.bench.js`) default-exports `async (ctx) => Bench`, where
 *   Bench = { title, runs?, warmup?, note?, after?: () => Promise<void>, cases: Case[] }
 *   Case  = { name, unit, baseline?: true, goal?: number, run: () => number | Promise<number> }
 * `run` does the work once (sync or async) and returns the amount done in `unit` terms (e.g. MB, tokens);
 * throughput = amount / median seconds. Exactly one case per bench is the baseline; the others
 * report throughput ÷ baseline throughput, and `goal` (a minimum ratio) marks them ok / BELOW.
 * The ratio's spread (min–max over rounds) compares each round's throughput with the baseline's in that round.
 * `ctx` = { corpus: () => Promise<Corpus>, runs?: number (from --runs) }.
 */

/** Median of numbers (mean of the middle two for even counts). */
export function median(xs) {
  return quantile(xs, 0.5);
}

/** The q-quantile of numbers, linearly interpolated between order statistics (q = 0.5: the median). */
export function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  return lo + 1 < s.length ? s[lo] + (s[lo + 1] - s[lo]) * (pos - lo) : s[lo];
}

/** Runs every case `warmup` times, then `runs` timed rounds (round-robin across cases). */
export async function measure(bench, runsOverride) {
  const runs = runsOverride ?? bench.runs ?? 5;
  const warmup = bench.warmup ?? 1;
  const amounts = new Map();
  const times = new Map(bench.cases.map((c) => [c, []]));
  const amountsByRound = new Map(bench.cases.map((c) => [c, []]));
  for (let i = 0; i < warmup; i++) for (const c of bench.cases) amounts.set(c, await c.run());
  for (let r = 0; r < runs; r++) {
    for (const c of bench.cases) {
      const t0 = process.hrtime.bigint();
      const amount = await c.run();
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      times.get(c).push(dt);
      amounts.set(c, amount);
      amountsByRound.get(c).push(amount);
    }
  }
  // Work to do once after the timed runs, before the note is read (e.g. measurements that are not cases).
  await bench.after?.();
  const base = bench.cases.find((c) => c.baseline);
  const rows = bench.cases.map((c) => {
    const seconds = median(times.get(c));
    return {
      name: c.name,
      unit: c.unit,
      seconds,
      amount: amounts.get(c),
      rate: amounts.get(c) / seconds,
      baseline: !!c.baseline,
      goal: c.goal,
    };
  });
  const baseRate = base ? rows[bench.cases.indexOf(base)].rate : undefined;
  for (const row of rows) {
    row.ratio = baseRate ? row.rate / baseRate : undefined;
    row.ok = row.goal === undefined || row.ratio === undefined ? undefined : row.ratio >= row.goal;
  }
  // Spread: each round's ratio (its throughput ÷ the baseline's in the same round), min and max.
  if (base) {
    const rate = (c, r) => amountsByRound.get(c)[r] / times.get(c)[r];
    bench.cases.forEach((c, i) => {
      if (c === base) return;
      const perRound = times.get(c).map((_, r) => rate(c, r) / rate(base, r));
      rows[i].ratioRange = [Math.min(...perRound), Math.max(...perRound)];
    });
  }
  return { title: bench.title, note: bench.note, runs, rows };
}

const fmt = (x, digits = 3) => (x === undefined ? '' : Number(x.toPrecision(digits)).toLocaleString('en-US', { maximumFractionDigits: 3 }));

/** Prints a measured bench as a plain-text table. */
export function printTable(result, out = process.stdout) {
  const head = ['case', 'median', 'throughput', 'unit', 'ratio', 'min–max', 'goal', ''];
  const body = result.rows.map((r) => [
    r.name,
    `${fmt(r.seconds * 1000, 4)} ms`,
    fmt(r.rate, 4),
    `${r.unit}/s`,
    r.baseline ? 'baseline' : fmt(r.ratio),
    r.ratioRange ? `${fmt(r.ratioRange[0])}–${fmt(r.ratioRange[1])}` : '',
    r.goal === undefined ? '' : `≥ ${r.goal}`,
    r.ok === undefined ? '' : r.ok ? 'ok' : 'BELOW',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells) =>
    cells
      .map((c, i) => (i === 0 || i === 3 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  out.write(`\n## ${result.title} (median of ${result.runs} runs)\n`);
  if (result.note) out.write(`${result.note}\n`);
  out.write(`${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const b of body) out.write(`${line(b)}\n`);
}
