import path from 'node:path';
import type { Manifest } from '@nextlong/pipeline';

/** `name` inside an output location: a local folder or an s3:// URL (path.join would drop a slash of `s3://`). */
const under = (out: string, name: string) => (/^s3:\/\//.test(out) ? `${out.replace(/\/+$/, '')}/${name}` : path.join(out, name));

/** The end-of-run summary a user reads. */
export function formatSummary(m: Manifest): string {
  const c = m.counts;
  const discarded = Object.entries(c.sequences_discarded)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  const mins = m.timings.total_seconds! / 60;
  const neg = m.negative_score;
  const rnd = m.random_score;
  const method = m.config.method ?? 'nextlong';
  const bm25 = m.config.retriever === 'bm25';
  return [
    '',
    `NExtLong run ${m.run_id} done in ${m.timings.total_seconds!.toFixed(1)} s`,
    `  documents   ${c.documents_read} read, ${c.documents_rejected} rejected${c.duplicate_ids ? ` (${c.duplicate_ids} duplicate ids: first occurrence kept)` : ''}, ${c.documents_unsampled} not sampled` +
      (c.documents_merged ? `, ${c.documents_merged} merged into sequences` : ''),
    `  pool        ${c.chunks_indexed} chunks indexed`,
    `  sequences   ${c.sequences_written} written × ${m.config.targetTokens} tokens (${m.config.tokenizer}); discarded: ${discarded || 'none'}`,
    `  throughput  ${(c.output_tokens / m.timings.total_seconds!).toFixed(0)} output tokens/s, ${(c.sequences_written / Math.max(mins, 1e-9)).toFixed(1)} sequences/min`,
    method === 'nextlong'
      ? `  negatives   ${m.negatives.placed} placed, mean ${bm25 ? 'BM25 score' : 'cosine'} ${neg.mean ?? '-'} vs random pool chunks ${rnd.mean ?? '-'}` +
        (m.negatives.shortfall ? `; pool ran short by ${m.negatives.shortfall}` : '')
      : // comparison methods place whole documents: their scores are document cosines to the anchor (README)
        `  documents   mean cosine ${neg.mean ?? '-'} to the anchor (${method}) vs random pool documents ${rnd.mean ?? '-'}`,
    `  output      ${under(m.config.out, 'sequences')}/ (manifest: ${under(m.config.out, 'manifest.json')})`,
    `  inspect     nextlong inspect --out ${m.config.out}   (HTML report: counts, hardness, sequences)`,
    '',
  ].join('\n');
}
