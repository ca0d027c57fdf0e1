import { ConfigError } from './errors.js';
import { createLogger, logFormatOf, logger, maskUrlCredentials, setLogger, setupLogging, withLogFields, type LogFormat } from './log.js';

function capture(format: LogFormat, level: 'info' | 'debug' | 'warn' = 'info') {
  const lines: string[] = [];
  const log = createLogger({ format, level, out: { write: (s: string) => lines.push(s) } });
  return { log, lines };
}

describe('the logger', () => {
  test('json: one object a line with level, message and the run/stage/shard fields of a child logger', () => {
    const { log, lines } = capture('json');
    log.child({ run: 'abc123', stage: 'synth' }).child({ shard: 'docs-0' }).warn('synth shard docs-0 failed (attempt 1)');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, run: 'abc123', stage: 'synth', shard: 'docs-0', msg: 'synth shard docs-0 failed (attempt 1)' });
  });

  test('withLogFields adds its fields to every record logged inside it, also after an await; a child binding is not repeated', async () => {
    const { log, lines } = capture('json');
    await withLogFields({ run: 'r1', stage: 'embed', shard: 'a' }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      log.warn('retry s3 (503)');
      log.child({ stage: 'embed' }).info('done');
      log.info({ shard: 'b' }, 'own field');
    });
    log.info('outside');
    const recs = lines.map((l) => JSON.parse(l));
    expect(recs[0]).toMatchObject({ run: 'r1', stage: 'embed', shard: 'a', msg: 'retry s3 (503)' });
    expect(lines[1]!.match(/"stage"/g)).toHaveLength(1);
    expect(recs[1]).toMatchObject({ run: 'r1', stage: 'embed', shard: 'a' });
    expect(lines[2]!.match(/"shard"/g)).toHaveLength(1);
    expect(recs[2]).toMatchObject({ run: 'r1', shard: 'b' });
    expect(recs[3]).not.toHaveProperty('run');
  });

  test('secrets are redacted by the config: secret keys at any level, credentials inside URLs (fields and messages)', () => {
    const { log, lines } = capture('json');
    log.info(
      {
        qdrant: { apiKey: 'qk-SECRET', url: 'https://qd.example:6333' },
        s3: { secretAccessKey: 'S3SECRET', accessKeyId: 'AKIAKEY', endpoint: 'http://u:S3PASS@minio:9000' },
        redisUrl: 'redis://:REDISPASS@redis:6379/0',
        password: 'PW',
      },
      'connecting to redis://default:MSGPASS@redis:6379',
    );
    const text = lines.join('');
    for (const secret of ['qk-SECRET', 'S3SECRET', 'AKIAKEY', 'S3PASS', 'REDISPASS', 'MSGPASS', '"PW"']) expect(text).not.toContain(secret);
    const rec = JSON.parse(lines[0]!);
    expect(rec.qdrant).toEqual({ apiKey: '[redacted]', url: 'https://qd.example:6333' });
    expect(rec.s3.endpoint).toBe('http://u:***@minio:9000');
    expect(rec.redisUrl).toBe('redis://:***@redis:6379/0');
    expect(rec.msg).toBe('connecting to redis://default:***@redis:6379');
  });

  test('plain is the message alone; pretty adds the level (not for info) and the fields', () => {
    const plain = capture('plain');
    plain.log.child({ stage: 'embed' }).warn('retry s3 (503) attempt 1');
    expect(plain.lines).toEqual(['retry s3 (503) attempt 1\n']);
    const pretty = capture('pretty');
    pretty.log.child({ run: 'r1', shard: 's1' }).error('boom');
    pretty.log.info('hello');
    const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
    expect(pretty.lines.map(strip)).toEqual(['error boom  run=r1 shard=s1\n', 'hello\n']);
  });

  test('levels filter records', () => {
    const { log, lines } = capture('plain', 'warn');
    log.info('not shown');
    log.debug('not shown either');
    log.warn('shown');
    expect(lines).toEqual(['shown\n']);
  });

  test('format: NEXTLONG_LOG_FORMAT, else pretty on a terminal and plain otherwise; a bad value is a ConfigError', () => {
    expect(logFormatOf(undefined, true)).toBe('pretty');
    expect(logFormatOf(undefined, false)).toBe('plain');
    expect(logFormatOf('JSON', true)).toBe('json');
    expect(() => logFormatOf('xml', false)).toThrow(new ConfigError('NEXTLONG_LOG_FORMAT must be one of json, pretty, plain (got "xml")'));
  });

  test('setupLogging takes --log-level out of the arguments, wins over NEXTLONG_LOG_LEVEL and passes it on to child processes', () => {
    const prev = logger();
    try {
      const env: Record<string, string | undefined> = { NEXTLONG_LOG_LEVEL: 'error' };
      expect(setupLogging(['run', '--log-level', 'debug', '--out', 'x'], env)).toEqual(['run', '--out', 'x']);
      expect(logger().level).toBe('debug');
      expect(env.NEXTLONG_LOG_LEVEL).toBe('debug');
      expect(setupLogging(['worker', '--log-level=warn'], {})).toEqual(['worker']);
      expect(logger().level).toBe('warn');
      expect(setupLogging(['status'], { NEXTLONG_LOG_LEVEL: 'error' })).toEqual(['status']);
      expect(logger().level).toBe('error');
      expect(() => setupLogging(['run', '--log-level', 'loud'], {})).toThrow(/^--log-level must be one of trace, debug, info, warn, error, fatal, silent \(got "loud"\)$/);
      expect(() => setupLogging(['run', '--log-level'], {})).toThrow(ConfigError);
      expect(() => setupLogging([], { NEXTLONG_LOG_LEVEL: 'chatty' })).toThrow(/^NEXTLONG_LOG_LEVEL must be one of/);
    } finally {
      setLogger(prev);
    }
  });

  test('maskUrlCredentials keeps the user and hides the password or a lone token', () => {
    expect(maskUrlCredentials('rediss://user:p%40ss@h:6380 and s3://bucket/key')).toBe('rediss://user:***@h:6380 and s3://bucket/key');
    expect(maskUrlCredentials('https://TOKEN@host/x')).toBe('https://***@host/x');
    expect(maskUrlCredentials('no url here: a@b')).toBe('no url here: a@b');
  });
});
