/** The shapes of the layered-graph layout: what a caller hands in, and the placed boxes and paths it gets back. */

/** How a node is drawn: a rounded box, a small filled dot (a start marker), or a box with a second outline (a final state). */
export type NodeShape = 'box' | 'dot' | 'double';

/** A node to draw. `id` is any string (user input is fine: it is only ever written as escaped text). */
export interface GraphNodeInput {
  id: string;
  /** Main text; long text is shortened on the picture and kept whole in the node's tooltip. */
  label: string;
  /** A smaller second line. */
  sublabel?: string;
  /** Extra tooltip text, after the label. */
  title?: string;
  /** CSS classes (space-separated words of letters, digits, '_' and '-'; anything else is dropped). */
  className?: string;
  shape?: NodeShape;
}

/** An edge to draw, from one node id to another (the same id for a loop). */
export interface GraphEdgeInput {
  from: string;
  to: string;
  label?: string;
  className?: string;
}

/** The whole picture: top-to-bottom (default) or left-to-right. */
export interface GraphInput {
  nodes: GraphNodeInput[];
  edges: GraphEdgeInput[];
  direction?: 'TB' | 'LR';
}

/** A point in picture coordinates. */
export interface Point {
  x: number;
  y: number;
}

/** A box by its centre. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A placed node: its centre, size and layer (rank 0 at the top or left). */
export interface PlacedNode extends Box {
  id: string;
  /** The label as drawn (shortened when too long). */
  label: string;
  sublabel?: string;
  /** Full text for the tooltip. */
  title: string;
  className: string;
  shape: NodeShape;
  rank: number;
}

/** A drawn edge: an SVG path, its arrowhead polygon and, when labelled, the label's box. */
export interface PlacedEdge {
  from: string;
  to: string;
  label?: string;
  /** Full label text for the tooltip (label may be shortened). */
  title?: string;
  labelBox?: Box;
  className: string;
  /** Drawn against the flow (it closes a cycle); routed through its own channel and styled apart. */
  back: boolean;
  /** from === to. */
  loop: boolean;
  /** The points the path passes through, from `from` to `to`. */
  points: Point[];
  /** SVG path data (smooth curves through `points`). */
  path: string;
  /** SVG path data of the arrowhead at `to`. */
  arrow: string;
}

/** The result: everything placed inside a width x height picture. */
export interface GraphLayout {
  width: number;
  height: number;
  direction: 'TB' | 'LR';
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}
