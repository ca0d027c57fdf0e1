/** Seeded PRNG (splitmix32 → mulberry32): same seed, same stream, on every platform. */
export class Rng {
  private state: number;
  constructor(seed: number | string) {
    this.state = typeof seed === 'number' ? seed >>> 0 : stringSeed(seed);
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

function stringSeed(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Seeded sample of `n` of the indices [0, total), returned in ascending order. */
export function sampleIndices(total: number, n: number, seed: number | string): number[] {
  if (n >= total) return Array.from({ length: total }, (_, i) => i);
  // Floyd's algorithm: O(n) memory, independent of total
  const rng = new Rng(seed);
  const chosen = new Set<number>();
  for (let j = total - n; j < total; j++) {
    const t = rng.int(j + 1);
    chosen.add(chosen.has(t) ? j : t);
  }
  return [...chosen].sort((a, b) => a - b);
}
