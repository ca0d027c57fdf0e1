/**
 * Checks HTTP requests and JSON values against an OpenAPI 3.0 document — the subset of the
 * dialect that Qdrant's published spec uses: $ref, type, nullable, enum, properties, required,
 * additionalProperties, items, anyOf, oneOf, minimum, maximum, minLength, uniqueItems, format.
 *
 * Read as Qdrant's generator (schemars) means it: a branch `{nullable: true}` alone (in
 * `anyOf: [{$ref}, {nullable: true}]`) admits null only, not anything. Stricter than JSON Schema
 * on purpose: an object property the schema does not name is an error unless the schema has
 * `additionalProperties` — a server ignores a misspelt field, so a client's typo would pass unseen.
 */

export type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, JsonSchema> };
}

export interface Operation {
  parameters?: { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema: JsonSchema }[];
  requestBody?: { content: { 'application/json': { schema: JsonSchema } } };
  responses: Record<string, { content?: { 'application/json'?: { schema: JsonSchema } } }>;
}

export interface MatchedOperation {
  /** The path template, e.g. `/collections/{collection_name}/points`. */
  template: string;
  op: Operation;
  /** Path parameters, decoded. */
  params: Record<string, string>;
}

const FLOAT32_MAX = 3.4028234663852886e38;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const FORMATS: Record<string, (v: unknown) => boolean> = {
  uint: (v) => Number.isInteger(v) && (v as number) >= 0,
  uint8: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 255,
  uint32: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff,
  uint64: (v) => Number.isInteger(v) && (v as number) >= 0,
  int64: (v) => Number.isInteger(v),
  float: (v) => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= FLOAT32_MAX,
  double: (v) => typeof v === 'number' && Number.isFinite(v),
  uuid: (v) => typeof v === 'string' && UUID.test(v),
};

/** `{nullable: true}` alone: the "or null" half of an optional field. */
function isNullOnly(s: JsonSchema): boolean {
  return s.nullable === true && !s.type && !s.$ref && !s.properties && !s.enum && !s.anyOf && !s.oneOf;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return Number.isInteger(v) ? 'integer' : typeof v;
}

function isA(v: unknown, type: string): boolean {
  const t = typeOf(v);
  return t === type || (type === 'number' && t === 'integer');
}

/** A problem: where (a JSON path) and what. */
interface Problem {
  at: string;
  what: string;
}

export class OpenApiCheck {
  constructor(private readonly doc: OpenApiDocument) {}

