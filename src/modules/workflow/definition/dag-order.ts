/** Graph algorithms on DAG steps: cycles (named step by step), ancestors, topological order and stages. */

/** `needs` of each step, already restricted to existing step ids. */
export type NeedsMap = ReadonlyMap<string, readonly string[]>;

/**
 * Every cycle among the steps, one per strongly connected component with more than one step, as the list of
 * steps along one concrete loop (each needs the next; the first is repeated at the end). Self-needs are not
 * reported here (the caller names them at the offending `needs` entry).
 */
export function findCycles(ids: readonly string[], needs: NeedsMap): string[][] {
  // Tarjan's algorithm, iterative so that a long chain of steps cannot overflow the stack.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const root of ids) {
    if (index.has(root)) continue;
    const work: { id: string; next: number }[] = [{ id: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const deps = needs.get(frame.id) ?? [];
      if (frame.next < deps.length) {
        const d = deps[frame.next++]!;
        if (!index.has(d)) {
          index.set(d, counter);
          low.set(d, counter++);
          stack.push(d);
          onStack.add(d);
          work.push({ id: d, next: 0 });
        } else if (onStack.has(d)) {
          low.set(frame.id, Math.min(low.get(frame.id)!, index.get(d)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
      if (low.get(frame.id) === index.get(frame.id)) {
        const comp: string[] = [];
        let x: string;
        do {
          x = stack.pop()!;
          onStack.delete(x);
          comp.push(x);
        } while (x !== frame.id);
        if (comp.length > 1) components.push(comp);
      }
    }
  }
  const order = new Map(ids.map((id, i) => [id, i]));
  return components
    .map((comp) => loopThrough(comp.sort((a, b) => order.get(a)! - order.get(b)!), needs))
    .sort((a, b) => order.get(a[0]!)! - order.get(b[0]!)!);
}

/** A shortest loop from the first step of a component back to itself, staying inside the component. */
function loopThrough(comp: string[], needs: NeedsMap): string[] {
  const inside = new Set(comp);
  const start = comp[0]!;
  const prev = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const cur = queue[i]!;
    for (const d of needs.get(cur) ?? []) {
      if (!inside.has(d)) continue;
      if (d === start) {
        const path = [cur];
        while (path[0] !== start) path.unshift(prev.get(path[0]!)!);
        return [...path, start];
      }
      if (!prev.has(d)) {
        prev.set(d, cur);
        queue.push(d);
      }
    }
  }
  return [...comp, start]; // unreachable for a real component; keeps the message useful anyway
}

/** All steps `id` needs directly or indirectly (works on cyclic input too; `id` itself only if on a cycle). */
export function ancestorsOf(id: string, needs: NeedsMap): Set<string> {
  const seen = new Set<string>();
  const queue = [...(needs.get(id) ?? [])];
  while (queue.length > 0) {
    const d = queue.pop()!;
    if (seen.has(d)) continue;
    seen.add(d);
    queue.push(...(needs.get(d) ?? []));
  }
  return seen;
}

/**
 * Topological order (Kahn; ties keep definition order) and stages: a step's stage is one more than the latest
 * stage among its needs, so every need of a step finishes in an earlier stage. Requires an acyclic input.
 */
export function topoStages(ids: readonly string[], needs: NeedsMap): { order: string[]; stages: string[][] } {
  const stageOf = new Map<string, number>();
  const remaining = new Map(ids.map((id) => [id, new Set(needs.get(id) ?? [])]));
  const dependents = new Map<string, string[]>();
  for (const id of ids) for (const d of needs.get(id) ?? []) dependents.set(d, [...(dependents.get(d) ?? []), id]);
  const order: string[] = [];
  let ready = ids.filter((id) => remaining.get(id)!.size === 0);
  const position = new Map(ids.map((id, i) => [id, i]));
  while (ready.length > 0) {
    const next: string[] = [];
    for (const id of ready) {
      order.push(id);
      stageOf.set(id, Math.max(0, ...(needs.get(id) ?? []).map((d) => stageOf.get(d)! + 1)));
      for (const dep of dependents.get(id) ?? []) {
        const left = remaining.get(dep)!;
        left.delete(id);
        if (left.size === 0) next.push(dep);
      }
    }
    ready = next.sort((a, b) => position.get(a)! - position.get(b)!);
  }
  if (order.length !== ids.length) throw new Error('topoStages needs an acyclic graph');
  const stages: string[][] = [];
  for (const id of ids) {
    const s = stageOf.get(id)!;
    (stages[s] ??= []).push(id);
  }
  return { order, stages };
}
