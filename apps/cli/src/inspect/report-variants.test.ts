import { execFileSync } from 'node:child_process';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { parseRunConfig, type RunConfigInput } from '@nextlong/core';
import { runLocal, type Manifest } from '@nextlong/pipeline';
import { fixturePath, tempDir } from '@nextlong/testing';
import { main } from '../main.js';

// Reports of runs other than the default nextlong/dense one, opened in headless Chromium.
let dir: string;
let cleanup: () => Promise<void>;
let browser: Browser;
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('nextlong-inspect-variants-'));
  const executablePath =
    process.env.CHROMIUM_PATH ??
    execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
  browser = await puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
});
afterAll(async () => {
  await browser?.close();
  await cleanup?.();
});

/** Runs on the fixture corpus at a small T, writes the report, opens it; page errors are collected. */
async function report(name: string, extra: Partial<RunConfigInput>): Promise<{ manifest: Manifest; page: Page; errors: string[] }> {
  const out = path.join(dir, name);
  const config = parseRunConfig({
    input: [fixturePath('docs-a.slice.jsonl')],
    out,
    targetTokens: 1024,
    sequences: 6,
    concurrency: 1,
    ...extra,
  });
  const manifest = await runLocal(config, { quiet: true });
  const html = path.join(dir, `${name}.html`);
  const write = process.stdout.write;
  process.stdout.write = () => true; // the command's one-line summary
  try {
    expect(await main(['inspect', '--out', out, '--html', html])).toBe(0);
  } finally {
    process.stdout.write = write;
  }
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto('file://' + html, { waitUntil: 'load' });
  return { manifest, page, errors };
}

// BM25 scores lie above 1: the [-1, 1] histogram's quantiles saturate (p10 0.995 under a min of 1)
test('the hardness section of a bm25 run shows BM25 summaries, not a cosine histogram', async () => {
  const { manifest, page, errors } = await report('bm25', { retriever: 'bm25' });
  expect(manifest.negative_score.max!).toBeGreaterThan(1);
  expect(await page.$eval('#score-title', (e) => e.textContent)).toMatch(/^BM25 scores/);
  const header = await page.$eval('#score-title ~ table', (t) => [...t.querySelectorAll('th')].map((th) => th.textContent));
  expect(header).toEqual(['', 'count', 'mean', 'min', 'max']);
  const hardness = await page.$eval('#hardness', (e) => e.textContent ?? '');
  expect(hardness).not.toContain('cosine similarity (share of pairs per bin)');
  expect(hardness).toContain(manifest.negative_score.max!.toFixed(3));
  expect(errors).toEqual([]);
}, 300_000);

// comparison methods' records carry no placement: the explorer must not print "placement undefined"
test('a comparison method run shows its method and no placement', async () => {
  const { page, errors } = await report('standard', { method: 'standard' });
  const info = await page.$eval('#seq-title + p', (e) => e.textContent ?? '');
  expect(info).toContain('method standard');
  expect(info).not.toContain('placement');
  expect(await page.$eval('#score-title', (e) => e.textContent)).toMatch(/^Cosine similarity/);
  expect(errors).toEqual([]);
}, 300_000);
