import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OpenApiCheck, type MatchedOperation, type OpenApiDocument } from './openapi-check.js';
import { StandInCollection, StandInError } from './qdrant-stand-in-collection.js';

/**
 * A strict in-process stand-in for the Qdrant REST operations the adapter uses, DERIVED FROM
 * QDRANT'S PUBLISHED OPENAPI DOCUMENT (fixtures/qdrant-openapi/, v1.18.x), not recorded from a
 * server (none can run on CI machines: DESIGN §10). It is not Qdrant: exact brute-force cosine,
 * no HNSW, no quantization. What makes the contract suite able to fail:
 * - every request is checked against the spec before anything else: the operation must exist,
 *   query parameters must be declared ones of the right type, the JSON body must match the
 *   operation's schema (unknown fields included, see openapi-check.ts) — else 400 naming the field;
 * - a body that is not JSON is a 400; an operation outside the subset a 404;
 * - collection names are honoured (each name its own collection; a bad name is a 400), a missing
 *   collection is a 404 and PUT of an existing one a 409;
 * - after each update the collection reports `yellow` for `yellowPolls` GETs (optimizer running),
 *   and `indexed_vectors_count` stays 0 below `indexingThreshold` points, as Qdrant leaves small
 *   segments unindexed; `setGrey` puts a collection in the state Qdrant reports after a restart
 *   mid-optimization, until some update arrives;
 * - every answer is checked against the spec's response schema too (a stand-in bug is a 500).
 */

export interface QdrantStandInOptions {
  /** GET polls answering `yellow` after each update. Default 0. */
  yellowPolls?: number;
  /** Points from which vectors count as indexed. Default 10000 (small collections: none indexed). */
  indexingThreshold?: number;
}

export interface StandInRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  body?: unknown;
  status: number;
  /** The error message of a non-2xx answer. */
  error?: string;
  /** The `result` answered to a GET (collection info: status, counts). */
  result?: unknown;
}

export interface QdrantStandIn {
  url: string;
  /** Every request received, in order, with the status answered. */
  requests: StandInRequest[];
  /** Makes collection `name` report `grey` until its next update. */
  setGrey(name: string): void;
  close(): Promise<void>;
}

const spec = JSON.parse(
  readFileSync(new URL('../fixtures/qdrant-openapi/openapi-v1.18.x-subset.json', import.meta.url), 'utf8'),
) as OpenApiDocument;
/** Qdrant's checks on the shared OpenAPI document (also used by tests of scripted exchanges). */
export const qdrantSpec = new OpenApiCheck(spec);

/** Qdrant's collection name rule: 1-255 characters, none that a file name cannot hold. */
const BAD_NAME = /[<>:"/\\|?*\0]/;

export async function startQdrantStandIn(opts: QdrantStandInOptions = {}): Promise<QdrantStandIn> {
  const model = { yellowPolls: opts.yellowPolls ?? 0, indexingThreshold: opts.indexingThreshold ?? 10_000 };
  const collections = new Map<string, StandInCollection>();
  const requests: StandInRequest[] = [];

  const route = (m: MatchedOperation, method: string, body: Record<string, unknown>): unknown => {
    const name = m.params.collection_name!;
    if (name.length === 0 || name.length > 255 || BAD_NAME.test(name))
      throw new StandInError(400, `Validation error in path parameters: [collection_name: invalid collection name "${name}"]`);
    const key = `${method} ${m.template.replace('/collections/{collection_name}', '')}`;
    if (key === 'PUT ') {
      if (collections.has(name)) throw new StandInError(409, `Wrong input: Collection \`${name}\` already exists!`);
      collections.set(name, new StandInCollection(body, model));
      return true;
    }
    if (key === 'DELETE ') return collections.delete(name);
    const c = collections.get(name);
    if (!c) throw new StandInError(404, `Not found: Collection \`${name}\` doesn't exist!`);
    switch (key) {
      case 'GET ':
        return c.info();
      case 'PATCH ':
        return c.patch();
      case 'PUT /index':
        return c.createIndex(body as { field_name: string });
      case 'POST /points/count':
        return c.count(body);
      case 'PUT /points':
        return c.upsert(body);
      case 'POST /points/delete':
        return c.delete(body);
      case 'POST /points/query/batch':
        return (body.searches as Record<string, unknown>[]).map((s) => c.query(s));
      case 'POST /points':
        return c.retrieve(body);
      case 'POST /points/scroll':
        return c.scroll(body);
      default:
        throw new StandInError(404, `stand-in: ${key} is not implemented`);
    }
  };

  const answer = (req: http.IncomingMessage, raw: string): { status: number; json: unknown } => {
    const url = new URL(req.url!, 'http://stand-in');
    const method = req.method!;
    const m = qdrantSpec.operation(method, url.pathname);
    if (!m) throw new StandInError(404, `stand-in: no operation ${method} ${url.pathname} in the spec subset`);
    let body: unknown;
    if (raw) {
      if (!/^application\/json\b/.test(req.headers['content-type'] ?? ''))
        throw new StandInError(400, 'a body must be sent as content-type application/json');
      try {
        body = JSON.parse(raw);
      } catch (err) {
        throw new StandInError(400, `Json deserialize error: ${(err as Error).message}`);
      }
    }
    const problems = qdrantSpec.checkRequest(m, url.searchParams, body);
    if (problems.length) throw new StandInError(400, `Format error in JSON body: ${problems.join('; ')}`);
    const json = { result: route(m, method, (body ?? {}) as Record<string, unknown>), status: 'ok', time: 0 };
    const wrong = qdrantSpec.checkResponse(m, 200, json);
    if (wrong) throw new StandInError(500, `stand-in bug: its answer does not match the spec: ${wrong}`);
    return { status: 200, json };
  };

  const server = http.createServer(async (req, res) => {
    let raw = '';
    for await (const c of req) raw += c;
    let status: number;
    let json: unknown;
    let error: string | undefined;
    try {
      ({ status, json } = answer(req, raw));
    } catch (err) {
      status = err instanceof StandInError ? err.status : 500;
      error = (err as Error).message;
      json = { status: { error }, time: 0 };
    }
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    const result = req.method === 'GET' && !error ? (json as { result: unknown }).result : undefined;
    requests.push({
      method: req.method!,
      url: req.url!,
      ...(body === undefined ? {} : { body }),
      status,
      ...(error ? { error } : {}),
      ...(result === undefined ? {} : { result }),
    });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(json));
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    setGrey: (name) => {
      const c = collections.get(name);
      if (!c) throw new Error(`stand-in: no collection ${name}`);
      c.grey = true;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
