/** HistogramChild writes into prom-client's own series: /metrics must read exactly as if prom-client had observed. */
import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HistogramChild } from '../../src/kernel/http/histogram-child.ts';

function pair() {
  const make = () => {
    const registry = new Registry();
    const h = new Histogram({ name: 'http_request_duration_seconds', help: 'h', labelNames: ['method', 'route', 'status'], buckets: [0.001, 0.01, 0.1, 1], registers: [registry] });
    return { registry, h };
  };
  return { fast: make(), plain: make() };
}

// Values on, between and beyond the bounds, and the same series observed many times.
const values = [0, 0.0005, 0.001, 0.0011, 0.01, 0.05, 0.1, 0.99, 1, 1.5, 42];

describe('HistogramChild', () => {
  it('exports the same text as prom-client observe, for several series', async () => {
    const { fast, plain } = pair();
    const labels = [
      { method: 'GET', route: '/healthz', status: '200' },
      { method: 'POST', route: '/api/v1/x', status: '400' },
    ];
    const children = labels.map((l) => new HistogramChild(fast.h, l));
    for (let round = 0; round < 3; round++) {
      for (const v of values) {
        labels.forEach((l, i) => {
          children[i]!.observe(v);
          plain.h.observe(l, v);
        });
      }
    }
    const text = await fast.registry.metrics();
    expect(text).toBe(await plain.registry.metrics());
    expect(text).toContain('http_request_duration_seconds_count{method="GET",route="/healthz",status="200"} 33');
    expect(text).toContain('http_request_duration_seconds_bucket{le="0.001",method="GET",route="/healthz",status="200"} 9');
  });

  it('keeps counting after the histogram is reset or the series removed', async () => {
    const { fast, plain } = pair();
    const l = { method: 'GET', route: '/r', status: '200' };
    const child = new HistogramChild(fast.h, l);
    const both = (v: number) => {
      child.observe(v);
      plain.h.observe(l, v);
    };
    both(0.002);
    both(0.2);
    fast.h.reset();
    plain.h.reset();
    both(0.003);
    fast.h.remove('GET', '/r', '200');
    plain.h.remove('GET', '/r', '200');
    both(0.004);
    both(5);
    const text = await fast.registry.metrics();
    expect(text).toBe(await plain.registry.metrics());
    expect(text).toContain('http_request_duration_seconds_count{method="GET",route="/r",status="200"} 2');
  });

  it('refuses a value prom-client refuses', () => {
    const { fast } = pair();
    const child = new HistogramChild(fast.h, { method: 'GET', route: '/r', status: '200' });
    child.observe(0.1);
    expect(() => child.observe(Number.NaN)).toThrow(/not a valid number/);
  });
});
