/** @jsxImportSource hono/jsx */
/**
 * A small inline SVG chart (no script, no external asset): points, an optional line, axis labels at the data
 * ranges' ends. Marked points are filled, infeasible ones hollow; each point has a title naming its trial.
 */
import type { PlotData } from './plot-data.ts';

const W = 560;
const H = 260;
const PAD = { left: 64, right: 12, top: 10, bottom: 34 };

/** Maps data units to pixels. */
function scaler(data: PlotData) {
  const [x0, x1] = data.xRange;
  const [y0, y1] = data.yRange;
  return {
    x: (v: number) => PAD.left + ((v - x0) / (x1 - x0)) * (W - PAD.left - PAD.right),
    y: (v: number) => H - PAD.bottom - ((v - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom),
  };
}

/** Short numeric label. */
export function tick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

/** The chart; `label` names the figure for assistive technology, `xLabel` and `yLabel` the axes. */
export function Chart(props: { data: PlotData; label: string; xLabel: string; yLabel: string; pointTitle: (p: PlotData['points'][number]) => string }) {
  const { data } = props;
  const s = scaler(data);
  const line = data.line.map((p) => `${s.x(p.x).toFixed(1)},${s.y(p.y).toFixed(1)}`).join(' ');
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={props.label}>
      <line x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} stroke="#9aa3b2" />
      <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={H - PAD.bottom} stroke="#9aa3b2" />
      <text x={PAD.left} y={H - 18} font-size="11" fill="#5b6578">{tick(data.xRange[0])}</text>
      <text x={W - PAD.right} y={H - 18} font-size="11" fill="#5b6578" text-anchor="end">{tick(data.xRange[1])}</text>
      <text x={(W + PAD.left) / 2} y={H - 4} font-size="11" fill="#5b6578" text-anchor="middle">{props.xLabel}</text>
      <text x={PAD.left - 6} y={H - PAD.bottom} font-size="11" fill="#5b6578" text-anchor="end">{tick(data.yRange[0])}</text>
      <text x={PAD.left - 6} y={PAD.top + 10} font-size="11" fill="#5b6578" text-anchor="end">{tick(data.yRange[1])}</text>
      <text x={12} y={(H - PAD.bottom + PAD.top) / 2} font-size="11" fill="#5b6578" transform={`rotate(-90 12 ${(H - PAD.bottom + PAD.top) / 2})`} text-anchor="middle">{props.yLabel}</text>
      {line ? <polyline class="best-line" points={line} fill="none" stroke="#1a7f4b" stroke-width="1.5" /> : null}
      {data.points.map((p) => (
        <circle
          class={p.marked ? 'point marked' : 'point'}
          data-trial={String(p.number)}
          cx={s.x(p.x).toFixed(1)}
          cy={s.y(p.y).toFixed(1)}
          r={p.marked ? 4 : 3}
          fill={p.feasible ? (p.marked ? '#1a7f4b' : '#2554c7') : 'none'}
          stroke={p.feasible ? 'none' : '#b42318'}
        >
          <title>{props.pointTitle(p)}</title>
        </circle>
      ))}
    </svg>
  );
}
