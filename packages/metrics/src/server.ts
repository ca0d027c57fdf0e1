/**
 * The per-process HTTP endpoint of DESIGN §9: `/metrics`, `/healthz`, `/readyz` on node:http.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '@nextlong/core';
import { registry } from './metrics.js';

export interface MetricsServerOptions {
  /** Interface to bind; default `0.0.0.0` (so Prometheus can scrape it from elsewhere). */
  host?: string;
  /** TCP port; 0 picks a free ephemeral port (read it back from the result). */
  port: number;
  /** Readiness probe for `/readyz`; default always ready. A throw or rejection counts as not ready. */
  ready?: () => boolean | Promise<boolean>;
}

export interface MetricsServer {
  /** Base URL a client on this host can reach, e.g. `http://127.0.0.1:9464`. */
  url: string;
  /** The bound port (the ephemeral one when 0 was asked for). */
  port: number;
  /** Stop listening and drop open (keep-alive or in-flight) connections. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_METRICS_HOST = '0.0.0.0';

const TEXT = 'text/plain; charset=utf-8';

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': TEXT, 'Cache-Control': 'no-store', ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

async function isReady(ready: MetricsServerOptions['ready']): Promise<boolean> {
  if (!ready) return true;
  try {
    return (await ready()) === true;
  } catch {
    return false;
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, ready: MetricsServerOptions['ready']): Promise<void> {
  const path = (req.url ?? '/').split('?', 1)[0];
  const known = path === '/metrics' || path === '/healthz' || path === '/readyz';
  if (!known) return send(res, 404, 'not found\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n', { Allow: 'GET, HEAD' });

  switch (path) {
    case '/metrics': {
      let body: string;
      try {
        body = await registry.metrics();
      } catch (err) {
        return send(res, 500, `metrics collection failed: ${(err as Error)?.message ?? String(err)}\n`);
      }
      return send(res, 200, body, { 'Content-Type': registry.contentType });
    }
    case '/healthz':
      // Answering at all shows the event loop is turning.
      return send(res, 200, 'ok\n');
    default:
      return (await isReady(ready)) ? send(res, 200, 'ready\n') : send(res, 503, 'not ready\n');
  }
}

/** The host to put in a URL for a bound address: wildcards become loopback, IPv6 gets brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** Start the metrics endpoint; resolves once listening, rejects if the address cannot be bound. */
export function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const host = opts.host ?? DEFAULT_METRICS_HOST;
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    return Promise.reject(new ConfigError(`metrics port must be an integer 0..65535, got ${String(opts.port)}`));
  }
  const server = createServer((req, res) => {
    handle(req, res, opts.ready).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, `internal error: ${(err as Error)?.message ?? String(err)}\n`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;

  return new Promise<MetricsServer>((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ host, port: opts.port }, () => {
      server.off('error', onError);
      const port = (server.address() as AddressInfo).port;
      let closing: Promise<void> | undefined;
      resolve({
        url: `http://${urlHost(host)}:${port}`,
        port,
        close: () =>
          (closing ??= new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeAllConnections();
          })),
      });
    });
  });
}

/**
 * Parse a listen address: `host:port`, `[ipv6]:port`, `:port` or `port`.
 * A missing host means `defaultHost` (all interfaces). Throws `ConfigError` on bad input.
 */
export function parseListenAddress(addr: string, defaultHost: string = DEFAULT_METRICS_HOST): { host: string; port: number } {
  const bad = (why: string) =>
    new ConfigError(`invalid listen address ${JSON.stringify(addr)}: ${why} (expected "host:port", "[ipv6]:port", ":port" or "port")`);
  if (typeof addr !== 'string') throw bad('not a string');
  const s = addr.trim();
  if (s === '') throw bad('empty');
  if (s.includes('/')) throw bad('give host and port only, no scheme or path');

  let host: string;
  let portText: string;
  if (/^\d+$/.test(s)) {
    host = defaultHost;
    portText = s;
  } else if (s.startsWith('[')) {
    const m = /^\[([^\]]*)\]:(.*)$/.exec(s);
    if (!m) throw bad('bracketed IPv6 host must be followed by ":port"');
    if (m[1] === '') throw bad('empty IPv6 host');
    host = m[1];
    portText = m[2];
  } else {
    const i = s.lastIndexOf(':');
    if (i < 0) throw bad('no port');
    host = s.slice(0, i) || defaultHost;
    portText = s.slice(i + 1);
    if (host.includes(':')) throw bad('IPv6 hosts must be bracketed, e.g. "[::1]:9464"');
  }
  if (/[\s?#@]/.test(host)) throw bad(`bad host ${JSON.stringify(host)}`);
  if (portText === '') throw bad('no port');
  if (!/^\d+$/.test(portText)) throw bad(`port ${JSON.stringify(portText)} is not a number`);
  const port = Number(portText);
  if (port > 65535) throw bad(`port ${port} is out of range 0..65535`);
  return { host, port };
}
