import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A reverse proxy in front of an S3 server (s3rver) that breaks a share of the requests the
 * way real networks and S3 do: 5xx and 429 answers, connection resets, and response bodies
 * cut mid-stream (headers and part of the body, then the socket is destroyed). Faults hit
 * reads and writes alike; `cut` hits GET bodies (ranged ones too). Seeded: the same requests
 * in the same order meet the same faults.
 */

export type S3FaultKind = '5xx' | '429' | 'reset' | 'cut';

export interface S3FaultProxyOptions {
  /** `http://127.0.0.1:<port>` of the S3 server. */
  target: string;
  /** Share of requests that fail, 0..1 (default 0.1). */
  rate?: number;
  /** Faults to draw from (default all four). */
  kinds?: S3FaultKind[];
  seed?: number;
  /** Only requests with these methods are faulted (default all); an outage hits every request. */
  methods?: string[];
}

export interface S3FaultProxy {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Like S3rverHandle.env, with AWS_ENDPOINT_URL pointing at the proxy. */
  env: Record<string, string>;
  stats(): { requests: number; injected: Record<S3FaultKind, number> };
  /** 0 turns faults off. */
  setRate(rate: number): void;
  /** Every request fails (a reset or a 503) for `ms`. */
  outage(ms: number): void;
  close(): Promise<void>;
}

const ALL: S3FaultKind[] = ['5xx', '429', 'reset', 'cut'];

/** mulberry32: a small seeded generator (tests need repeatable faults, not good randomness). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function errorAnswer(req: IncomingMessage, res: ServerResponse, status: number, code: string): void {
  // read the request body first, as a server does before answering
  req.resume();
  const send = () => {
    if (res.headersSent || res.destroyed) return;
    const body =
      req.method === 'HEAD'
        ? ''
        : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>injected by the S3 fault proxy</Message></Error>`;
    res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  if (req.complete) send();
  else req.once('end', send);
}

function reset(socket: Socket): void {
  // an RST where the platform offers one, a plain close otherwise
  const s = socket as Socket & { resetAndDestroy?: () => void };
  if (typeof s.resetAndDestroy === 'function') s.resetAndDestroy();
  else s.destroy();
}

export async function startS3FaultProxy(o: S3FaultProxyOptions): Promise<S3FaultProxy> {
  const target = new URL(o.target);
  const kinds = o.kinds ?? ALL;
  const methods = o.methods?.map((m) => m.toUpperCase());
  const random = seeded(o.seed ?? 1);
  let rate = o.rate ?? 0.1;
  let outageUntil = 0;
  let requests = 0;
  const injected: Record<S3FaultKind, number> = { '5xx': 0, '429': 0, reset: 0, cut: 0 };
  const agent = new Agent({ keepAlive: true });

  const down = () => Date.now() < outageUntil;
  const pick = (method: string): S3FaultKind | undefined => {
    if (down()) return random() < 0.5 ? 'reset' : '5xx';
    if (rate <= 0 || (methods && !methods.includes(method)) || random() >= rate) return undefined;
    const usable = kinds.filter((k) => k !== 'cut' || method === 'GET');
    return usable.length ? usable[Math.floor(random() * usable.length)] : undefined;
  };

  const forward = (req: IncomingMessage, res: ServerResponse, cut: boolean) => {
    const up = request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (ur) => {
        const status = ur.statusCode ?? 502;
        const length = Number(ur.headers['content-length']);
        if (!cut || status < 200 || status >= 300 || !(length > 0)) {
          res.writeHead(status, ur.rawHeaders);
          ur.pipe(res);
          return;
        }
        injected.cut++;
        const keep = Math.floor(length * random()); // 0 .. length-1 bytes get through
        res.writeHead(status, ur.rawHeaders);
        let sent = 0;
        const cutNow = () => {
          ur.destroy();
          reset(req.socket);
        };
        if (keep === 0) {
          res.flushHeaders();
          setTimeout(cutNow, 5);
          return;
        }
        ur.on('data', (chunk: Buffer) => {
          if (sent >= keep) return;
          const part = chunk.subarray(0, keep - sent);
          sent += part.length;
          if (sent >= keep) res.write(part, cutNow);
          else res.write(part);
        });
      },
    );
    up.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-length': 0 });
        res.end();
      } else res.destroy();
    });
    // the client went away before the answer was complete
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  };

  const server = createServer((req, res) => {
    requests++;
    const kind = pick(req.method ?? 'GET');
    if (kind) injected[kind] += kind === 'cut' ? 0 : 1; // a cut is counted when it cuts
    if (kind === 'reset') reset(req.socket);
    else if (kind === '5xx') {
      if (!down() && random() < 0.5) errorAnswer(req, res, 500, 'InternalError');
      else errorAnswer(req, res, 503, 'ServiceUnavailable');
    } else if (kind === '429') errorAnswer(req, res, 429, 'SlowDown');
    else forward(req, res, kind === 'cut');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed: Promise<void> | undefined;
  return {
    endpoint,
    env: { AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
    stats: () => ({ requests, injected: { ...injected } }),
    setRate(r: number) {
      rate = Math.min(1, Math.max(0, r));
    },
    outage(ms: number) {
      outageUntil = Date.now() + ms;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
      return closed;
    },
  };
}
