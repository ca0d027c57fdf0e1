#!/usr/bin/env node
/**
 * Writes fixtures/qdrant-openapi/openapi-v1.18.x-subset.json: the operations of Qdrant's published
 * OpenAPI document that the Qdrant adapter calls, with every schema they reference (transitively),
 * unchanged. The strict Qdrant stand-in (src/qdrant-stand-in.ts) validates requests against it.
 *
 *   node packages/testing/scripts/qdrant-openapi-subset.mjs [path/to/openapi-v1.18.x.json]
 *
 * Default source: ../shared/specs/qdrant/openapi-v1.18.x.json beside the repository (see the
 * fixture's README for its upstream commit and licence).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const source = process.argv[2] ?? here('../../../../shared/specs/qdrant/openapi-v1.18.x.json');
const target = here('../fixtures/qdrant-openapi/openapi-v1.18.x-subset.json');

/** [method, path] of every call the adapter (packages/vectors/src/qdrant-*.ts) makes. */
const OPERATIONS = [
  ['get', '/collections/{collection_name}'],
  ['put', '/collections/{collection_name}'],
  ['patch', '/collections/{collection_name}'],
  ['delete', '/collections/{collection_name}'],
  ['put', '/collections/{collection_name}/index'],
  ['post', '/collections/{collection_name}/points'],
  ['put', '/collections/{collection_name}/points'],
  ['post', '/collections/{collection_name}/points/count'],
  ['post', '/collections/{collection_name}/points/delete'],
  ['post', '/collections/{collection_name}/points/query/batch'],
  ['post', '/collections/{collection_name}/points/scroll'],
];

const spec = JSON.parse(readFileSync(source, 'utf8'));
const paths = {};
for (const [method, path] of OPERATIONS) {
  const op = spec.paths[path]?.[method];
  if (!op) throw new Error(`${source}: no ${method.toUpperCase()} ${path}`);
  (paths[path] ??= {})[method] = op;
}

function refsOf(node, out) {
  if (Array.isArray(node)) for (const x of node) refsOf(x, out);
  else if (node && typeof node === 'object')
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref') out.push(v.replace('#/components/schemas/', ''));
      else refsOf(v, out);
    }
  return out;
}

const schemas = {};
const todo = refsOf(paths, []);
while (todo.length) {
  const name = todo.pop();
  if (schemas[name]) continue;
  schemas[name] = spec.components.schemas[name];
  if (!schemas[name]) throw new Error(`${source}: no schema ${name}`);
  refsOf(schemas[name], todo);
}
const sorted = Object.fromEntries(
  Object.keys(schemas)
    .sort()
    .map((k) => [k, schemas[k]]),
);

const subset = {
  openapi: spec.openapi,
  info: { title: spec.info.title, version: spec.info.version, license: spec.info.license },
  'x-subset-of':
    'github.com/qdrant/qdrant docs/redoc/v1.18.x/openapi.json (see README.md): these operations and the schemas they reference, unchanged',
  paths,
  components: { schemas: sorted },
};
writeFileSync(target, `${JSON.stringify(subset, null, 1)}\n`);
console.log(`${target}: ${OPERATIONS.length} operations, ${Object.keys(sorted).length} schemas`);
