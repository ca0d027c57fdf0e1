import { Redis } from 'ioredis';

/** A connection for BullMQ from a `redis://` or `rediss://` (TLS) URL, with password if any. */
export function connectRedis(url: string): Redis {
  // BullMQ needs maxRetriesPerRequest null: its blocking commands must not time out
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

/** The URL for messages: the password never appears. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/)([^@/]*)@/i, (_, scheme: string, auth: string) => `${scheme}${auth.includes(':') ? `${auth.split(':')[0]}:***` : '***'}@`);
}
