/** `capstan dev target`: runs the simulated target in the foreground until SIGINT/SIGTERM. */
import { parseArgs } from 'node:util';
import type { DevCommand } from '../../../kernel/index.ts';
import { startTarget, TARGET_FUNCTIONS, type TargetFunction } from './target.ts';

const USAGE = 'target [--port N] [--host H] [--function branin|hartmann6|noisy2] [--noise SD] [--seed N] [--token-env VAR]';

function fail(message: string): number {
  console.error(`capstan dev target: ${message}\nusage: capstan dev ${USAGE}`);
  return 2;
}

/** The dev command. */
export const targetCommand: DevCommand = {
  description: 'a simulated target for breeders: POST /apply, metrics in Prometheus text and JSON (Branin, Hartmann6, noisy two-objective)',
  usage: USAGE,
  async run(argv) {
    let values: Record<string, string | undefined>;
    try {
      values = parseArgs({ args: argv, options: { port: { type: 'string' }, host: { type: 'string' }, function: { type: 'string' }, noise: { type: 'string' }, seed: { type: 'string' }, 'token-env': { type: 'string' } }, strict: true }).values;
    } catch (err) {
      return fail((err as Error).message);
    }
    const port = Number(values.port ?? 0);
    if (!Number.isInteger(port) || port < 0 || port > 65535) return fail(`--port must be 0..65535, got '${values.port}'`);
    const fn = (values.function ?? 'branin') as TargetFunction;
    if (!TARGET_FUNCTIONS.includes(fn)) return fail(`--function must be one of ${TARGET_FUNCTIONS.join(', ')}, got '${values.function}'`);
    const noise = Number(values.noise ?? 0.01);
    if (!Number.isFinite(noise) || noise < 0) return fail(`--noise must be a number ≥ 0, got '${values.noise}'`);
    const seed = Number(values.seed ?? 1);
    if (!Number.isInteger(seed)) return fail(`--seed must be an integer, got '${values.seed}'`);
    // The token comes from the environment, so it is not visible in the process list.
    const tokenEnv = values['token-env'];
    const token = tokenEnv ? process.env[tokenEnv] : undefined;
    if (tokenEnv && !token) return fail(`--token-env names ${tokenEnv}, which is not set`);
    const target = startTarget({ fn, port, host: values.host, noise, seed, token });
    const stopped = new Promise<void>((resolve) => {
      const stop = () => void target.stop().then(resolve);
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
    console.log(`target listening on ${target.url} (${fn}; POST /apply, GET /metrics, GET /metrics.json)`);
    await stopped;
    return 0;
  },
};
