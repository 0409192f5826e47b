/**
 * A simulated target system for trying breeders and for tests: `POST /apply` takes parameters; `GET /metrics`
 * (Prometheus text) and `GET /metrics.json` report the benchmark function of the last applied parameters, a `load`
 * reading for guardrails (100 · the first parameter's position in its range) and how many applies it received.
 */

import { branin, hartmann6, zdt1 } from './functions.ts';

/** The functions the target can compute. */
export const TARGET_FUNCTIONS = ['branin', 'hartmann6', 'noisy2'] as const;
/** One of them. */
export type TargetFunction = (typeof TARGET_FUNCTIONS)[number];

/** What the target reports after an apply. */
export interface TargetReading {
  objectives: number[];
  load: number;
}

/** Parameter names and ranges each function expects. */
const SPACES: Record<TargetFunction, Record<string, [number, number]>> = {
  branin: { x1: [-5, 10], x2: [0, 15] },
  hartmann6: Object.fromEntries([0, 1, 2, 3, 4, 5].map((i) => [`x${i}`, [0, 1]])) as Record<string, [number, number]>,
  noisy2: { x0: [0, 1], x1: [0, 1], x2: [0, 1] },
};

/** A normal draw from a seeded generator (mulberry32 + Box-Muller), so a noisy target is reproducible. */
function normalSource(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Checks applied parameters: every expected name, a finite number within range. Returns problems by name. */
export function paramProblems(fn: TargetFunction, params: unknown): string[] {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) return ['params: expected an object'];
  const p = params as Record<string, unknown>;
  const out: string[] = [];
  for (const [name, [lo, hi]] of Object.entries(SPACES[fn])) {
    const v = p[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) out.push(`params.${name}: expected a number`);
    else if (v < lo || v > hi) out.push(`params.${name}: must be within [${lo}, ${hi}]`);
  }
  return out;
}

/** The target's reading for checked parameters. */
export function evaluate(fn: TargetFunction, p: Record<string, number>, noise: () => number, noiseSd: number): TargetReading {
  const [first, [lo, hi]] = Object.entries(SPACES[fn])[0]!;
  const load = (100 * (p[first]! - lo)) / (hi - lo);
  if (fn === 'branin') return { objectives: [branin(p.x1!, p.x2!)], load };
  if (fn === 'hartmann6') return { objectives: [hartmann6([0, 1, 2, 3, 4, 5].map((i) => p[`x${i}`]!))], load };
  const [f1, f2] = zdt1([p.x0!, p.x1!, p.x2!]);
  return { objectives: [f1 + noiseSd * noise(), f2 + noiseSd * noise()], load };
}

/** Options of the simulated target. */
export interface TargetOptions {
  fn: TargetFunction;
  port?: number;
  host?: string;
  /** Standard deviation of the noise added to each objective of noisy2. */
  noise?: number;
  seed?: number;
  /** When set, POST /apply needs `Authorization: Bearer <token>` (to try breeder credentials). */
  token?: string;
}

/** Starts the target; resolves with its URL and a stop function. */
export function startTarget(o: TargetOptions): { url: string; stop(): Promise<void> } {
  const noise = normalSource(o.seed ?? 1);
  let applies = 0;
  let current: { params: Record<string, number>; reading: TargetReading } | null = null;
  const snapshot = () => {
    // Noise is drawn per reading, so repeated samples of one trial differ as a real system's would.
    const reading = current && o.fn === 'noisy2' ? evaluate(o.fn, current.params, noise, o.noise ?? 0.01) : current?.reading;
    return { function: o.fn, applies, params: current?.params ?? null, value: reading?.objectives[0] ?? null, objectives: reading?.objectives ?? null, load: reading?.load ?? null };
  };
  const server = Bun.serve({
    port: o.port ?? 0,
    hostname: o.host ?? '127.0.0.1',
    async fetch(req) {
      const path = new URL(req.url).pathname;
      if (req.method === 'POST' && path === '/apply') {
        if (o.token !== undefined && req.headers.get('authorization') !== `Bearer ${o.token}`) return Response.json({ error: 'unauthorized' }, { status: 401 });
        let body: unknown;
        try {
          body = await req.json();
        } catch {
          return Response.json({ error: 'the body is not JSON' }, { status: 400 });
        }
        const params = body && typeof body === 'object' && 'params' in body ? (body as { params: unknown }).params : body;
        const problems = paramProblems(o.fn, params);
        if (problems.length) return Response.json({ error: 'bad parameters', problems }, { status: 400 });
        const p = params as Record<string, number>;
        applies++;
        current = { params: p, reading: evaluate(o.fn, p, noise, 0) };
        return Response.json({ applied: applies });
      }
      if (req.method === 'GET' && (path === '/metrics.json' || path === '/stats')) return Response.json(snapshot());
      if (req.method === 'GET' && path === '/metrics') {
        const s = snapshot();
        const lines = ['# HELP target_applies_total Parameter sets applied', '# TYPE target_applies_total counter', `target_applies_total ${s.applies}`];
        if (s.objectives) {
          lines.push('# HELP target_objective Benchmark function value per objective', '# TYPE target_objective gauge');
          s.objectives.forEach((v, i) => lines.push(`target_objective{index="${i}"} ${v}`));
          lines.push('# HELP target_load Simulated load in percent', '# TYPE target_load gauge', `target_load ${s.load}`);
        }
        return new Response(lines.join('\n') + '\n', { headers: { 'content-type': 'text/plain; version=0.0.4' } });
      }
      return Response.json({ error: 'not found' }, { status: 404 });
    },
  });
  return { url: `http://${server.hostname}:${server.port}`, stop: () => server.stop(true) };
}
