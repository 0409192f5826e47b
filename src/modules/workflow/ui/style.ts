/** The workflow pages' own styles, on top of the kernel frame's (same colours, through its CSS variables). */
export const WORKFLOW_STYLE = `
.wf-bar { display:flex; flex-wrap:wrap; align-items:center; gap:8px; }
.wf-count { display:inline-flex; gap:6px; align-items:baseline; padding:4px 12px; border:1px solid var(--line); border-radius:999px; color:var(--fg); text-decoration:none; background:#fff; }
.wf-count b { font-size:16px; }
.wf-count:hover, .wf-count.active { border-color:var(--accent); background:#e8eefc; }
.wf-count.zero { color:var(--muted); }
.wf-filters { display:flex; flex-wrap:wrap; gap:10px; align-items:end; margin:12px 0 0; }
.wf-filters label { display:grid; gap:2px; font-size:12px; color:var(--muted); }
.wf-filters a { padding:6px 2px; }
select { font:inherit; padding:6px 10px; border:1px solid var(--line); border-radius:6px; background:#fff; }
.state { display:inline-block; padding:1px 9px; border-radius:999px; font-size:12px; font-weight:600; background:#eef1f5; color:var(--muted); }
.state-running { background:#e8eefc; color:var(--accent); }
.state-paused { background:#fff3dc; color:#8a5300; }
.state-completed { background:#e3f4ea; color:var(--ok); }
.state-cancelled { background:#fdeceb; color:var(--bad); }
tr.fresh td { animation: wf-flash 1.6s ease-out; }
@keyframes wf-flash { from { background:#fff6c2; } to { background:transparent; } }
.wf-pager { display:flex; gap:14px; margin-top:10px; }
.wf-head { display:flex; align-items:baseline; gap:12px; margin:0 0 10px; }
.wf-head h2 { margin:0; }
dl.wf-facts { display:grid; grid-template-columns:max-content 1fr; gap:4px 14px; margin:0 0 14px; }
dl.wf-facts dt { color:var(--muted); font-size:12px; text-transform:uppercase; padding-top:2px; }
dl.wf-facts dd { margin:0; }
.wf-controls { display:flex; gap:8px; align-items:center; flex-wrap:wrap; }
button:disabled { opacity:.4; cursor:not-allowed; }
button.danger { background:var(--bad); border-color:var(--bad); }
button.quiet { background:#fff; color:var(--fg); border-color:var(--line); }
pre.code { margin:0; background:#0f172a; color:#e2e8f0; padding:12px 14px; border-radius:6px; overflow:auto; max-height:520px; font:12px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; }
ol.timeline { list-style:none; margin:0; padding:0 0 0 18px; border-left:2px solid var(--line); }
ol.timeline li { position:relative; padding:0 0 12px 10px; }
ol.timeline li::before { content:''; position:absolute; left:-25px; top:5px; width:10px; height:10px; border-radius:50%; background:#fff; border:2px solid var(--accent); }
ol.timeline li:last-child::before { background:var(--accent); }
ol.timeline .when { color:var(--muted); font-size:12px; }
.wf-tabs, .wf-wide { grid-column:1 / -1; }
.wf-tabs { display:flex; gap:4px; margin:-6px 0 -4px; }
.wf-tabs a { padding:5px 12px; border-radius:6px; color:var(--fg); text-decoration:none; border:1px solid transparent; }
.wf-tabs a.active { background:#fff; border-color:var(--line); color:var(--accent); font-weight:600; }
.wf-tabs a:hover { color:var(--accent); }
.wf-wide { margin:0; }
ol.timeline .what { display:flex; gap:8px; align-items:baseline; flex-wrap:wrap; }
`;
