/**
 * Enforces the module boundaries: the kernel imports no module; a module imports only the kernel's index and its own
 * folder. Also that every .tsx names its JSX runtime in a pragma: Bun reads tsconfig.json from the working directory,
 * so without it `capstan` run from any other folder (the package's bin, a user's project) fails to load the console.
 * And that every package src/ imports is a production dependency: the image installs with --production, so a
 * devDependency imported by src/ builds and tests fine here and breaks only the container build.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const src = join(root, 'src');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : /\.(ts|tsx)$/.test(name) ? [p] : [];
  });
}

const importRe = /(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g;
// Static imports and re-exports at the start of a line, side-effect imports, and import('...') calls.
const packageRe = /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm;
const packageName = /^(?:node:|bun:)?(?:@[a-z0-9._-]+\/)?[a-z0-9][a-z0-9._-]*(?:\/[^'"]*)?$/;
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
const production = new Set(Object.keys(manifest.dependencies ?? {}));
/** The package a bare specifier names: `@scope/name` or `name`, without a subpath. */
const packageOf = (spec: string) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
const violations: string[] = [];
for (const file of walk(src)) {
  const rel = relative(root, file);
  const text = readFileSync(file, 'utf8');
  if (file.endsWith('.tsx') && !text.startsWith('/** @jsxImportSource hono/jsx */')) violations.push(`${rel} must start with /** @jsxImportSource hono/jsx */ (Bun reads tsconfig.json from the working directory)`);
  for (const m of text.matchAll(packageRe)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (spec.startsWith('.') || !packageName.test(spec)) continue;
    const pkg = packageOf(spec);
    if (!pkg.startsWith('node:') && !pkg.startsWith('bun:') && pkg !== 'bun' && !production.has(pkg)) violations.push(`${rel} imports '${spec}', which is not in package.json's dependencies (the image installs only those)`);
  }
  for (const m of text.matchAll(importRe)) {
    const target = relative(root, resolve(dirname(file), m[1]!));
    if (rel.startsWith('src/kernel/') && target.startsWith('src/modules/')) violations.push(`${rel} imports ${m[1]} (the kernel never imports a module)`);
    if (rel.startsWith('src/modules/')) {
      const own = rel.split('/')[2];
      const inOwn = target.startsWith(`src/modules/${own}/`) || target === `src/modules/${own}`;
      const kernelIndex = target === 'src/kernel/index.ts' || target === 'src/kernel';
      if (!inOwn && !kernelIndex) violations.push(`${rel} imports ${m[1]} (a module imports only src/kernel/index.ts and its own folder)`);
    }
  }
}
if (violations.length > 0) {
  console.error(`module boundary violations:\n  ${violations.join('\n  ')}`);
  process.exit(1);
}
console.log(`module boundaries ok (${walk(src).length} files)`);
