/**
 * PGlite's WebAssembly and file-system bundle for the single binary made by `bun build --compile`, where
 * PGlite cannot find them next to its own code (`ENOENT /$bunfs/root/pglite.data`).
 */
import type { PgliteWasmAssets } from './pglite-database.ts';

/** True when this code runs from a binary made by `bun build --compile` (its modules live in Bun's virtual fs). */
export function runningCompiled(): boolean {
  const path: unknown = (import.meta as { path?: unknown }).path;
  if (typeof path === 'string' && (path.startsWith('/$bunfs/') || path.startsWith('B:/~BUN/'))) return true;
  return typeof Bun !== 'undefined' && Bun.main.includes('$bunfs');
}

/** In a compiled binary: the embedded assets, compiled; otherwise undefined (PGlite loads its own files). */
export async function pgliteAssets(): Promise<PgliteWasmAssets | undefined> {
  if (!runningCompiled()) return undefined;
  // Dynamic so that vitest (which cannot load .wasm as a module) never evaluates them; the literal paths
  // still let `bun build --compile` embed the files. The package's exports do not list them, hence the
  // relative paths into node_modules.
  const [pgliteWasm, initdbWasm, data] = await Promise.all([
    import('../../../node_modules/@electric-sql/pglite/dist/pglite.wasm', { with: { type: 'file' } }),
    import('../../../node_modules/@electric-sql/pglite/dist/initdb.wasm', { with: { type: 'file' } }),
    import('../../../node_modules/@electric-sql/pglite/dist/pglite.data', { with: { type: 'file' } }),
  ]);
  const [pgliteWasmModule, initdbWasmModule, bundle] = await Promise.all([
    compile(pgliteWasm.default),
    compile(initdbWasm.default),
    Bun.file(data.default).arrayBuffer(),
  ]);
  return { pgliteWasmModule, initdbWasmModule, fsBundle: new Blob([bundle]) };
}

async function compile(path: string): Promise<WebAssembly.Module> {
  return WebAssembly.compile(await Bun.file(path).arrayBuffer());
}
