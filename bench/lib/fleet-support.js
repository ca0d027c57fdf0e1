/** Helpers of the fleet bench: /proc readings, output digests and worker /metrics summaries. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const CLK_TCK = 100; // /proc/<pid>/stat ticks per second on Linux

/** CPU seconds (user + system, waited-for children included) of a live process, from /proc. */
export function cpuOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** Resident memory of a live process in MB, from /proc (NaN when gone). */
export function rssMB(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m)[1]) / 1024;
  } catch {
    return NaN;
  }
}

/** sha256 over the names and bytes of <out>/sequences/*, to compare fleet and local outputs. */
export function digestOf(out) {
  const dir = path.join(out, 'sequences');
  const h = createHash('sha256');
  for (const f of readdirSync(dir).sort())
    h.update(f)
      .update('\0')
      .update(readFileSync(path.join(dir, f)));
  return h.digest('hex').slice(0, 16);
}

/** Sum of a metric's samples (every label set) in Prometheus text, 0 when absent. */
function metricSum(text, name) {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Per-label values of a metric, e.g. { embed: 4, synth: 4 } by `stage`. */
export function metricByLabel(text, name, label) {
  const out = {};
  const re = new RegExp(`^${name}\\{[^}]*${label}="([^"]*)"[^}]*\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) out[m[1]] = (out[m[1]] ?? 0) + Number(m[2]);
  return out;
}

/** Note lines from the workers' scraped /metrics: stalled jobs, retries and work per worker. */
export function scrapedNote(scraped) {
  const out = [];
  const ok = scraped.filter((s) => s.text);
  const stalled = ok.reduce((s, x) => s + metricSum(x.text, 'nextlong_jobs_stalled_total'), 0);
  const retries = ok.reduce((s, x) => s + metricSum(x.text, 'nextlong_shard_retries_total'), 0);
  const shards = ok.map((x) => {
    const n = metricByLabel(x.text, 'nextlong_shard_seconds_count', 'stage');
    const t = metricByLabel(x.text, 'nextlong_shard_seconds_sum', 'stage');
    return `${x.name} ${Object.keys(n)
      .map((k) => `${n[k]} ${k} shards ${t[k].toFixed(1)} s`)
      .join(', ')}`;
  });
  out.push(
    `stalled jobs (nextlong_jobs_stalled_total, all workers, all runs): ${stalled}, goal 0 ${stalled > 0 ? 'BELOW' : 'ok'}; ` +
      `shard retries (nextlong_shard_retries_total): ${retries}, goal 0 ${retries > 0 ? 'BELOW' : 'ok'}` +
      (ok.length < scraped.length
        ? `; metrics unreadable: ${scraped
            .filter((s) => !s.text)
            .map((s) => `${s.name} (${s.error})`)
            .join(', ')}`
        : ''),
  );
  out.push(`work per worker: ${shards.join('; ')}`);
  return out;
}
