import { Rng } from '../rng.js';
import { keywordGroups, questDocuments } from './quest.js';
import { rakeKeywords, rakeWords } from './rake.js';

describe('quest: RAKE keywords and keyword groups', () => {
  const text =
    'Compatibility of systems of linear constraints over the set of natural numbers. Criteria of compatibility ' +
    'of a system of linear Diophantine equations, strict inequations, and nonstrict inequations are considered.';

  test('RAKE phrases as in Rose et al. (2010): stop words and punctuation split candidates', () => {
    const kws = rakeKeywords(text, { max: 4, maxWords: 4 }).map((k) => k.phrase);
    expect(kws[0]).toBe('linear diophantine equations');
    expect(kws).toContain('linear constraints');
    expect(kws).not.toContain('of');
  });

  test('RAKE words by degree: frequent words in longer phrases first', () => {
    const words = rakeWords(text, { max: 3 }).map((k) => k.phrase);
    expect(words).toContain('linear');
    expect(words).toContain('inequations');
    expect(words.every((w) => !w.includes(' '))).toBe(true);
  });

  test("groups, and the anchor's documents: every one shares the keyword it came through", () => {
    const kws = [['git', 'merge'], ['git'], ['python'], ['merge', 'git'], ['merge'], ['perl']];
    const groups = keywordGroups(kws);
    expect(groups.get('git')).toEqual([0, 1, 3]);
    const got = [...questDocuments(kws[0]!, groups, new Rng('a'), (o) => o === 0)];
    for (const g of got) expect(kws[g.ord]).toContain(g.keyword);
    expect(got.map((g) => g.ord).sort()).toEqual([1, 3, 4]);
    expect(new Set(got.map((g) => g.ord)).size).toBe(got.length); // each once
    // the largest group comes first (git: 3 documents, merge: 3; ties by the anchor's order)
    expect(got[0]!.keyword).toBe('git');
  });
});
