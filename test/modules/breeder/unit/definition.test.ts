/** Breeder definitions: a full one parses with defaults; every kind of mistake is refused naming its field. */
import { describe, expect, it } from 'vitest';
import { Invalid } from '../../../../src/kernel/index.ts';
import { parseDefinition } from '../../../../src/modules/breeder/model/definition.ts';

const good = {
  name: 'tcp-tuning',
  space: { x1: { type: 'float', low: -5, high: 10 }, congestion: { type: 'categorical', choices: ['cubic', 'bbr'] } },
  objectives: [{ name: 'latency', direction: 'minimize', quality_threshold: 1, source: { http: { url: 'http://127.0.0.1:8080/stats', path: '$.a.b[0]' } }, samples: 3, interval: '10ms', aggregate: 'median', until_cv: 0.05 }],
  guardrails: [{ name: 'cpu', max: 90, source: { prometheus: { url: 'http://127.0.0.1:9090', query: 'up' } } }],
  effectuation: { http: { url: 'http://127.0.0.1:8080/apply', body: { p: '{{ params }}', n: '{{ trial.number }}' } } },
  run: { max_trials: 20 },
  algorithm: { sampler: 'random', seed: 3 },
};

function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    parseDefinition(input);
  } catch (err) {
    expect(err).toBeInstanceOf(Invalid);
    return (err as Invalid).issues;
  }
  throw new Error('expected Invalid');
}

describe('breeder definition', () => {
  it('parses a full definition and fills in defaults', () => {
    const d = parseDefinition(good);
    expect(d.run).toEqual({ workers: 1, max_trials: 20, stop_when_quality_achieved: false });
    expect(d.objectives[0]!.settle).toBe('0s');
    expect(d.guardrails[0]!.samples).toBe(1);
    expect(d.effectuation.http!.method).toBe('POST');
    expect(d.observations).toEqual([]);
    expect(parseDefinition({ ...good, algorithm: undefined }).algorithm.sampler).toBe('tpe');
  });

  it('accepts a grid whose large int range is given fewer points', () => {
    const d = parseDefinition({ ...good, space: { n: { type: 'int', low: 0, high: 2_000_000_000 } }, algorithm: { sampler: 'grid', options: { points: { n: 50 } } } });
    expect(d.algorithm.sampler).toBe('grid');
  });

  it('accepts names that only resemble an id', () => {
    for (const name of ['0193a5f2-7c1d-7e4b-9a01-23456789abc', 'g193a5f2-7c1d-7e4b-9a01-23456789abcd', '0193a5f27c1d7e4b9a0123456789abcd', 'tcp-tuning-2']) {
      expect(parseDefinition({ ...good, name }).name).toBe(name);
    }
  });

  it.each([
    [{ ...good, name: 'has space' }, 'name'],
    // A name of an id's shape would shadow that breeder in routes that take an id or a name.
    [{ ...good, name: '0193a5f2-7c1d-7e4b-9a01-23456789abcd' }, 'name'],
    [{ ...good, name: '0193A5F2-7C1D-7E4B-9A01-23456789ABCD' }, 'name'],
    [{ ...good, space: { x: { type: 'float', low: 2, high: 1 } } }, 'space.x.high'],
    [{ ...good, objectives: [] }, 'objectives'],
    [{ ...good, objectives: [{ ...good.objectives[0], direction: 'up' }] }, 'objectives.0.direction'],
    [{ ...good, objectives: [{ ...good.objectives[0], interval: '10 seconds' }] }, 'objectives.0.interval'],
    [{ ...good, objectives: [{ ...good.objectives[0], source: { http: { url: 'http://x/', path: 'a.b' } } }] }, 'objectives.0.source.http.path'],
    [{ ...good, objectives: [{ ...good.objectives[0], source: {} }] }, 'objectives.0.source'],
    [{ ...good, objectives: [{ ...good.objectives[0], source: { http: { url: 'file:///etc/passwd' } } }] }, 'objectives.0.source.http.url'],
    [{ ...good, guardrails: [{ name: 'cpu', source: good.guardrails[0]!.source }] }, 'guardrails.0'],
    [{ ...good, guardrails: [{ ...good.guardrails[0], name: 'latency' }] }, 'guardrails.0.name'],
    [{ ...good, effectuation: {} }, 'effectuation'],
    [{ ...good, effectuation: { http: { url: 'http://h/{{ secrets.x }}' } } }, 'effectuation.http.url'],
    [{ ...good, effectuation: { command: { argv: [] } } }, 'effectuation.command.argv'],
    [{ ...good, run: { max_trials: 0 } }, 'run.max_trials'],
    [{ ...good, algorithm: { sampler: 'tpe', options: { gamma: 'x' } } }, 'algorithm.options.gamma'],
    [{ ...good, surprise: 1 }, 'surprise'],
    // The sampler is built when the definition is checked: a grid float without a point count, or an axis so large
    // that building it would hold the worker for minutes, is refused at create time.
    [{ ...good, algorithm: { sampler: 'grid' } }, 'algorithm.options.points.x1'],
    [{ ...good, space: { n: { type: 'int', low: 0, high: 2_000_000_000 } }, algorithm: { sampler: 'grid' } }, 'algorithm.options.points.n'],
    [{ ...good, space: { n: { type: 'int', low: 0, high: 10 } }, algorithm: { sampler: 'grid', options: { points: { n: 10_001 } } } }, 'algorithm.options.points.n'],
    // Options that would only fail at run time: a good group whose minimum is above its maximum, or so many EI
    // candidates (or so large a population) that the worker runs out of memory.
    [{ ...good, algorithm: { sampler: 'tpe', options: { gamma_min: 30, gamma_max: 2 } } }, 'algorithm.options.gamma_min'],
    [{ ...good, algorithm: { sampler: 'tpe', options: { n_ei_candidates: 1e12 } } }, 'algorithm.options.n_ei_candidates'],
    [{ ...good, algorithm: { sampler: 'nsga2', options: { population_size: 1e9 } } }, 'algorithm.options.population_size'],
    // An http effectuation names a url or a stored target, not both; a path belongs to a target and starts with / or ?.
    [{ ...good, effectuation: { http: { method: 'POST' } } }, 'effectuation.http.url'],
    [{ ...good, effectuation: { http: { target: 'sim', url: 'http://h/apply' } } }, 'effectuation.http.url'],
    [{ ...good, effectuation: { http: { target: 'sim', credential: 'tok' } } }, 'effectuation.http.credential'],
    [{ ...good, effectuation: { http: { target: 'sim', path: 'apply' } } }, 'effectuation.http.path'],
    [{ ...good, effectuation: { http: { url: 'http://h/', path: '/apply' } } }, 'effectuation.http.path'],
    [{ ...good, effectuation: { http: { target: 'sim', path: '/apply/{{ secrets.x }}' } } }, 'effectuation.http.path'],
  ])('refuses %#, naming %s', (input, path) => {
    expect(issuesOf(input).map((i) => i.path)).toContain(path);
  });
});
