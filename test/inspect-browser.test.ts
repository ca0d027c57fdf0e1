import { copyFile, cp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { main } from '@nextlong/cli';
import { sliceCodePoints, parseRunConfig } from '@nextlong/core';
import { runLocal, type Manifest } from '@nextlong/pipeline';
import { readSequences, startS3rver, tempDir, type OutRecord } from '@nextlong/testing';
import { openObjectStore } from '@nextlong/storage';
import { chromiumPath, writeHostileCorpus } from './inspect-support.js';
import { renderHtml } from '../apps/cli/src/inspect/page.js';
import type { ReportData } from '../apps/cli/src/inspect/report-data.js';
import { viewSequences } from '../apps/cli/src/inspect/view.js';

// `nextlong inspect` on a real run, opened from file:// in headless Chromium: the report must show
// the manifest's counts and the JSONL's segments, touch no network, and run no corpus text.

const T = 2048;
let dir: string;
let cleanup: () => Promise<void>;
let browser: Browser;
let manifest: Manifest;
let records: Map<string, OutRecord>;
let hostileIds: string[];

async function inspect(out: string, html: string, extra: string[] = []): Promise<void> {
  const write = process.stdout.write;
  process.stdout.write = () => true; // the command's one-line summary
  try {
    expect(await main(['inspect', '--out', out, '--html', html, ...extra])).toBe(0);
  } finally {
    process.stdout.write = write;
  }
}

/** Opens a report with every request and console message recorded, and a canary for executed text. */
async function open(html: string): Promise<{ page: Page; requests: string[]; errors: string[]; dialogs: string[] }> {
  const page = await browser.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => ['error', 'warn', 'warning'].includes(m.type()) && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.setViewport({ width: 1280, height: 1000 });
  await page.evaluateOnNewDocument(() => ((window as unknown as { __pwned: number }).__pwned = 0));
  await page.goto('file://' + html, { waitUntil: 'load' });
  return { page, requests, errors, dialogs };
}

beforeAll(async () => {
  const executablePath = chromiumPath();
  ({ dir, cleanup } = await tempDir());
  const corpus = path.join(dir, 'corpus.jsonl');
  hostileIds = await writeHostileCorpus(corpus);
  const config = parseRunConfig({ input: [corpus], out: path.join(dir, 'out'), targetTokens: T, shardDocs: 30, concurrency: 1 });
  manifest = await runLocal(config, { quiet: true });
  records = new Map((await readSequences(path.join(dir, 'out'))).map((r) => [r.id, r]));
  browser = await puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}, 600_000);
afterAll(async () => {
  await browser?.close();
  await cleanup?.();
});

test('the report of a real run loads offline with no errors and shows the manifest counts', async () => {
  const html = path.join(dir, 'report.html');
  await inspect(path.join(dir, 'out'), html);
  const { page, requests, errors, dialogs } = await open(html);
  expect(errors).toEqual([]);
  expect(dialogs).toEqual([]);
  expect(requests).toEqual(['file://' + html]);
  const c = manifest.counts;
  const discarded = Object.values(c.sequences_discarded).reduce((a, b) => a + b, 0);
  const shown = await page.$$eval('[data-count]', (els) =>
    Object.fromEntries(els.map((e) => [e.getAttribute('data-count'), e.textContent])),
  );
  expect(shown).toEqual({
    documents_read: c.documents_read.toLocaleString('en-US'),
    documents_rejected: c.documents_rejected.toLocaleString('en-US'),
    documents_unsampled: c.documents_unsampled.toLocaleString('en-US'),
    sequences_discarded: discarded.toLocaleString('en-US'),
    sequences_written: c.sequences_written.toLocaleString('en-US'),
  });
  expect(c.documents_rejected).toBe(2);
  const body = await page.$eval('#overview', (e) => e.textContent!);
  expect(body).toContain('corpus.jsonl'); // reject examples name the file
  expect(await page.$$eval('#seqlist [data-index]', (els) => els.length)).toBe(Math.min(50, c.sequences_written));
  const shot = path.join(dir, 'inspect.png');
  await page.screenshot({ path: shot, fullPage: false });
  expect((await stat(shot)).size).toBeGreaterThan(10_000);
  if (process.env.NEXTLONG_INSPECT_SCREENSHOT) await copyFile(shot, process.env.NEXTLONG_INSPECT_SCREENSHOT);
  await page.close();
});

test('every sampled sequence shows the segments of its JSONL record, and each piece reads back its text', async () => {
  const html = path.join(dir, 'report.html');
  const { page, errors } = await open(html);
  const shown = await page.evaluate(() => {
    const out: { id: string; ranges: [number, number][]; pieces: string[] }[] = [];
    for (const item of Array.from(document.querySelectorAll<HTMLElement>('#seqlist [data-index]'))) {
      item.click();
      const rows = Array.from(document.querySelectorAll<HTMLElement>('#segments tr.seg'));
      const pieces = rows.map((r) => (r.click(), document.getElementById('piece')!.textContent!));
      out.push({
        id: document.getElementById('seq-title')!.textContent!,
        ranges: rows.map((r) => [Number(r.dataset.start), Number(r.dataset.end)]),
        pieces,
      });
    }
    return out;
  });
  expect(shown.length).toBeGreaterThan(10);
  for (const s of shown) {
    const r = records.get(s.id)!;
    expect(s.ranges).toEqual(r.segments.map((g) => [g.start, g.end]));
    expect(s.pieces).toEqual(r.segments.map((g) => sliceCodePoints(r.text, g.start, g.end)));
  }
  // keyboard: j moves to the next piece, n to the next sequence; search filters by document id
  await page.keyboard.press('p');
  const before = await page.$eval('#seq-title', (e) => e.textContent);
  await page.keyboard.press('j');
  expect(await page.$eval('tr.seg.sel', (e) => e.id)).toBe('seg-1');
  await page.keyboard.press('n');
  expect(await page.$eval('#seq-title', (e) => e.textContent)).not.toBe(before);
  const target = shown[3]!.id;
  await page.type('#search', target);
  const listed = await page.$$eval('#seqlist [data-index]', (els) => els.map((e) => e.firstChild!.textContent));
  expect(listed).toContain(target);
  for (const id of listed) expect(records.get(id!)!.segments.some((g) => g.doc_id.includes(target))).toBe(true);
  expect(errors).toEqual([]);
  await page.close();
});

test('hostile corpus text is shown as text and runs nothing', async () => {
  const html = path.join(dir, 'hostile.html');
  const written = hostileIds.filter((id) => records.has(id));
  expect(written.length).toBeGreaterThanOrEqual(3);
  await inspect(path.join(dir, 'out'), html, ['--sequences', written.join(',')]);
  const raw = await readFile(html, 'utf8');
  expect(raw.match(/<script/g)).toHaveLength(2); // the data block and the page script, nothing else
  const { page, requests, errors, dialogs } = await open(html);
  const seen = await page.evaluate(() => {
    const pieces: string[] = [];
    for (const item of Array.from(document.querySelectorAll<HTMLElement>('#seqlist [data-index]'))) {
      item.click();
      for (const r of Array.from(document.querySelectorAll<HTMLElement>('#segments tr.seg'))) {
        r.click();
        pieces.push(document.getElementById('piece')!.textContent!);
      }
    }
    return {
      pieces: pieces.join('\n'),
      pwned: (window as unknown as { __pwned: number }).__pwned,
      scripts: document.scripts.length,
      injected: document.querySelectorAll('img, iframe, link, main style, object, embed, [onerror], [onload], a[href^="javascript:"]')
        .length,
    };
  });
  expect(seen.pwned).toBe(0);
  expect(dialogs).toEqual([]);
  expect(seen.scripts).toBe(2);
  expect(seen.injected).toBe(0);
  expect(seen.pieces).toContain('</script><script>window.__pwned = 1; alert(1)</script>');
  expect(seen.pieces).toContain('<img src=x onerror="window.__pwned = 2">');
  expect(errors).toEqual([]);
  expect(requests).toEqual(['file://' + html]);
  await page.close();
});

test('an unfinished run is reported from its done shards', async () => {
  const out = path.join(dir, 'partial');
  await cp(path.join(dir, 'out'), out, { recursive: true });
  await rm(path.join(out, 'manifest.json'));
  const shards = (JSON.parse(await readFile(path.join(out, 'run.json'), 'utf8')) as { inputShards: { id: string }[] }).inputShards;
  await rm(path.join(out, 'done', 'synth', shards.at(-1)!.id));
  const html = path.join(dir, 'partial.html');
  await inspect(out, html);
  const { page, errors } = await open(html);
  const expected = await Promise.all(
    shards
      .slice(0, -1)
      .map(
        async (s) => JSON.parse(await readFile(path.join(out, 'stats', 'synth', `${s.id}.json`), 'utf8')) as { sequences_written: number },
      ),
  );
  expect(await page.$eval('[data-count="sequences_written"]', (e) => e.textContent)).toBe(
    expected.reduce((a, s) => a + s.sequences_written, 0).toLocaleString('en-US'),
  );
  expect(await page.$eval('#status', (e) => e.textContent)).toContain(`synth ${shards.length - 1}/${shards.length}`);
  expect(errors).toEqual([]);
  await page.close();
});

test('a 1 MB piece with lone surrogates and markup is shown whole, as text', async () => {
  // a run at a test-sized T cuts every piece to T tokens: the page gets this sequence added to a real report's data
  const raw = await readFile(path.join(dir, 'report.html'), 'utf8');
  const data = JSON.parse(/<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(raw)![1]!) as ReportData;
  const unit = 'x <script>window.__pwned = 5</script> \ud800 lone \udfff \u2028 <img src=x onerror="window.__pwned=6"> ';
  const big = unit.repeat(Math.ceil(1_000_000 / unit.length));
  const text = `meta piece\n\n${big}`;
  const record = {
    id: 'big</script>',
    text,
    num_tokens: 1,
    tokenizer: 'llama3',
    meta_doc_id: 'big</script>',
    placement: 'head' as const,
    segments: [
      { type: 'meta' as const, doc_id: 'big</script>', chunk: 0, start: 0, end: 10 },
      { type: 'negative' as const, doc_id: 'n<b>', chunk: 0, start: 12, end: 12 + big.length, score: 0.5 },
    ],
  };
  data.sequences = viewSequences([{ record, shard: 's', ordinal: 0 }], 2e6, undefined);
  const html = path.join(dir, 'big.html');
  await writeFile(html, renderHtml(data));
  const { page, requests, errors, dialogs } = await open(html);
  const seen = await page.evaluate((expected: string) => {
    document.querySelector<HTMLElement>('#segments tr.seg:nth-child(2)')!.click();
    const piece = document.getElementById('piece')!.textContent!;
    return {
      same: piece === expected,
      length: piece.length,
      pwned: (window as unknown as { __pwned: number }).__pwned,
      imgs: document.images.length,
    };
  }, big);
  expect(seen).toEqual({ same: true, length: big.length, pwned: 0, imgs: 0 });
  expect(big.length).toBeGreaterThan(1_000_000);
  expect(dialogs).toEqual([]);
  expect(errors).toEqual([]);
  expect(requests).toEqual(['file://' + html]);
  await page.close();
});

test('a run on S3 is read through the object store and gives the same report data', async () => {
  const s3 = await startS3rver({ buckets: ['results'] });
  const saved = { ...process.env };
  Object.assign(process.env, s3.env);
  try {
    const out = path.join(dir, 'out');
    const store = openObjectStore('s3://results/run-1');
    for (const f of await readdir(out, { recursive: true, withFileTypes: true })) {
      if (f.isFile()) await store.put(path.relative(out, path.join(f.parentPath, f.name)), await readFile(path.join(f.parentPath, f.name)));
    }
    const html = path.join(dir, 's3.html');
    await inspect('s3://results/run-1', html);
    const dataOf = async (file: string) =>
      JSON.parse(
        /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(await readFile(file, 'utf8'))![1]!,
      ) as ReportData;
    const [remote, local] = [await dataOf(html), await dataOf(path.join(dir, 'report.html'))];
    expect(remote.source).toBe('s3://results/run-1');
    expect(remote.counts).toEqual(local.counts);
    expect(remote.reject_examples).toEqual(local.reject_examples);
    expect(remote.sequences).toEqual(local.sequences);
  } finally {
    process.env = saved;
    await s3.stop();
  }
});
