/**
 * Lints the live /metrics exposition with `promtool check metrics` (Debian/Ubuntu: `apt-get install prometheus`).
 * Skips, with a note, when promtool is not on PATH.
 */
import { spawnSync } from 'node:child_process';
import { metrics, registry, setQueueCounts, setRunInfo, setShardCounts, startMetricsServer, type MetricsServer } from './index.js';

const probe = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const havePromtool = !probe.error && probe.status === 0;
if (!havePromtool) {
  console.warn('[@nextlong/metrics] promtool not found on PATH: skipping the `promtool check metrics` test (apt-get install prometheus).');
}

function promtoolCheck(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

const title = havePromtool ? 'promtool check metrics' : 'promtool check metrics (SKIPPED: promtool not on PATH)';
const d = havePromtool ? describe : describe.skip;

d(title, () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('promtool itself flags a bad exposition (the check is not vacuous)', () => {
    const bad = '# HELP x_total A gauge named like a counter.\n# TYPE x_total gauge\nx_total 1\n';
    const r = promtoolCheck(bad);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(/_total/);
  });

  it.each([
    ['before any metric is touched', () => registry.resetMetrics()],
    [
      'after every metric has samples',
      () => {
        metrics.documentsRead.inc({ stage: 'embed' });
        metrics.documentsRejected.inc({ stage: 'embed', reason: 'too_short' });
        metrics.chunksEmbedded.inc(10);
        metrics.embedBatchSeconds.observe(0.2);
        metrics.vectorUpsertSeconds.observe(0.01);
        metrics.vectorSearchSeconds.observe(0.003);
        metrics.uploadSeconds.observe(0.8);
        metrics.sequencesWritten.inc();
        metrics.sequencesDiscarded.inc({ reason: 'budget' });
        metrics.outputTokens.inc(65536);
        metrics.negativeScore.observe(-0.2);
        metrics.negativeScore.observe(0.7);
        setShardCounts('embed', { pending: 1, active: 1 });
        metrics.shardSeconds.observe({ stage: 'embed' }, 42);
        metrics.shardRetries.inc({ stage: 'embed' });
        metrics.jobsStalled.inc({ stage: 'embed' });
        setQueueCounts('nextlong-embed', { waiting: 3 });
        setRunInfo('run-1');
      },
    ],
  ])('reports no problems on /metrics %s', async (_when, prepare) => {
    prepare();
    server = await startMetricsServer({ host: '127.0.0.1', port: 0 });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toContain('# TYPE nextlong_run_info gauge');
    const r = promtoolCheck(text);
    expect(r.output).toBe('');
    expect(r.status).toBe(0);
  });
});
