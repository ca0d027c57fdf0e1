import { ConfigError, logger } from '@nextlong/core';
import { parseListenAddress, startMetricsServer, type MetricsServer } from '@nextlong/metrics';

/** Default address of a fleet process's /metrics, /healthz and /readyz (all interfaces). */
const DEFAULT_ADDR = ':9464';
/** With no address given, ports tried after the default one is taken (several workers per host). */
const FALLBACK_PORTS = 100;

export type ServeMetricsLog = (line: string) => void;

/**
 * Serves /metrics, /healthz, /readyz on `--metrics <addr>` (or NEXTLONG_METRICS_ADDR); `off`
 * disables. With neither set, :9464 is tried first and then the next free ports, so several
 * fleet processes run on one host with default flags; an explicit address that is taken is a
 * configuration error (exit 2).
 */
export async function serveMetrics(
  flag: string | undefined,
  ready: () => boolean,
  log: ServeMetricsLog = (l) => logger().info(l),
): Promise<MetricsServer | undefined> {
  const explicit = flag ?? (process.env.NEXTLONG_METRICS_ADDR || undefined);
  if (explicit === 'off') return undefined;
  const { host, port } = parseListenAddress(explicit ?? DEFAULT_ADDR);
  const scope = host === '0.0.0.0' || host === '::' ? ' (all interfaces; --metrics 127.0.0.1:9464 serves loopback only)' : '';
  if (explicit !== undefined) {
    try {
      const server = await startMetricsServer({ host, port, ready });
      log(`metrics on ${server.url}/metrics${scope}`);
      return server;
    } catch (err) {
      if (isAddressTaken(err)) throw new ConfigError(`--metrics ${explicit}: the address is in use (choose another port, or leave --metrics unset to take the next free one)`);
      throw err;
    }
  }
  for (let p = port; p < port + FALLBACK_PORTS && p <= 65535; p++) {
    try {
      const server = await startMetricsServer({ host, port: p, ready });
      log(`metrics on ${server.url}/metrics${scope}${p !== port ? ` (port ${port} was taken)` : ''}`);
      return server;
    } catch (err) {
      if (!isAddressTaken(err)) throw err;
    }
  }
  throw new ConfigError(`metrics: ports ${port}-${port + FALLBACK_PORTS - 1} are all in use; set --metrics <host:port> or --metrics off`);
}

function isAddressTaken(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EADDRINUSE' || code === 'EACCES';
}
