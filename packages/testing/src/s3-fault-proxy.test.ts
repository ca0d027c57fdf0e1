import { startS3FaultProxy, type S3FaultProxy } from './s3-fault-proxy.js';
import { startS3rver, type S3rverHandle } from './s3rver.js';

// The proxy on its own: plain HTTP against s3rver (which takes unsigned path-style requests).
let s3: S3rverHandle;
const proxies: S3FaultProxy[] = [];
const body = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `line ${i}\n`).join(''));

async function proxy(o: Parameters<typeof startS3FaultProxy>[0] extends infer T ? Omit<T & object, 'target'> : never) {
  const p = await startS3FaultProxy({ target: s3.endpoint, ...o });
  proxies.push(p);
  return p;
}

/** A GET through the proxy: status and body, or the network error's text. */
async function get(p: S3FaultProxy, range?: string): Promise<{ status: number; bytes: number } | { error: string }> {
  try {
    const r = await fetch(`${p.endpoint}/test/obj.txt`, range ? { headers: { range } } : {});
    return { status: r.status, bytes: (await r.arrayBuffer()).byteLength };
  } catch (err) {
    return { error: String((err as Error & { cause?: Error }).cause ?? err) };
  }
}

beforeAll(async () => {
  s3 = await startS3rver();
  const r = await fetch(`${s3.endpoint}/test/obj.txt`, { method: 'PUT', body });
  expect(r.status).toBe(200);
});
afterAll(async () => {
  for (const p of proxies) await p.close();
  await s3.stop();
});

test('rate 0 passes requests through unchanged and counts them', async () => {
  const p = await proxy({ rate: 0 });
  expect(await get(p)).toEqual({ status: 200, bytes: body.length });
  expect(await get(p, 'bytes=10-19')).toEqual({ status: 206, bytes: 10 });
  expect(p.env.AWS_ENDPOINT_URL).toBe(p.endpoint);
  expect(p.stats()).toEqual({ requests: 2, injected: { '5xx': 0, '429': 0, reset: 0, cut: 0 } });
});

test('each kind of fault, at rate 1', async () => {
  const cut = await proxy({ rate: 1, kinds: ['cut'] });
  for (const range of [undefined, 'bytes=100-']) {
    const r = await get(cut, range);
    // headers arrive, the body stops short: the client sees a broken body
    expect(r).toHaveProperty('error');
  }
  expect(cut.stats().injected.cut).toBe(2);
  // cut only breaks GET bodies: a PUT through a cut-only proxy goes through
  const put = await fetch(`${cut.endpoint}/test/other.txt`, { method: 'PUT', body: 'x' });
  expect(put.status).toBe(200);

  const e5 = await proxy({ rate: 1, kinds: ['5xx'] });
  const r5 = await get(e5);
  expect('status' in r5 && r5.status >= 500).toBe(true);
  const e429 = await proxy({ rate: 1, kinds: ['429'] });
  expect(await get(e429)).toMatchObject({ status: 429 });
  const rs = await proxy({ rate: 1, kinds: ['reset'] });
  expect(await get(rs)).toHaveProperty('error');
  // writes are faulted too
  const w = await fetch(`${e5.endpoint}/test/w.txt`, { method: 'PUT', body: 'x' });
  expect(w.status).toBeGreaterThanOrEqual(500);
  expect(e5.stats().injected['5xx']).toBe(2);

  // methods: only the listed methods are faulted
  const onlyPut = await proxy({ rate: 1, kinds: ['5xx'], methods: ['PUT'] });
  expect(await get(onlyPut)).toEqual({ status: 200, bytes: body.length });
});

test('a share of requests, repeatable by seed; setRate(0) stops faults', async () => {
  const run = async () => {
    const p = await proxy({ rate: 0.3, seed: 42 });
    const out: string[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await get(p);
      out.push('error' in r ? 'error' : String(r.status));
    }
    return { out, stats: p.stats(), p };
  };
  const a = await run();
  const b = await run();
  expect(a.out).toEqual(b.out);
  const faults = Object.values(a.stats.injected).reduce((x, y) => x + y, 0);
  expect(faults).toBeGreaterThan(2);
  expect(faults).toBeLessThan(20);
  expect(a.out.filter((s) => s !== '200')).toHaveLength(faults);
  a.p.setRate(0);
  for (let i = 0; i < 10; i++) expect(await get(a.p)).toEqual({ status: 200, bytes: body.length });
});

test('outage: every request fails until it is over', async () => {
  const p = await proxy({ rate: 0 });
  p.outage(400);
  const during = await Promise.all([get(p), get(p), get(p), get(p)]);
  expect(during.every((r) => 'error' in r || r.status === 503)).toBe(true);
  await new Promise((r) => setTimeout(r, 450));
  expect(await get(p)).toEqual({ status: 200, bytes: body.length });
  const s = p.stats();
  expect(s.injected.reset + s.injected['5xx']).toBe(4);
});
