/**
 * The repository's own source files and what each imports, read by a real parser (swc) rather
 * than by pattern: static and dynamic imports, re-exports, `import type`, `typeof import()`, and
 * `require`/`require.resolve` with a literal (or a template starting with a package name).
 * Shared by the house checks in this folder.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import swc from '@swc/core';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');

const SKIP_DIRS = new Set(['node_modules', 'dist', '.git', 'coverage', 'out', '.cache', 'fixtures']);
const SOURCE_EXT = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** Every source file of the repository (absolute paths, sorted), skipping builds, dependencies and fixtures. */
export function sourceFiles(dir = repoRoot): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') && e.name !== '.ci') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (!SKIP_DIRS.has(e.name)) out.push(...sourceFiles(p));
    } else if (e.isFile() && SOURCE_EXT.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out.sort();
}

export interface ImportRef {
  specifier: string;
  line: number;
  typeOnly: boolean;
}

type Node = { type?: string; [k: string]: unknown };

/** The module specifiers one file imports, in source order. */
export function importsOf(file: string): ImportRef[] {
  const src = readFileSync(file, 'utf8');
  const ts = /\.(m|c)?ts$/.test(file);
  const ast = swc.parseSync(src.replace(/^#!.*/, ''), ts ? { syntax: 'typescript' } : { syntax: 'ecmascript' });
  const refs: ImportRef[] = [];
  const add = (lit: unknown, typeOnly: boolean) => {
    const s = literalPrefix(lit);
    if (s === undefined) return;
    const l = lit as { raw?: string; quasis?: { raw: string }[] };
    const raw = l.raw ?? (l.quasis ? `\`${l.quasis[0]!.raw}` : undefined);
    const at = raw ? src.indexOf(raw) : -1;
    refs.push({ specifier: s, typeOnly, line: at < 0 ? 0 : src.slice(0, at).split('\n').length });
  };
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(visit);
    if (!n || typeof n !== 'object') return;
    const node = n as Node;
    switch (node.type) {
      case 'ImportDeclaration':
      case 'ExportAllDeclaration':
      case 'ExportNamedDeclaration':
        if (node.source) add(node.source, node.typeOnly === true);
        break;
      case 'TsImportType':
        add(node.argument, true);
        break;
      case 'CallExpression': {
        const callee = node.callee as Node;
        const first = (node.arguments as { expression: unknown }[])[0]?.expression;
        const isRequire = callee.type === 'Identifier' && callee.value === 'require';
        const isResolve =
          callee.type === 'MemberExpression' &&
          (callee.object as Node).type === 'Identifier' &&
          (callee.object as Node).value === 'require' &&
          (callee.property as Node).value === 'resolve';
        if (callee.type === 'Import' || isRequire || isResolve) add(first, false);
        break;
      }
    }
    for (const v of Object.values(node)) if (v && typeof v === 'object') visit(v);
  };
  visit(ast.body);
  return refs;
}

/** A string literal's value, or the static head of a template literal when it names at least a package. */
function literalPrefix(lit: unknown): string | undefined {
  const n = lit as Node | undefined;
  if (n?.type === 'StringLiteral') return n.value as string;
  if (n?.type === 'TemplateLiteral') {
    const head = ((n.quasis as { cooked: string }[])[0]?.cooked ?? '').replace(/\/[^/]*$/, '');
    return head && !head.startsWith('.') && !head.startsWith('/') ? head : undefined;
  }
  return undefined;
}

const BUILTINS = new Set(builtinModules);

export const isBuiltin = (s: string) => s.startsWith('node:') || BUILTINS.has(s) || BUILTINS.has(s.split('/')[0]!);
export const isRelative = (s: string) => s.startsWith('.') || s.startsWith('/');

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
export function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

export interface Manifest {
  dir: string;
  name: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  optionalDependencies: Record<string, string>;
  exports?: unknown;
}

export function readManifest(dir: string): Manifest {
  const j = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Partial<Manifest>;
  return {
    dir,
    name: j.name ?? '',
    dependencies: j.dependencies ?? {},
    devDependencies: j.devDependencies ?? {},
    peerDependencies: j.peerDependencies ?? {},
    optionalDependencies: j.optionalDependencies ?? {},
    exports: j.exports,
  };
}

/** The workspace packages (`packages/*`, `apps/*`), by name. */
export function workspaces(): Map<string, Manifest> {
  const out = new Map<string, Manifest>();
  for (const group of ['packages', 'apps']) {
    for (const e of readdirSync(path.join(repoRoot, group), { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const dir = path.join(repoRoot, group, e.name);
      try {
        const m = readManifest(dir);
        out.set(m.name, m);
      } catch {
        // a folder without package.json is no workspace
      }
    }
  }
  return out;
}

export const rel = (file: string) => path.relative(repoRoot, file);
