/**
 * Layer assignment: break cycles by reversing the back edges a depth-first search finds (from the sources first,
 * in input order, so a state machine's start stays on top and its retry loops point back up), then rank every
 * node by the longest path from a source, and pull sources down next to what they feed.
 */

/** An edge between node indices; loops (from === to) must be left out. */
export interface IndexEdge {
  from: number;
  to: number;
}

/** Indices of the edges that close a cycle, found by a depth-first search from the sources in input order. */
export function backEdges(nodeCount: number, edges: readonly IndexEdge[]): Set<number> {
  const out: number[][] = Array.from({ length: nodeCount }, () => []);
  const indegree = new Array<number>(nodeCount).fill(0);
  edges.forEach((e, i) => {
    out[e.from]!.push(i);
    indegree[e.to]!++;
  });
  const WHITE = 0;
  const GREY = 1;
  const BLACK = 2;
  const colour = new Array<number>(nodeCount).fill(WHITE);
  const back = new Set<number>();
  const roots = [...Array.from({ length: nodeCount }, (_, i) => i).filter((i) => indegree[i] === 0), ...Array.from({ length: nodeCount }, (_, i) => i)];
  for (const root of roots) {
    if (colour[root] !== WHITE) continue;
    // Iterative, so a long chain of steps cannot overflow the call stack.
    const stack: { node: number; next: number }[] = [{ node: root, next: 0 }];
    colour[root] = GREY;
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const edgeIndex = out[top.node]![top.next++];
      if (edgeIndex === undefined) {
        colour[top.node] = BLACK;
        stack.pop();
        continue;
      }
      const to = edges[edgeIndex]!.to;
      if (colour[to] === GREY) back.add(edgeIndex);
      else if (colour[to] === WHITE) {
        colour[to] = GREY;
        stack.push({ node: to, next: 0 });
      }
    }
  }
  return back;
}

/**
 * Ranks of an acyclic graph: each edge spans at least `minLen` ranks; a source sits `minLen` above its nearest
 * successor rather than at the top. Ranks start at 0 and stay multiples of `minLen`.
 */
export function longestPathRanks(nodeCount: number, edges: readonly IndexEdge[], minLen: number): number[] {
  const out: number[][] = Array.from({ length: nodeCount }, () => []);
  const indegree = new Array<number>(nodeCount).fill(0);
  for (const e of edges) {
    out[e.from]!.push(e.to);
    indegree[e.to]!++;
  }
  const rank = new Array<number>(nodeCount).fill(0);
  const pending = [...indegree];
  const topo: number[] = [];
  const queue = Array.from({ length: nodeCount }, (_, i) => i).filter((i) => pending[i] === 0);
  for (let head = 0; head < queue.length; head++) {
    const u = queue[head]!;
    topo.push(u);
    for (const v of out[u]!) {
      rank[v] = Math.max(rank[v]!, rank[u]! + minLen);
      if (--pending[v]! === 0) queue.push(v);
    }
  }
  if (topo.length !== nodeCount) throw new Error('longestPathRanks: the graph has a cycle');
  for (let i = topo.length - 1; i >= 0; i--) {
    const u = topo[i]!;
    if (indegree[u] === 0 && out[u]!.length > 0) rank[u] = Math.min(...out[u]!.map((v) => rank[v]!)) - minLen;
  }
  // Pulling sources down may empty the top rank.
  const lowest = nodeCount === 0 ? 0 : Math.min(...rank);
  return rank.map((r) => r - lowest);
}
