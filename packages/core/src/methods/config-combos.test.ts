import { parseRunConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { sequenceParams } from '../sequence.js';

// Settings a run would never read are refused with one line naming the field; settings that are
// read are never checked against ones that are not (the band only matters to `selection: band`).
const base = { input: ['a.jsonl'], out: 'o' };

describe('negatives settings that the chosen strategy does not read are refused', () => {
  test.each([
    [{ band: '10-20' }, /band: 10-20 is read only with selection: band \(selection is topk\)/],
    [{ selection: 'random-pool', band: '1-5' }, /band: 1-5 is read only with selection: band/],
    [{ method: 'standard', retriever: 'bm25' }, /retriever: bm25 chooses negatives of method: nextlong, not method: standard/],
    [{ method: 'iclm', selection: 'band' }, /selection: band chooses negatives of method: nextlong, not method: iclm/],
    [{ method: 'knn', selection: 'random-pool' }, /selection: random-pool .* method: knn/],
  ])('%j', (extra, msg) => {
    expect(() => parseRunConfig({ ...base, ...extra })).toThrow(ConfigError);
    expect(() => parseRunConfig({ ...base, ...extra })).toThrow(msg);
  });

  test('explicit defaults and the settings a strategy reads are accepted', () => {
    expect(parseRunConfig({ ...base, method: 'standard', selection: 'topk', retriever: 'dense', band: '256-512' }).method).toBe('standard');
    expect(parseRunConfig({ ...base, selection: 'band', candidates: 64, band: '32-64' }).band).toBe('32-64');
    expect(parseRunConfig({ ...base, retriever: 'bm25', selection: 'band' }).retriever).toBe('bm25');
  });
});

describe('fewer candidates than the default band', () => {
  test.each(['random-candidates', 'random-pool', 'topk'] as const)('selection: %s with candidates: 100 runs', (selection) => {
    const c = parseRunConfig({ ...base, selection, candidates: 100 });
    expect(sequenceParams(c, 4).selection).toMatchObject({ selection, candidates: 100 });
  });

  test('a band still has to lie within the candidates', () => {
    expect(() => parseRunConfig({ ...base, selection: 'band', candidates: 100 })).toThrow(/LAST ≤ candidates \(100\), got "256-512"/);
  });
});
