/** Child process of the HTTP benchmark: serves the kernel or the baseline app on a free loopback port until stdin closes. */
import { websocket } from 'hono/bun';

const which = process.argv[2];
const token = process.env.BENCH_TOKEN;
if ((which !== 'kernel' && which !== 'baseline') || !token) {
  process.stderr.write('usage: BENCH_TOKEN=... bun bench/http-server.ts kernel|baseline\n');
  process.exit(2);
}
// Imported on demand: the baseline process never loads the kernel (nor PGlite).
const database = process.env.BENCH_KERNEL_DB === 'postgres' ? 'postgres' : 'pglite';
const app = which === 'kernel' ? await (await import('./http-kernel-app.ts')).kernelApp(token, { database }) : (await import('./http-baseline-app.ts')).baselineApp(token);
// Both apps are served exactly as serve.ts serves the kernel.
const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch, websocket, maxRequestBodySize: 2 * 1_048_576 });
process.stdout.write(`listening ${server.port}\n`);

// The parent closes our stdin to stop us (and if the parent dies, stdin closes too).
const reader = Bun.stdin.stream().getReader();
while (!(await reader.read()).done) {
  // Nothing is sent on stdin; reading only waits for end of input.
}
await server.stop(true);
await app.close();
process.exit(0);
