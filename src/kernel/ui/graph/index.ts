/** Layered graph drawing for console pages: layoutGraph places nodes and routes edges, GraphSvg draws the result. */
export { layoutGraph } from './layout.ts';
export { GraphSvg, GRAPH_STYLE } from './svg.tsx';
export { textWidth, shorten, MAX_LABEL_CHARS } from './text.ts';
export type { GraphInput, GraphNodeInput, GraphEdgeInput, GraphLayout, PlacedNode, PlacedEdge, Point, Box, NodeShape } from './types.ts';
