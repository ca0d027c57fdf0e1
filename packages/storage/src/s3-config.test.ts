import { ConfigError } from '@nextlong/core';
import { parseS3Uri, s3SettingsFromEnv } from './s3-config.js';

describe('parseS3Uri', () => {
  test('bucket and prefix', () => {
    expect(parseS3Uri('s3://bk1')).toEqual({ bucket: 'bk1', prefix: '' });
    expect(parseS3Uri('s3://bk1/')).toEqual({ bucket: 'bk1', prefix: '' });
    expect(parseS3Uri('s3://my.bucket-1/a/b/')).toEqual({ bucket: 'my.bucket-1', prefix: 'a/b' });
  });

  test.each(['s3:/bk1', 'http://bk1/x', 's3://', 's3://ab', 's3://Upper/x', 's3://bk1/a//b', 's3://bk1/a/../b', 's3:///x'])(
    'malformed %s is a ConfigError',
    (uri) => {
      expect(() => parseS3Uri(uri)).toThrow(ConfigError);
    },
  );

  test('credentials in a URI are not echoed', () => {
    const err = (() => {
      try {
        parseS3Uri('s3://AKIAEXAMPLE:hunter2secret@bk1/x');
      } catch (e) {
        return e as Error;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(err.name).toBe('ConfigError');
    expect(err.message).not.toContain('hunter2secret');
    expect(err.message).not.toContain('AKIAEXAMPLE');
  });
});

describe('s3SettingsFromEnv', () => {
  test('defaults', () => {
    const s = s3SettingsFromEnv({});
    expect(s).toMatchObject({
      region: 'us-east-1',
      forcePathStyle: false,
      maxAttempts: 1,
      retryMode: 'standard',
      endpoint: undefined,
      credentials: undefined,
    });
  });

  test('AWS_ENDPOINT_URL turns on path style and WHEN_REQUIRED checksums', () => {
    const s = s3SettingsFromEnv({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9000',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'k',
      AWS_SECRET_ACCESS_KEY: 's',
    });
    expect(s).toMatchObject({
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    });
    expect(s3SettingsFromEnv({ AWS_ENDPOINT_URL: 'http://minio:9000', NEXTLONG_S3_PATH_STYLE: 'false' }).forcePathStyle).toBe(false);
  });

  test.each([
    [{ AWS_ENDPOINT_URL: 'minio:9000' }, 'AWS_ENDPOINT_URL'],
    [{ AWS_ENDPOINT_URL: 'http://user:topsecretpw@minio:9000' }, 'AWS_ENDPOINT_URL'],
    [{ NEXTLONG_S3_PATH_STYLE: 'maybe' }, 'NEXTLONG_S3_PATH_STYLE'],
    [{ AWS_MAX_ATTEMPTS: '0' }, 'AWS_MAX_ATTEMPTS'],
    [{ AWS_RETRY_MODE: 'legacy' }, 'AWS_RETRY_MODE'],
    [{ NEXTLONG_RETRY_BUDGET_MS: 'soon' }, 'NEXTLONG_RETRY_BUDGET_MS'],
    [{ AWS_ACCESS_KEY_ID: 'only-the-id' }, 'AWS_SECRET_ACCESS_KEY'],
  ])('bad %j is a ConfigError naming %s', (env, field) => {
    let err: Error | undefined;
    try {
      s3SettingsFromEnv(env);
    } catch (e) {
      err = e as Error;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toContain(field);
    expect(err!.message).not.toContain('topsecretpw');
    expect(err!.message).not.toContain('only-the-id');
  });
});
