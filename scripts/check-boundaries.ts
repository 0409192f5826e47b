/**
 * Enforces the module boundaries: the kernel imports no module; a module imports only the kernel's index and its own
 * folder. Also that every .tsx names its JSX runtime in a pragma: Bun reads tsconfig.json from the working directory,
 * so without it `capstan` run from any other folder (the package's bin, a user's project) fails to load the console.
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
const violations: string[] = [];
for (const file of walk(src)) {
  const rel = relative(root, file);
  const text = readFileSync(file, 'utf8');
  if (file.endsWith('.tsx') && !text.startsWith('/** @jsxImportSource hono/jsx */')) violations.push(`${rel} must start with /** @jsxImportSource hono/jsx */ (Bun reads tsconfig.json from the working directory)`);
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
