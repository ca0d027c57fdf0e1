import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  importsOf,
  isBuiltin,
  isRelative,
  packageName,
  readManifest,
  rel,
  repoRoot,
  sourceFiles,
  workspaces,
  type Manifest,
} from './source-graph.js';

/**
 * Every package declares what it imports, so it works without workspace hoisting: a production
 * file's bare imports are in its package's `dependencies` (or peer/optional); a test, script,
 * bench or other file its package's build excludes may also use its package's `devDependencies`
 * and the root's. Node builtins are exempt.
 */

const root = readManifest(repoRoot);
const packages = workspaces();

/** The package a file belongs to: the nearest folder above it with a package.json. */
function ownerOf(file: string): Manifest {
  for (let dir = path.dirname(file); dir.startsWith(repoRoot) && dir !== repoRoot; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return readManifest(dir);
  }
  return root;
}

/** `src/**\/*.test.ts`-style patterns of a tsconfig `exclude` as one regular expression (or none). */
function excludedByBuild(dir: string): RegExp | undefined {
  const file = path.join(dir, 'tsconfig.json');
  if (!existsSync(file)) return undefined;
  const patterns = (JSON.parse(readFileSync(file, 'utf8')) as { exclude?: string[] }).exclude ?? [];
  if (!patterns.length) return undefined;
  const toRegex = (g: string) =>
    g
      .split(/(\*\*\/|\*)/)
      .map((part) => (part === '**/' ? '(?:.*/)?' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
      .join('');
  return new RegExp(`^(?:${patterns.map(toRegex).join('|')})$`);
}

/** Tests, scripts, benches and whatever the package's build leaves out may use development dependencies. */
function isDevFile(file: string, owner: Manifest): boolean {
  if (owner === root) return true;
  const inPackage = path.relative(owner.dir, file).split(path.sep).join('/');
  return (
    /\.test\.[cm]?[jt]s$/.test(file) || /^(test|scripts|bench)\//.test(inPackage) || excludedByBuild(owner.dir)?.test(inPackage) === true
  );
}

function allowed(file: string, owner: Manifest): Set<string> {
  const names = [
    owner.name,
    ...Object.keys(owner.dependencies),
    ...Object.keys(owner.peerDependencies),
    ...Object.keys(owner.optionalDependencies),
  ];
  if (isDevFile(file, owner)) {
    names.push(...Object.keys(owner.devDependencies), ...Object.keys(root.devDependencies), ...Object.keys(root.dependencies));
    // the repository's own tests and benches use the workspace packages it links
    if (owner === root) names.push(...packages.keys());
  }
  return new Set(names);
}

test('every bare import is declared by the package that imports it', () => {
  const problems = new Set<string>();
  const seen = new Set<string>();
  for (const file of sourceFiles()) {
    const owner = ownerOf(file);
    const ok = allowed(file, owner);
    for (const ref of importsOf(file)) {
      if (isRelative(ref.specifier) || isBuiltin(ref.specifier)) continue;
      const name = packageName(ref.specifier);
      if (ok.has(name)) continue;
      const key = `${file}\0${name}`;
      if (seen.has(key)) continue; // one line per file and package
      seen.add(key);
      const where = owner === root ? 'package.json (root)' : rel(path.join(owner.dir, 'package.json'));
      const field = isDevFile(file, owner) ? 'dependencies or devDependencies' : 'dependencies';
      problems.add(`${rel(file)}:${ref.line} imports "${ref.specifier}" but ${where} has no "${name}" in ${field}`);
    }
  }
  expect([...problems]).toEqual([]);
});

test('the parser sees imports of every form', async () => {
  // guards against a parser change that silently finds nothing
  const dir = await mkdtemp(path.join(tmpdir(), 'nextlong-house-'));
  const file = path.join(dir, 'sample.ts');
  await writeFile(
    file,
    [
      "import a from 'pkg-a';",
      "import type { B } from '@scope/b/sub';",
      "export * from './c.js';",
      "export { d } from 'pkg-d';",
      "const e = await import('pkg-e');",
      "type F = typeof import('pkg-f');",
      'const g = require(`pkg-g/encoders/${name}.json`);',
      "const h = require.resolve('pkg-h');",
      "import 'node:fs';",
      "const notAnImport = 'pkg-z';",
    ].join('\n'),
  );
  try {
    const refs = importsOf(file);
    expect(refs.map((r) => r.specifier)).toEqual([
      'pkg-a',
      '@scope/b/sub',
      './c.js',
      'pkg-d',
      'pkg-e',
      'pkg-f',
      'pkg-g/encoders',
      'pkg-h',
      'node:fs',
    ]);
    expect(refs.map((r) => r.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(refs[1]).toMatchObject({ typeOnly: true });
    expect(packageName('@scope/b/sub')).toBe('@scope/b');
    expect(isBuiltin('node:fs') && isBuiltin('fs/promises') && !isBuiltin('pkg-a')).toBe(true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
