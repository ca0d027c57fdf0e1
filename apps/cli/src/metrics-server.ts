import { parseListenAddress, startMetricsServer } from '@nextlong/metrics';

/** Default address of a fleet process's /metrics, /healthz and /readyz. */
const DEFAULT_ADDR = ':9464';

/** Serves /metrics, /healthz, /readyz on `--metrics <addr>` (or NEXTLONG_METRICS_ADDR); `off` disables. */
export async function serveMetrics(flag: string | undefined, ready: () => boolean): Promise<{ close(): Promise<void> } | undefined> {
  const addr = flag ?? process.env.NEXTLONG_METRICS_ADDR ?? DEFAULT_ADDR;
  if (addr === 'off') return undefined;
  const { host, port } = parseListenAddress(addr);
  const server = await startMetricsServer({ host, port, ready });
  process.stderr.write(`metrics on ${server.url}/metrics\n`);
  return server;
}
