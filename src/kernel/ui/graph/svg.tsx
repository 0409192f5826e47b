/** @jsxImportSource hono/jsx */
/**
 * Draws a GraphLayout as inline SVG with hono/jsx. Every piece of text (labels, ids, tooltips) goes through JSX
 * text or attribute escaping, never through raw markup, so names given by users cannot inject SVG or HTML.
 * Colours come from GRAPH_STYLE's classes; modules add classes to nodes and edges (e.g. `current`) and style them.
 */
import type { GraphLayout, PlacedEdge, PlacedNode } from './types.ts';

/** The base stylesheet of drawn graphs; a page includes it once (modules add rules for their own classes). */
export const GRAPH_STYLE = `
.graph-wrap { overflow:auto; max-width:100%; }
svg.graph { display:block; font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; }
.graph-node rect, .graph-node circle { fill:#fff; stroke:#94a3b8; stroke-width:1.5; }
.graph-node .inner { fill:none; }
.graph-node.dot circle { fill:#334155; stroke:#334155; }
.graph-node text { fill:#1d2433; font-size:12px; }
.graph-node text.sub { fill:#5b6578; font-size:11px; }
.graph-edge path.line { fill:none; stroke:#94a3b8; stroke-width:1.5; }
.graph-edge path.arrow { fill:#94a3b8; stroke:none; }
.graph-edge.back path.line { stroke-dasharray:5 3; }
.graph-label rect { fill:#fff; stroke:none; opacity:.92; }
.graph-label text { fill:#5b6578; font-size:11px; }
`;

const r1 = (n: number) => Math.round(n * 10) / 10;

/** One node: a box, a double box or a dot, with its label(s) and a tooltip. */
function Node(props: { n: PlacedNode }) {
  const n = props.n;
  const left = r1(n.x - n.width / 2);
  const top = r1(n.y - n.height / 2);
  const cls = ['graph-node', n.shape, n.className].filter(Boolean).join(' ');
  return (
    <g class={cls} data-node={n.id}>
      <title>{n.title}</title>
      {n.shape === 'dot' ? (
        <circle cx={r1(n.x)} cy={r1(n.y)} r={r1(n.width / 2)} />
      ) : (
        <rect x={left} y={top} width={r1(n.width)} height={r1(n.height)} rx="8" />
      )}
      {n.shape === 'double' ? <rect class="inner" x={left + 3} y={top + 3} width={r1(n.width - 6)} height={r1(n.height - 6)} rx="6" /> : null}
      {n.shape === 'dot' ? null : (
        <text x={r1(n.x)} y={r1(n.sublabel ? n.y - 7 : n.y)} text-anchor="middle" dominant-baseline="central">
          {n.label}
        </text>
      )}
      {n.shape !== 'dot' && n.sublabel ? (
        <text class="sub" x={r1(n.x)} y={r1(n.y + 9)} text-anchor="middle" dominant-baseline="central">
          {n.sublabel}
        </text>
      ) : null}
    </g>
  );
}

/** One edge: its curve, arrowhead and label. */
function Edge(props: { e: PlacedEdge }) {
  const e = props.e;
  const cls = ['graph-edge', e.back ? 'back' : '', e.loop ? 'loop' : '', e.className].filter(Boolean).join(' ');
  const b = e.labelBox;
  return (
    <g class={cls} data-from={e.from} data-to={e.to}>
      {e.title ? <title>{e.title}</title> : null}
      <path class="line" d={e.path} />
      <path class="arrow" d={e.arrow} />
      {b && e.label ? (
        <g class="graph-label">
          <rect x={r1(b.x - b.width / 2)} y={r1(b.y - b.height / 2)} width={r1(b.width)} height={r1(b.height)} rx="3" />
          <text x={r1(b.x)} y={r1(b.y)} text-anchor="middle" dominant-baseline="central">
            {e.label}
          </text>
        </g>
      ) : null}
    </g>
  );
}

/** The picture as an `<svg>` element; `title` names it for screen readers. Edges are drawn under nodes. */
export function GraphSvg(props: { layout: GraphLayout; title: string; id?: string; class?: string }) {
  const l = props.layout;
  return (
    <svg
      xmlns="http://www.w3.org/2000/svg"
      class={['graph', props.class].filter(Boolean).join(' ')}
      id={props.id}
      width={l.width}
      height={l.height}
      viewBox={`0 0 ${l.width} ${l.height}`}
      role="img"
      aria-label={props.title}
      data-direction={l.direction}
    >
      <title>{props.title}</title>
      <g class="graph-edges">
        {l.edges.map((e) => (
          <Edge e={e} />
        ))}
      </g>
      <g class="graph-nodes">
        {l.nodes.map((n) => (
          <Node n={n} />
        ))}
      </g>
    </svg>
  );
}
