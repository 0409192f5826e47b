/**
 * The one check that a run's values can be stored, made by both adapters on every write: the HTTP edge refuses bad
 * input itself (naming request fields), but steps, http answers, connectors and schedules reach the store directly.
 */
import { assertStorable } from '../../../kernel/index.ts';

/** Invalid naming the field (`object.a.b`, `reason`) when PostgreSQL could not store one of these values. */
export function assertRunStorable(values: { foreignId?: string; object?: unknown; statusDescription?: string | null; reason?: string | null }): void {
  for (const [field, value] of Object.entries(values)) if (value !== undefined && value !== null) assertStorable(value, field);
}
