/** An http effectuation through a stored target: the target's URL plus the rendered path, never another origin. */
import { describe, expect, it } from 'vitest';
import { targetUrl } from '../../../../src/modules/breeder/runtime/effectuate.ts';

describe('targetUrl', () => {
  it('appends the path to the target URL (one slash between them)', () => {
    expect(targetUrl({ url: 'http://127.0.0.1:8080' }, '/apply')).toBe('http://127.0.0.1:8080/apply');
    expect(targetUrl({ url: 'http://127.0.0.1:8080/base/' }, '/apply?trial=3')).toBe('http://127.0.0.1:8080/base/apply?trial=3');
    expect(targetUrl({ url: 'https://tuner.example' }, '')).toBe('https://tuner.example');
  });

  it('refuses a rendered path that would change the host (a parameter value cannot pick it)', () => {
    expect(() => targetUrl({ url: 'http://127.0.0.1:8080' }, '@evil.example/apply')).toThrow(/leaves the target's origin/);
    expect(() => targetUrl({ url: 'http://tuner.example' }, '.evil.example/apply')).toThrow(/leaves the target's origin/);
  });
});
