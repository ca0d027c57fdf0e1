import type { Rng } from '../rng.js';

/** keyword → ordinals of the documents that have it among their keywords (ascending). */
export function keywordGroups(keywordsByDoc: readonly (readonly string[])[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  keywordsByDoc.forEach((kws, ord) => {
    for (const kw of new Set(kws)) {
      const g = groups.get(kw);
      if (g) g.push(ord);
      else groups.set(kw, [ord]);
    }
  });
  return groups;
}

/**
 * `quest`: the documents that share a keyword with the anchor, group by group. The anchor's
 * keywords are taken largest group first (ties: the anchor's keyword order), each group in a
 * seeded random order; a document comes once, with the keyword of the group it came through.
 */
export function* questDocuments(
  anchorKeywords: readonly string[],
  groups: ReadonlyMap<string, readonly number[]>,
  rng: Rng,
  skip: (ord: number) => boolean = () => false,
): Generator<{ ord: number; keyword: string }> {
  const seen = new Set<number>();
  const order = [...new Set(anchorKeywords)]
    .map((kw, i) => ({ kw, i, size: groups.get(kw)?.length ?? 0 }))
    .sort((a, b) => b.size - a.size || a.i - b.i);
  for (const { kw } of order) {
    const g = [...(groups.get(kw) ?? [])];
    for (let i = 0; i < g.length; i++) {
      const j = i + rng.int(g.length - i);
      [g[i], g[j]] = [g[j]!, g[i]!];
      const ord = g[i]!;
      if (seen.has(ord) || skip(ord)) continue;
      seen.add(ord);
      yield { ord, keyword: kw };
    }
  }
}
