import { existsSync } from 'node:fs';
import path from 'node:path';
import { importsOf, isBuiltin, isRelative, packageName, rel, sourceFiles, workspaces } from './source-graph.js';

/**
 * No import cycle anywhere, type-only imports included: a cycle hides an ordering dependency
 * (a half-initialised module at load time) and makes the packages impossible to read in order.
 * `@nextlong/*` imports resolve to the package's source entry, so cycles across packages count too.
 */

const packages = workspaces();

/** `dist/x.js` of a package → `src/x.ts`, the file the build made it from. */
function toSource(p: string): string | undefined {
  const src = p.replace(`${path.sep}dist${path.sep}`, `${path.sep}src${path.sep}`);
  const candidates = [
    src,
    src.replace(/\.js$/, '.ts'),
    src.replace(/\.mjs$/, '.mts'),
    src.replace(/\.d\.ts$/, '.ts'),
    `${src}.ts`,
    path.join(src, 'index.ts'),
  ];
  return candidates.find((c) => /\.[cm]?[jt]s$/.test(c) && !c.endsWith('.d.ts') && existsSync(c));
}

function exportTarget(exportsField: unknown, sub: string): string | undefined {
  const entry = (exportsField as Record<string, unknown> | undefined)?.[sub];
  if (typeof entry === 'string') return entry;
  const e = entry as { types?: string; default?: string; import?: string } | undefined;
  return e?.default ?? e?.import ?? e?.types;
}

export function resolveImport(from: string, specifier: string): string | undefined {
  if (isRelative(specifier)) return toSource(path.resolve(path.dirname(from), specifier));
  if (isBuiltin(specifier)) return undefined;
  const m = packages.get(packageName(specifier));
  if (!m) return undefined; // a third-party package: not ours, cannot close a cycle
  const sub = `.${specifier.slice(m.name.length)}`;
  const target = exportTarget(m.exports, sub) ?? (sub === '.' ? 'dist/index.js' : undefined);
  return target ? toSource(path.join(m.dir, target)) : undefined;
}

/** Strongly connected components with more than one file (or a file importing itself), each as one cycle path. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const connect = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const c: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        c.push(w);
      } while (w !== v);
      if (c.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(c);
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) connect(v);
  return components.map((c) => cyclePath(graph, new Set(c)));
}

/** One concrete cycle through a component, from its first file (sorted) back to it. */
function cyclePath(graph: Map<string, string[]>, members: Set<string>): string[] {
  const start = [...members].sort()[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const pathBack = [v];
        while (pathBack[0] !== start) pathBack.unshift(prev.get(pathBack[0]!)!);
        return [...pathBack, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start];
}

test('no import cycle among the source files (type-only imports included)', () => {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles()) {
    const targets = importsOf(file)
      .map((r) => resolveImport(file, r.specifier))
      .filter((t): t is string => t !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  const cycles = findCycles(graph).map((c) => c.map(rel).join(' → '));
  expect(cycles).toEqual([]);
});

test('the cycle finder reports a cycle as a path, and none in a tree', () => {
  const g = new Map([
    ['a', ['b']],
    ['b', ['c', 'd']],
    ['c', ['a']],
    ['d', []],
    ['e', ['e']],
  ]);
  expect(findCycles(g).sort()).toEqual([
    ['a', 'b', 'c', 'a'],
    ['e', 'e'],
  ]);
  expect(
    findCycles(
      new Map([
        ['a', ['b']],
        ['b', []],
      ]),
    ),
  ).toEqual([]);
});

test('imports resolve to source files, across packages too', () => {
  const some = sourceFiles().find((f) => f.endsWith(path.join('packages', 'pipeline', 'src', 'index.ts')))!;
  expect(rel(resolveImport(some, '@nextlong/core')!)).toBe(path.join('packages', 'core', 'src', 'index.ts'));
  expect(resolveImport(some, './no-such-file.js')).toBeUndefined();
  expect(resolveImport(some, 'zod')).toBeUndefined();
});
