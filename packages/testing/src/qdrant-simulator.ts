import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An in-process stand-in for the REST subset the adapter uses (NOT a Qdrant server: brute-force
 * cosine, no HNSW, no quantization), so the shared contract suite exercises the adapter's whole
 * path — ids, batching, filter, re-ranking, cache, texts by id — on every CI run. Equal scores
 * come back in upload order, as a real server may, so the adapter's own tie-break is tested.
 */
export async function startQdrantSimulator(): Promise<{ url: string; close(): Promise<void> }> {
  type Point = { id: string; vector: number[]; payload: Record<string, unknown> };
  let coll: { size: number; points: Map<string, Point>; indexed: boolean } | undefined;
  const unit = (v: number[]) => {
    const n = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return v.map((x) => Math.fround(x / n));
  };
  const pick = (payload: Record<string, unknown>, fields: string[]) => Object.fromEntries(fields.map((f) => [f, payload[f]]));
  type Search = {
    query: number[];
    filter: { must_not: { key: string; match: { value: string } }[] };
    limit: number;
    with_payload: string[];
  };
  const search = (s: Search) => {
    const q = unit(s.query);
    const banned = s.filter.must_not.map((c) => c.match.value);
    return [...coll!.points.values()]
      .filter((p) => !banned.includes(p.payload.doc_id as string))
      .map((p, order) => ({ p, order, score: Math.fround(p.vector.reduce((acc, x, i) => acc + x * q[i], 0)) }))
      .sort((a, b) => b.score - a.score || a.order - b.order)
      .slice(0, s.limit)
      .map(({ p, score }) => ({ id: p.id, version: 1, score, payload: pick(p.payload, s.with_payload) }));
  };
  const server = http.createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    const body = raw ? JSON.parse(raw) : undefined;
    const reply = (status: number, result: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(status < 300 ? { result, status: 'ok', time: 0 } : { status: { error: result }, time: 0 }));
    };
    const sub = /^\/collections\/[^/?]+([^?]*)/.exec(req.url!)?.[1];
    const route = `${req.method} ${sub}`;
    if (route === 'PUT ') {
      coll = { size: body.vectors.size, points: new Map(), indexed: false };
      return reply(200, true);
    }
    if (!coll) return reply(404, 'Not found: Collection doesn’t exist!');
    switch (route) {
      case 'GET ':
        return reply(200, {
          status: 'green',
          points_count: coll.points.size,
          config: { params: { vectors: { size: coll.size, distance: 'Cosine' } } },
          payload_schema: coll.indexed ? { doc_id: { data_type: 'keyword' } } : {},
        });
      case 'PUT /index':
        coll.indexed = true;
        return reply(200, { operation_id: 0, status: 'completed' });
      case 'POST /points/count':
        return reply(200, { count: coll.points.size });
      case 'PUT /points':
        for (const p of body.points as Point[]) coll.points.set(p.id, { ...p, vector: unit(p.vector) });
        return reply(200, { operation_id: 1, status: 'completed' });
      case 'POST /points/delete':
        for (const id of body.points as string[]) coll.points.delete(id);
        return reply(200, { operation_id: 2, status: 'completed' });
      case 'POST /points/query/batch':
        return reply(
          200,
          (body.searches as Search[]).map((s) => ({ points: search(s) })),
        );
      case 'POST /points':
        return reply(
          200,
          (body.ids as string[]).flatMap((id) => {
            const p = coll!.points.get(id);
            return p ? [{ id, payload: pick(p.payload, body.with_payload) }] : [];
          }),
        );
      default:
        return reply(400, `simulator: no route ${route}`);
    }
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
