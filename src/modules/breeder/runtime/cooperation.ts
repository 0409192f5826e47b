/**
 * Cooperation: breeders of one group feed each other's trials to their samplers. The sharer's rule picks what it
 * shares (all, its best or extreme fraction by its own objective direction, or each trial with a probability,
 * decided by a hash so every worker and restart agrees); the receiver maps values by objective name, so two
 * definitions over the same parameter names can cooperate even when their objectives differ in order.
 */
import { fnv1a } from '../../../kernel/index.ts';
import type { Definition } from '../model/definition.ts';
import type { TrialRecord } from '../samplers/index.ts';
import type { TrialRow } from '../store/index.ts';

/** The share rule's default fractions. */
const DEFAULT_TOP = 0.2;
const DEFAULT_PROBABILITY = 0.5;

/** The sharer's trials its rule shares (complete trials ranked by its first objective in its direction; failures only with `all`). */
export function selectShared(sharer: Definition, trials: readonly TrialRow[]): TrialRow[] {
  const rule = sharer.cooperation;
  if (!rule) return [];
  const complete = trials.filter((t) => t.state === 'complete' && typeof t.values?.[0] === 'number');
  if (rule.share === 'all') return trials.filter((t) => t.state === 'complete' || t.state === 'fail');
  if (rule.share === 'probabilistic') {
    const p = rule.probability ?? DEFAULT_PROBABILITY;
    return complete.filter((t) => fnv1a(`${t.breederId}/${t.number}`) / 2 ** 32 < p);
  }
  const sign = sharer.objectives[0]!.direction === 'minimize' ? 1 : -1;
  const ranked = [...complete].sort((a, b) => sign * (a.values![0]! - b.values![0]!) || a.number - b.number);
  const k = Math.max(1, Math.ceil((rule.top ?? DEFAULT_TOP) * ranked.length));
  const picked = rule.share === 'best' ? ranked.slice(0, k) : [...ranked.slice(0, k), ...ranked.slice(Math.max(k, ranked.length - k))];
  const keep = new Set(picked);
  return complete.filter((t) => keep.has(t));
}

/** A sharer's trial as the receiver's sampler sees it; null when the sharer lacks one of the receiver's objectives. */
export function asReceived(receiver: Definition, sharer: Definition, t: TrialRow): TrialRecord | null {
  if (t.state === 'fail') return { params: t.params, values: null, state: 'fail', constraints: null };
  const values: number[] = [];
  for (const o of receiver.objectives) {
    const i = sharer.objectives.findIndex((s) => s.name === o.name);
    const v = i < 0 ? undefined : t.values?.[i];
    if (typeof v !== 'number') return null;
    values.push(v);
  }
  // Guardrails differ between definitions: the sharer's verdict (it was complete) is what travels.
  return { params: t.params, values, state: 'complete', constraints: null };
}

/** Every other group member's shared trials, as the receiver's sampler sees them, oldest member first. */
export function sharedHistory(receiver: Definition, members: readonly { definition: Definition; trials: readonly TrialRow[] }[]): TrialRecord[] {
  const out: TrialRecord[] = [];
  for (const m of members) {
    for (const t of selectShared(m.definition, m.trials)) {
      const r = asReceived(receiver, m.definition, t);
      if (r) out.push(r);
    }
  }
  return out;
}