  /** The operation serving `method` on `pathname`, or undefined. */
  operation(method: string, pathname: string): MatchedOperation | undefined {
    const parts = pathname.split('/');
    for (const [template, ops] of Object.entries(this.doc.paths)) {
      const op = ops[method.toLowerCase()];
      const tparts = template.split('/');
      if (!op || tparts.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const ok = tparts.every((t, i) => {
        const m = /^\{(.+)\}$/.exec(t);
        if (!m) return t === parts[i];
        if (!parts[i]) return false;
        params[m[1]!] = decodeURIComponent(parts[i]!);
        return true;
      });
      if (ok) return { template, op, params };
    }
    return undefined;
  }

  /** Problems of a request's query string and JSON body (`undefined` = none sent), as one line each. */
  checkRequest(m: MatchedOperation, query: URLSearchParams, body: unknown): string[] {
    const problems: string[] = [];
    const declared = new Map((m.op.parameters ?? []).filter((p) => p.in === 'query').map((p) => [p.name, p]));
    for (const [name, raw] of query) {
      const p = declared.get(name);
      if (!p) {
        problems.push(`query parameter "${name}" is not one of: ${[...declared.keys()].join(', ') || '(none)'}`);
        continue;
      }
      const found = this.check(p.schema, queryValue(raw, this.resolve(p.schema)), `query.${name}`);
      if (found) problems.push(`${found.at}: ${found.what}`);
    }
    const schema = m.op.requestBody?.content['application/json'].schema;
    if (!schema && body !== undefined) problems.push('body: this operation takes no body');
    if (schema && body === undefined) problems.push('body: a JSON body is required');
    if (schema && body !== undefined) {
      const found = this.check(schema, body, 'body');
      if (found) problems.push(`${found.at}: ${found.what}`);
    }
    return problems;
  }

  /** The problem of a response body for `status` of the operation, or undefined. */
  checkResponse(m: MatchedOperation, status: number, body: unknown): string | undefined {
    const r = m.op.responses[String(status)] ?? m.op.responses[`${String(status)[0]}XX`] ?? m.op.responses.default;
    const schema = r?.content?.['application/json']?.schema;
    if (!schema) return `no response ${status} in the spec`;
    const found = this.check(schema, body, 'response');
    return found && `${found.at}: ${found.what}`;
  }

  /** The problem of `value` against the named component schema, or undefined. */
  checkSchema(name: string, value: unknown): string | undefined {
    const found = this.check({ $ref: `#/components/schemas/${name}` }, value, name);
    return found && `${found.at}: ${found.what}`;
  }

  private resolve(schema: JsonSchema): JsonSchema {
    const ref = schema.$ref as string | undefined;
    if (!ref) return schema;
    const target = this.doc.components.schemas[ref.replace('#/components/schemas/', '')];
    if (!target) throw new Error(`the OpenAPI document has no ${ref}`);
    return this.resolve(target);
  }

  /** The first (deepest, for alternatives) problem of `v` against `s`, or undefined. */
  private check(schema: JsonSchema, v: unknown, at: string): Problem | undefined {
    const s = this.resolve(schema);
    if (v === null) {
      if (s.nullable === true) return undefined;
      if (!s.anyOf && !s.oneOf) return { at, what: 'null is not allowed here' };
    }
    if (s.anyOf || s.oneOf) return this.alternatives(s, v, at);
    if (isNullOnly(s)) return { at, what: `expected null, got ${typeOf(v)}` };
    const type = s.type as string | undefined;
    if (type && !isA(v, type)) return { at, what: `expected ${type}, got ${typeOf(v)}` };
    if (s.enum && !(s.enum as unknown[]).includes(v)) return { at, what: `${JSON.stringify(v)} is not one of ${JSON.stringify(s.enum)}` };
    const outside = typeof v === 'number' ? this.bounds(s, v, at) : undefined;
    if (outside) return outside;
    if (typeof s.format === 'string' && FORMATS[s.format] && !FORMATS[s.format]!(v))
      return { at, what: `${JSON.stringify(v)} is not a valid ${s.format}` };
    if (typeof v === 'string' && typeof s.minLength === 'number' && v.length < s.minLength)
      return { at, what: `shorter than ${s.minLength} characters` };
    if (Array.isArray(v)) return this.array(s, v, at);
    if (typeOf(v) === 'object') return this.object(s, v as Record<string, unknown>, at);
    return undefined;
  }

  private alternatives(s: JsonSchema, v: unknown, at: string): Problem | undefined {
    const branches = (s.anyOf ?? s.oneOf) as JsonSchema[];
    const problems = branches.map((b) => this.check(b, v, at));
    const matched = problems.filter((p) => !p).length;
    if (s.oneOf && matched > 1) return { at, what: `matches ${matched} alternatives of a oneOf` };
    if (matched > 0) return undefined;
    // a non-null value against `X or null`: X's own problem is the one to tell
    const real = branches.flatMap((b, i) => (isNullOnly(b) ? [] : [problems[i]!]));
    if (real.length === 1) return real[0];
    // else the branch that got furthest into the value says most about the mistake
    const deepest = (problems as Problem[]).reduce((a, b) => (b.at.length > a.at.length ? b : a));
    if (deepest.at !== at) return deepest;
    const names = branches.map((b) => (b.$ref as string | undefined)?.split('/').pop() ?? (b.type as string) ?? 'null');
    return { at, what: `${typeOf(v)} ${JSON.stringify(v)?.slice(0, 60)} matches none of: ${names.join(', ')}` };
  }

  private bounds(s: JsonSchema, v: number, at: string): Problem | undefined {
    if (typeof s.minimum === 'number' && v < s.minimum) return { at, what: `${v} is below the minimum ${s.minimum}` };
    if (typeof s.maximum === 'number' && v > s.maximum) return { at, what: `${v} is above the maximum ${s.maximum}` };
    return undefined;
  }

  private array(s: JsonSchema, v: unknown[], at: string): Problem | undefined {
    if (s.uniqueItems === true && new Set(v.map((x) => JSON.stringify(x))).size !== v.length) return { at, what: 'items are not unique' };
    if (!s.items) return undefined;
    for (let i = 0; i < v.length; i++) {
      const p = this.check(s.items as JsonSchema, v[i], `${at}[${i}]`);
      if (p) return p;
    }
    return undefined;
  }

  private object(s: JsonSchema, v: Record<string, unknown>, at: string): Problem | undefined {
    const props = (s.properties ?? {}) as Record<string, JsonSchema>;
    for (const r of (s.required ?? []) as string[]) if (!(r in v)) return { at, what: `missing required field "${r}"` };
    const extra = s.additionalProperties;
    for (const [k, x] of Object.entries(v)) {
      const p = props[k];
      if (p) {
        const found = this.check(p, x, `${at}.${k}`);
        if (found) return found;
      } else if (extra && typeof extra === 'object') {
        const found = this.check(extra as JsonSchema, x, `${at}.${k}`);
        if (found) return found;
      } else if (extra !== true) {
        return { at, what: `unknown field "${k}" (known: ${Object.keys(props).join(', ') || 'none'})` };
      }
    }
    return undefined;
  }
}

/** A query string value as the type its schema wants (`true`, `5`), else the raw string. */
function queryValue(raw: string, schema: JsonSchema): unknown {
  if (schema.type === 'boolean' && (raw === 'true' || raw === 'false')) return raw === 'true';
  if (schema.type === 'integer' && /^-?\d+$/.test(raw)) return Number(raw);
  return raw;
}
