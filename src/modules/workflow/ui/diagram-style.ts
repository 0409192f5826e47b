/** Colours of the workflow diagrams: the run's path and current status, step states, and the legend's chips. */
import { GRAPH_STYLE } from '../../../kernel/index.ts';

/** The kernel's graph styles plus the workflow's classes (same palette as the run-state chips). */
export const DIAGRAM_STYLE = `${GRAPH_STYLE}
.wf-diagram { display:grid; gap:8px; }
.graph-node.wf-status.visited rect { stroke:#2554c7; }
.graph-node.start.visited circle { fill:#2554c7; stroke:#2554c7; }
.graph-edge.taken path.line { stroke:#2554c7; stroke-width:2.5; }
.graph-edge.taken path.arrow { fill:#2554c7; }
.graph-edge.taken .graph-label text { fill:#2554c7; font-weight:600; }
.graph-node.current rect { stroke-width:3; }
.graph-node.current text { font-weight:700; }
.graph-node.current.run-initiated rect, .graph-node.current.run-running rect { fill:#e8eefc; stroke:#2554c7; }
.graph-node.current.run-paused rect { fill:#fff3dc; stroke:#8a5300; }
.graph-node.current.run-completed rect { fill:#e3f4ea; stroke:#1a7f4b; }
.graph-node.current.run-cancelled rect { fill:#fdeceb; stroke:#b42318; }
.graph-node.current.run-dataDeleted rect, .graph-node.current.run-requestedDataDeleted rect { fill:#eef1f5; stroke:#5b6578; }
.graph-node.wf-step.conditional rect { stroke-dasharray:6 3; }
.graph-node.step-pending rect { fill:#fff; stroke:#cbd5e1; }
.graph-node.step-pending text { fill:#5b6578; }
.graph-node.step-running rect { fill:#e8eefc; stroke:#2554c7; stroke-width:2.5; animation: wf-pulse 1.4s ease-in-out infinite; }
.graph-node.step-done rect { fill:#e3f4ea; stroke:#1a7f4b; }
.graph-node.step-failed rect { fill:#fdeceb; stroke:#b42318; stroke-width:2.5; }
.graph-node.step-skipped rect { fill:#f1f5f9; stroke:#94a3b8; stroke-dasharray:2 3; }
.graph-node.step-skipped text { fill:#94a3b8; }
@keyframes wf-pulse { 50% { stroke-opacity:.3; } }
@media (prefers-reduced-motion: reduce) { .graph-node.step-running rect { animation:none; } }
.wf-legend { display:flex; flex-wrap:wrap; gap:6px 12px; align-items:center; font-size:12px; color:var(--muted); }
.wf-legend .chip { display:inline-block; width:14px; height:10px; border-radius:3px; border:1.5px solid #94a3b8; background:#fff; vertical-align:-1px; margin-right:4px; }
.wf-legend .chip.current { background:#e8eefc; border:2.5px solid #2554c7; }
.wf-legend .chip.path { border:0; border-top:2.5px solid #2554c7; border-radius:0; height:0; width:18px; vertical-align:3px; }
.wf-legend .chip.back { border:0; border-top:1.5px dashed #94a3b8; border-radius:0; height:0; width:18px; vertical-align:3px; }
.wf-legend .chip.step-running { background:#e8eefc; border-color:#2554c7; }
.wf-legend .chip.step-done { background:#e3f4ea; border-color:#1a7f4b; }
.wf-legend .chip.step-failed { background:#fdeceb; border-color:#b42318; }
.wf-legend .chip.step-skipped { background:#f1f5f9; border-style:dotted; }
.wf-legend .chip.step-pending { border-color:#cbd5e1; }
details.wf-source summary { cursor:pointer; color:var(--muted); font-size:12px; }
details.wf-source pre { margin-top:6px; }
`;
