import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DocIdTable } from './doc-ids.js';
import { tempStore } from './test-support.js';

describe('DocIdTable', () => {
  test('ordinal ↔ id for every id, unicode and JSON escapes included; unknown ids are -1', async () => {
    const { dir, cleanup } = await tempStore();
    try {
      const ids = ['a', '日本語 🎌', 'quote "x"\n\\', '', ...Array.from({ length: 500 }, (_, i) => `doc-${i}`)];
      const file = path.join(dir, 'docs.jsonl');
      await writeFile(file, ids.map((id) => JSON.stringify(id) + '\n').join(''));
      const t = await DocIdTable.read(file, 'docs');
      expect(t.count).toBe(ids.length);
      ids.forEach((id, ord) => {
        expect(t.id(ord)).toBe(id);
        expect(t.ordinal(id)).toBe(ord);
      });
      expect(t.ordinal('doc-500')).toBe(-1);
      expect(t.ordinal('日本')).toBe(-1);
    } finally {
      await cleanup();
    }
  });

  test('a line that is not a JSON string is named by file and line', async () => {
    const { dir, cleanup } = await tempStore();
    try {
      const file = path.join(dir, 'docs.jsonl');
      await writeFile(file, '"a"\n{"id":1}\n');
      await expect(DocIdTable.read(file, 'out/index/docs.jsonl')).rejects.toThrow('out/index/docs.jsonl:2: not a JSON string');
    } finally {
      await cleanup();
    }
  });
});
