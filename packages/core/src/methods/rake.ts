import { eng } from 'stopword';

/**
 * RAKE keyword extraction (Rose et al., 2010), written plainly here; the stop list is the
 * `stopword` package's English list. Candidate phrases are the runs of words between stop words
 * and punctuation; a word scores degree/frequency over the candidates, a phrase the sum of its
 * words. Quest (Gao et al. 2024) runs RAKE on queries predicted by doc2query; no doc2query model
 * can be obtained here, so it runs on the document text itself.
 */

const STOP = new Set(eng.map((w) => w.toLowerCase()));
/** Phrase delimiters: sentence and clause punctuation, brackets, quotes, line breaks, symbols. */
const DELIMS = /[\n\r\t.,;:!?()[\]{}"“”‘’`|<>=/\\*#@&%$^~+_]+|\s[-–—]+\s|'\s|\s'/u;
const WORD = /^[\p{L}][\p{L}\p{N}'’-]*$/u;

export interface Keyword {
  phrase: string;
  score: number;
}

export interface RakeOptions {
  /** Keywords returned (the best ones). */
  max: number;
  /** Longest candidate phrase in words (longer runs are no candidates: they never recur). */
  maxWords?: number;
}

export function rakeKeywords(text: string, o: RakeOptions): Keyword[] {
  const { phrases, freq, degree } = candidates(text, o.maxWords ?? 3);
  const scores = new Map<string, number>();
  for (const p of phrases) {
    const phrase = p.join(' ');
    if (!scores.has(phrase))
      scores.set(
        phrase,
        p.reduce((s, w) => s + degree.get(w)! / freq.get(w)!, 0),
      );
  }
  return best(scores, o.max);
}

/**
 * RAKE's single-word keywords: words by degree (RAKE's deg(w), which favours words that occur
 * often and in longer phrases). Quest groups by these: whole phrases rarely recur across documents.
 */
export function rakeWords(text: string, o: RakeOptions): Keyword[] {
  const { degree } = candidates(text, o.maxWords ?? 3);
  return best(degree, o.max);
}

/** Candidate phrases, and each word's frequency and degree over them. */
function candidates(text: string, maxWords: number): { phrases: string[][]; freq: Map<string, number>; degree: Map<string, number> } {
  const phrases: string[][] = [];
  for (const part of text.toLowerCase().split(DELIMS)) {
    let run: string[] = [];
    const flush = () => {
      if (run.length > 0 && run.length <= maxWords) phrases.push(run);
      run = [];
    };
    for (const w of part.split(/\s+/)) {
      if (w === '') continue;
      // a word must start with a letter and be at least 2 long; anything else ends the phrase
      if (STOP.has(w) || w.length < 2 || !WORD.test(w)) flush();
      else run.push(w);
    }
    flush();
  }
  const freq = new Map<string, number>();
  const degree = new Map<string, number>();
  for (const p of phrases) {
    for (const w of p) {
      freq.set(w, (freq.get(w) ?? 0) + 1);
      degree.set(w, (degree.get(w) ?? 0) + p.length);
    }
  }
  return { phrases, freq, degree };
}

/** The `max` best by score, ties by code unit order (deterministic). */
function best(scores: Map<string, number>, max: number): Keyword[] {
  return [...scores]
    .map(([phrase, score]) => ({ phrase, score }))
    .sort((a, b) => b.score - a.score || (a.phrase < b.phrase ? -1 : a.phrase > b.phrase ? 1 : 0))
    .slice(0, max);
}
