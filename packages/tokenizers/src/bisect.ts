/**
 * Binary search over indices 0..n-1 ordered by `side(i)`: negative when the target lies before i,
 * positive when after, 0 at the target. Returns that index, or -1.
 */
export function bisect(n: number, side: (i: number) => number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const d = side(mid);
    if (d < 0) hi = mid - 1;
    else if (d > 0) lo = mid + 1;
    else return mid;
  }
  return -1;
}
