import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, parseRunConfig, RunConfigSchema, type RunConfig } from '@nextlong/core';
import YAML from 'yaml';

/** JSON-Schema `type` of each setting (zod's public `toJSONSchema`; optional and default unwrapped). */
const KIND: Record<string, string | undefined> = Object.fromEntries(
  Object.entries(RunConfigSchema.toJSONSchema({ io: 'input' }).properties ?? {}).map(([k, s]) => [
    k,
    typeof s === 'object' && typeof s.type === 'string' ? s.type : undefined,
  ]),
);
const PATH_KEYS = new Set(['input', 'pool', 'out']);

/** Schema keys whose values are lists (a flag repeats, the environment separates with commas). */
const isArrayKey = (key: string): boolean => KIND[key] === 'array';

/** Schema keys whose values are numbers (flags and environment give strings). */
const isNumeric = (key: string): boolean => KIND[key] === 'number' || KIND[key] === 'integer';

/** Schema keys that are on/off switches: a bare flag (`--verify-tokens`), `true`/`false` elsewhere. */
export function isBooleanKey(key: string): boolean {
  return KIND[key] === 'boolean';
}

export const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (k: string) => k.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());

/** `\n`, `\t`, `\\` in a flag value (so `--separator "\n\n"` means two newlines). */
export function unescape(s: string): string {
  return s.replace(/\\(n|t|r|\\)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r', '\\': '\\' })[c]!);
}

function coerce(key: string, value: string | string[] | boolean, origin: string): unknown {
  if (typeof value === 'boolean') return value;
  if (isArrayKey(key)) return Array.isArray(value) ? value : value.split(',').filter(Boolean);
  const v = Array.isArray(value) ? value[value.length - 1]! : value;
  if (isBooleanKey(key)) {
    if (/^(true|1|yes|on)$/i.test(v)) return true;
    if (/^(false|0|no|off)$/i.test(v)) return false;
    throw new ConfigError(`${origin}: ${kebab(key)} must be true or false, got "${v}"`);
  }
  if (key === 'separator') return unescape(v);
  if (isNumeric(key)) {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${origin}: ${kebab(key)} must be a number, got "${v}"`);
    return n;
  }
  return v;
}

function loadFile(file: string): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`config: cannot read ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`config: ${file} must be a mapping of settings`);
  const base = path.dirname(path.resolve(file));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const key = camel(k);
    // paths in a config file are relative to the file
    if (PATH_KEYS.has(key)) out[key] = Array.isArray(v) ? v.map((p) => resolveFrom(base, p)) : resolveFrom(base, v);
    else out[key] = v;
  }
  return out;
}

function resolveFrom(base: string, p: unknown): unknown {
  return typeof p === 'string' && !p.startsWith('s3://') ? path.resolve(base, p) : p;
}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(RunConfigSchema.shape)) {
    const name = `NEXTLONG_${kebab(key).replace(/-/g, '_').toUpperCase()}`;
    const v = env[name];
    if (v !== undefined && v !== '') out[key] = coerce(key, v, `environment ${name}`);
  }
  return out;
}

/** flags > environment (NEXTLONG_*) > config file > defaults (DESIGN §5). */
export function resolveRunConfig(
  flags: Record<string, string | string[] | boolean | undefined>,
  env: NodeJS.ProcessEnv = process.env,
): RunConfig {
  const configFile = (flags.config as string | undefined) ?? env.NEXTLONG_CONFIG;
  const merged: Record<string, unknown> = { ...(configFile ? loadFile(configFile) : {}), ...fromEnv(env) };
  for (const [flag, value] of Object.entries(flags)) {
    if (flag === 'config' || value === undefined) continue;
    merged[camel(flag)] = coerce(camel(flag), value, 'flag');
  }
  if (merged.input === undefined) throw new ConfigError('missing --input (a corpus file, folder or glob)');
  if (merged.out === undefined) throw new ConfigError('missing --out (the output folder)');
  return parseRunConfig(merged);
}
