import { describe, expect, it } from 'vitest';
import { newId } from '../../src/kernel/ids.ts';

describe('newId', () => {
  it('is a UUID v7 with the RFC 4122 variant, unique, and sorts by creation time', async () => {
    const a = newId();
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(a.replace(/-/g, '').slice(0, 12), 16)).toBeLessThanOrEqual(Date.now());
    await new Promise((r) => setTimeout(r, 3));
    const b = newId();
    expect(b > a).toBe(true);
    expect(new Set(Array.from({ length: 10_000 }, newId)).size).toBe(10_000);
  });
});
