import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError } from '@nextlong/core';
import { openObjectStore } from '@nextlong/storage';
import { buildReportData } from './inspect/report-data.js';
import { renderHtml } from './inspect/page.js';
import type { SampleRequest } from './inspect/sample.js';

/** Sequences shown when --sequences is not given. */
export const DEFAULT_SAMPLE = 50;
/** Most megabytes of sequence data (texts and segments) embedded: with the rest, a report stays under 15 MB. */
export const DEFAULT_BUDGET_MB = 12;

/** `--sequences N|id,id,…`: a count (digits only) or document ids. */
export function parseSequences(v: string | undefined, seed: number): SampleRequest {
  if (v === undefined) return { count: DEFAULT_SAMPLE, seed };
  if (/^\d+$/.test(v.trim())) return { count: Number(v), seed };
  const ids = v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (!ids.length) throw new ConfigError('--sequences: give a number of sequences or a comma-separated list of ids');
  return { ids };
}

function number(v: string | undefined, name: string, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new ConfigError(`--${name}: expected a number ≥ ${min}, got "${v}"`);
  return n;
}

/** `nextlong inspect --out <dir|s3://…> [--html report.html] [--sequences N|id,…]`: writes the HTML report. */
export async function inspectCommand(v: Record<string, unknown>): Promise<number> {
  const out = v.out as string | undefined;
  if (!out) throw new ConfigError('inspect needs --out <dir|s3://bucket/prefix> (the run output location)');
  const seed = number(v.seed as string | undefined, 'seed', 0, 0);
  const sample = parseSequences(v.sequences as string | undefined, seed);
  const budget = number(v['budget-mb'] as string | undefined, 'budget-mb', DEFAULT_BUDGET_MB, 0) * 1e6;
  const store = openObjectStore(out);
  const t0 = performance.now();
  const data = await buildReportData(store, { sample, budgetBytes: budget });
  if ('ids' in sample && data.sample.picked === 0) {
    // a typo must not look like a report: nothing asked for is in it
    throw new ConfigError(
      `--sequences: no sequence of the run at ${out} has ${sample.ids.length === 1 ? `the id ${sample.ids[0]}` : `any of the ids ${sample.ids.join(', ')}`} (ids are the "id" field of the records under sequences/; give a number for a sample)`,
    );
  }
  const html = renderHtml(data);
  const file =
    (v.html as string | undefined) ?? (/^s3:\/\//.test(out) ? `nextlong-report-${data.run.run_id}.html` : path.join(out, 'report.html'));
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await writeFile(file, html);
  const s = data.sample;
  process.stdout.write(
    `report ${file}: ${(Buffer.byteLength(html) / 1e6).toFixed(2)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s; ` +
      `${s.picked} of ${s.total_sequences} sequences sampled, ${s.shown} shown (${s.with_text} with text)${data.finished ? '' : '; run not finished: shows the done shards'}\n`,
  );
  if (s.missing_ids.length) process.stderr.write(`nextlong: not found in the run: ${s.missing_ids.join(', ')}\n`);
  return 0;
}
