import type { Rng } from '../rng.js';

/**
 * `standard`: pool document ordinals drawn uniformly at random without replacement (a sparse
 * Fisher–Yates shuffle: memory grows with the draws, not the pool), skipping `skip` (the anchor).
 */
export function* randomDocuments(poolSize: number, rng: Rng, skip: (ord: number) => boolean = () => false): Generator<number> {
  const swapped = new Map<number, number>();
  for (let i = 0; i < poolSize; i++) {
    const j = i + rng.int(poolSize - i);
    const pick = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    swapped.delete(i);
    if (!skip(pick)) yield pick;
  }
}
