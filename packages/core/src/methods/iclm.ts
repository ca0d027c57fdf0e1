import { compareRanked, type DocMatrix } from './doc-vectors.js';

/** One step of an ICLM path: the document and its cosine to the previous one (absent after a jump). */
export interface PathStep {
  ord: number;
  score?: number;
}

/** The k nearest other documents of every document (exact), by descending cosine, ties by ordinal. */
export function knnGraph(m: DocMatrix, k: number): { ord: number; score: number }[][] {
  const out: { ord: number; score: number }[][] = [];
  for (let i = 0; i < m.count; i++) {
    const q = m.row(i);
    const row: { ord: number; score: number }[] = [];
    for (let j = 0; j < m.count; j++) if (j !== i) row.push({ ord: j, score: m.score(j, q) });
    out.push(row.sort(compareRanked).slice(0, k));
  }
  return out;
}

/**
 * In-Context Pretraining's traversal (Shi et al., ICLR 2024): start from the first unvisited
 * document, always step to the most similar unvisited neighbour in the k-NN graph, and when
 * every neighbour is visited jump to the first unvisited document (lowest ordinal: deterministic;
 * the paper picks one of minimum degree). Every document appears exactly once.
 */
export function iclmPath(m: DocMatrix, k: number): PathStep[] {
  const graph = knnGraph(m, k);
  const visited = new Uint8Array(m.count);
  const path: PathStep[] = [];
  let lowest = 0;
  let cur = -1;
  while (path.length < m.count) {
    const step = cur >= 0 ? graph[cur]!.find((n) => !visited[n.ord]) : undefined;
    if (step) {
      cur = step.ord;
      path.push({ ord: cur, score: step.score });
    } else {
      while (visited[lowest]) lowest++;
      cur = lowest;
      path.push({ ord: cur });
    }
    visited[cur] = 1;
  }
  return path;
}
