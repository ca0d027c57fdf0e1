import type { Manifest } from '@nextlong/pipeline';
import { formatSummary } from './summary.js';

const manifest = (out: string) =>
  ({
    run_id: 'r1',
    config: { out, targetTokens: 1024, tokenizer: 'cl100k' },
    timings: { total_seconds: 2 },
    counts: { documents_read: 3, documents_rejected: 0, documents_unsampled: 0, chunks_indexed: 9, sequences_written: 2, sequences_discarded: {}, output_tokens: 2048 },
    negatives: { placed: 4, shortfall: 0 },
    negative_score: { mean: 0.8 },
    random_score: { mean: 0.5 },
  }) as unknown as Manifest;

describe('run summary', () => {
  it('keeps both slashes of an s3:// output location', () => {
    const text = formatSummary(manifest('s3://results/fleet/'));
    expect(text).toContain('s3://results/fleet/sequences/ (manifest: s3://results/fleet/manifest.json)');
  });
  it('names BM25 scores and comparison-method document cosines for what they are', () => {
    const base = manifest('out/run');
    expect(formatSummary(base)).toContain('4 placed, mean cosine 0.8 vs random pool chunks 0.5');
    expect(formatSummary({ ...base, config: { ...base.config, retriever: 'bm25' } })).toContain('mean BM25 score 0.8 vs random pool chunks 0.5');
    const iclm = { ...base, config: { ...base.config, method: 'iclm' }, counts: { ...base.counts, documents_merged: 1 } } as Manifest;
    expect(formatSummary(iclm)).toContain('mean cosine 0.8 to the anchor (iclm) vs random pool documents 0.5');
    expect(formatSummary(iclm)).not.toContain('placed');
    expect(formatSummary(iclm)).toContain('0 not sampled, 1 merged into sequences');
  });
  it('joins a local output folder as a path', () => {
    expect(formatSummary(manifest('out/run'))).toContain('out/run/sequences/ (manifest: out/run/manifest.json)');
  });
});
