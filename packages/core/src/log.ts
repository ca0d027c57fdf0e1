/**
 * Structured logs (pino): levels, `run` / `stage` / `shard` fields on child loggers, secrets
 * redacted by the logger's own redaction config. Three renderings of the same records:
 * `json` (one object a line: containers, log collectors; the image sets NEXTLONG_LOG_FORMAT=json),
 * `pretty` (a terminal: level tag, message, dim fields) and `plain` (the message alone, as the
 * lines of a CI log or a redirect always read). Progress bars and the end-of-run summary are
 * user output, not logs: they never come through here.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type DestinationStream, type Logger } from 'pino';
import { ConfigError } from './errors.js';

export type { Logger } from 'pino';
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty', 'plain'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Keys whose values are secrets wherever they appear (one level deep, and at the top). */
const SECRET_KEYS = ['apiKey', 'secretAccessKey', 'accessKeyId', 'sessionToken', 'password', 'authorization', 'token'];
/** Keys holding URLs: kept, with any credentials in them masked. */
const URL_KEYS = ['url', 'redisUrl', 'qdrantUrl', 'endpoint'];
const REDACT_PATHS = [...SECRET_KEYS, ...URL_KEYS].flatMap((k) => [k, `*.${k}`]);

/** `scheme://user:pass@host` → `scheme://user:***@host` (also `scheme://:pass@`, `scheme://token@`). */
export function maskUrlCredentials(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^/\s:@]*)(?::([^/\s@]*))?@/gi, (_m, scheme: string, user: string, pass: string | undefined) =>
    pass === undefined ? `${scheme}***@` : `${scheme}${user}:***@`,
  );
}

function censor(value: unknown, path: string[]): unknown {
  const key = path[path.length - 1] ?? '';
  if (URL_KEYS.includes(key)) return typeof value === 'string' ? maskUrlCredentials(value) : value;
  return '[redacted]';
}

export type LogFields = Record<string, string | number>;
const scope = new AsyncLocalStorage<LogFields>();

/**
 * Runs `fn` with `fields` on every record logged inside it, however deep (a shard's `run`,
 * `stage`, `shard` reach the S3 retry lines of its reads too).
 */
export function withLogFields<T>(fields: LogFields, fn: () => T): T {
  return scope.run({ ...scope.getStore(), ...fields }, fn);
}

/** The scope's fields a record lacks (the call's own fields and a child logger's bindings win: no key twice). */
function scopeFields(obj: object, _level: number, l: Logger): LogFields {
  const fields = scope.getStore();
  if (!fields) return {};
  const bound = l.bindings();
  return Object.fromEntries(Object.entries(fields).filter(([k]) => !(k in bound) && !(k in obj)));
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go (default stderr). */
  out?: { write(s: string): unknown; isTTY?: boolean };
}

function parseChoice<T extends string>(name: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  const v = raw?.trim().toLowerCase();
  if (!v) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw new ConfigError(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
  return v as T;
}

/** NEXTLONG_LOG_LEVEL (default info). */
export function logLevelOf(raw: string | undefined, name = 'NEXTLONG_LOG_LEVEL'): LogLevel {
  return parseChoice(name, raw, LOG_LEVELS) ?? 'info';
}

/** NEXTLONG_LOG_FORMAT, else `pretty` on a terminal and `plain` otherwise. */
export function logFormatOf(raw: string | undefined, isTTY: boolean): LogFormat {
  return parseChoice('NEXTLONG_LOG_FORMAT', raw, LOG_FORMATS) ?? (isTTY ? 'pretty' : 'plain');
}

const LEVEL_NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const COLORS: Record<string, string> = { trace: '90', debug: '36', info: '32', warn: '33', error: '31', fatal: '35' };
/** Fields of every pino record that the readable renderings leave out. */
const OWN_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'msg']);

/** A record rendered for people: the message, then (pretty) its level and fields. */
export function renderRecord(rec: Record<string, unknown>, format: 'pretty' | 'plain'): string {
  const msg = String(rec.msg ?? '');
  if (format === 'plain') return `${msg}\n`;
  const level = LEVEL_NAMES[rec.level as number] ?? 'info';
  const fields = Object.entries(rec)
    .filter(([k]) => !OWN_FIELDS.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const tag = level === 'info' ? '' : `\x1b[${COLORS[level]}m${level}\x1b[0m `;
  return `${tag}${msg}${fields ? `  \x1b[2m${fields}\x1b[0m` : ''}\n`;
}

/** A new logger; the process-wide one is `logger()`. */
export function createLogger(o: LoggerOptions = {}): Logger {
  const out = o.out ?? process.stderr;
  const format = o.format ?? logFormatOf(process.env.NEXTLONG_LOG_FORMAT, Boolean(out.isTTY));
  const stream: DestinationStream =
    format === 'json' && !o.out
      ? pino.destination({ dest: 2, sync: true }) // sync: the last lines before process.exit are kept
      : { write: (line: string) => void out.write(format === 'json' ? line : renderRecord(JSON.parse(line) as Record<string, unknown>, format)) };
  return pino(
    {
      level: o.level ?? logLevelOf(process.env.NEXTLONG_LOG_LEVEL),
      redact: { paths: REDACT_PATHS, censor },
      mixin: scopeFields as (obj: object, level: number) => object,
      serializers: { err: pino.stdSerializers.err },
      hooks: {
        // credentials inside a URL in a message are masked too (a message is not a path redact can name)
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? maskUrlCredentials(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    stream,
  );
}

let root: Logger | undefined;

/** The process's logger (created on first use from NEXTLONG_LOG_LEVEL / NEXTLONG_LOG_FORMAT). */
export function logger(): Logger {
  root ??= createLogger();
  return root;
}

/** Replaces the process's logger (the CLI's --log-level; tests capture records). Returns the previous one. */
export function setLogger(l: Logger): Logger | undefined {
  const prev = root;
  root = l;
  return prev;
}

/**
 * The CLI's logging set-up: takes `--log-level <l>` / `--log-level=<l>` out of `argv` (any
 * command accepts it; it wins over NEXTLONG_LOG_LEVEL), checks both and NEXTLONG_LOG_FORMAT
 * (a ConfigError names the bad one), installs the process logger and returns the other args.
 */
export function setupLogging(argv: readonly string[], env: Record<string, string | undefined> = process.env): string[] {
  const rest: string[] = [];
  let flag: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--log-level') {
      flag = argv[++i];
      if (flag === undefined) throw new ConfigError('--log-level needs a value: one of ' + LOG_LEVELS.join(', '));
    } else if (a.startsWith('--log-level=')) flag = a.slice('--log-level='.length);
    else rest.push(a);
  }
  const level = flag !== undefined ? logLevelOf(flag, '--log-level') : logLevelOf(env.NEXTLONG_LOG_LEVEL);
  if (flag !== undefined) env.NEXTLONG_LOG_LEVEL = level; // shard processes inherit the environment, so the level too
  setLogger(createLogger({ level, format: logFormatOf(env.NEXTLONG_LOG_FORMAT, Boolean(process.stderr.isTTY)) }));
  return rest;
}
