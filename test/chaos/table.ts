import type { TrialResult } from './scenarios.js';

// The chaos table: one row per scenario, summed over its trials.

export interface Row {
  scenario: string;
  trials: number;
  faults: number;
  completed: number;
  identical: number;
  lost: number;
  duplicated: number;
  hung: number;
  /** Worker kills that hit a running shard (its lock expired and another worker took it). */
  stalls: number;
  /** Moments that passed before the fault struck, by stage (`embed×2 index`). */
  missed: string;
  seconds: number;
}

export function summarize(scenario: string, results: TrialResult[], seconds: number): Row {
  const sum = (f: (r: TrialResult) => number) => results.reduce((n, r) => n + f(r), 0);
  return {
    scenario,
    trials: results.length,
    faults: sum((r) => r.faults),
    completed: sum((r) => Number(r.completed)),
    identical: sum((r) => Number(r.identical)),
    lost: sum((r) => r.lost),
    duplicated: sum((r) => r.duplicated),
    hung: sum((r) => Number(r.hung)),
    stalls: sum((r) => r.stalls),
    missed: missedOf(results.flatMap((r) => r.missed)),
    seconds: Math.round(seconds),
  };
}

function missedOf(stages: string[]): string {
  const n = new Map<string, number>();
  for (const s of stages) n.set(s, (n.get(s) ?? 0) + 1);
  return [...n].map(([s, k]) => (k > 1 ? `${s}×${k}` : s)).join(' ') || '-';
}

/** A row passes when every trial completed, identical, nothing lost or duplicated, none hung. */
export const passed = (r: Row) =>
  r.trials > 0 && r.completed === r.trials && r.identical === r.trials && r.lost === 0 && r.duplicated === 0 && r.hung === 0;

export function formatTable(rows: Row[], title: string): string {
  const head = [
    'scenario',
    'trials',
    'faults injected',
    'completed',
    'identical',
    'lost',
    'duplicated',
    'hung',
    'shards re-taken',
    'moments missed',
    'wall s',
    'result',
  ];
  const body = rows.map((r) =>
    [
      r.scenario,
      r.trials,
      r.faults,
      r.completed,
      r.identical,
      r.lost,
      r.duplicated,
      r.hung,
      r.stalls,
      r.missed,
      r.seconds,
      passed(r) ? 'ok' : 'FAIL',
    ].map(String),
  );
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [`\n${title}`, line(head), sep, ...body.map(line), ''].join('\n');
}
