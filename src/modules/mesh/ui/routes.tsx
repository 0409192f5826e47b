/** @jsxImportSource hono/jsx */
/**
 * /ui/mesh: the nodes by site with their state, every workload's slots with holder, fencing token, replica state and
 * lease age, and the leader lease. Kept live by MESH_SCRIPT (mesh events over SSE). Mounted by the kernel console.
 */
import { Hono, type Context } from 'hono';
import type { Child } from 'hono/jsx';
import type { AppEnv } from '../../../kernel/index.ts';
import { replicaCount } from '../model/workload.ts';
import { EMBEDDED_WARNING, type MeshService, type NodeRow } from '../service.ts';
import { MESH_SCRIPT } from './live-script.ts';

const STATE_CLASS: Record<string, string> = { alive: 'ok', healthy: 'ok', dead: 'bad', failed: 'bad', unhealthy: 'bad', suspect: 'bad' };

/** Seconds, as the script keeps counting them (`data-age-ms`). */
function Age(props: { ms: number }) {
  return (
    <span class="mono" data-age-ms={String(Math.round(props.ms))}>
      {(props.ms / 1000).toFixed(1)} s
    </span>
  );
}

/** Builds the /ui/mesh router. */
export function meshUi(svc: MeshService): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/', async (c) => {
    const [nodes, workloads, leases] = await Promise.all([svc.nodes(), svc.list(), svc.leases()]);
    const lease = new Map(leases.map((l) => [l.lease, l]));
    const sites = new Map<string, NodeRow[]>();
    for (const n of [...nodes].sort((a, b) => a.id.localeCompare(b.id))) sites.set(n.site, [...(sites.get(n.site) ?? []), n]);
    const leader = lease.get('leader');
    return page(
      c,
      'Mesh',
      <main>
        <section class="wide" id="mesh">
          {svc.embedded ? <p class="bad">{EMBEDDED_WARNING}</p> : ''}
          <p id="leader">
            leader: {leader?.holder ? <b>{leader.holder}</b> : <span class="muted">none</span>}
            {leader ? <> · token <span class="mono">{leader.token}</span> · renewed <Age ms={leader.ageMs} /> ago</> : ''}
          </p>
          <h2>Nodes ({nodes.length})</h2>
          {nodes.length === 0 ? <p class="muted">No agent has joined. Start one: <code>NATS_URL=... capstan agent --node-id n1 --site a</code></p> : ''}
          {[...sites.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([site, rows]) => (
            <>
              <h3>site {site}</h3>
              <table class="nodes" data-site={site}>
                <thead>
                  <tr><th>node</th><th>state</th><th>control</th><th>capacity</th><th>labels</th><th>last beat</th></tr>
                </thead>
                <tbody>
                  {rows.map((n) => (
                    <tr data-node={n.id}>
                      <td class="mono">{n.id}</td>
                      <td data-field="state" class={STATE_CLASS[n.state] ?? ''}>{n.state}</td>
                      <td>{n.draining ? 'draining' : n.cordoned ? 'cordoned' : ''}</td>
                      <td>{n.capacity}</td>
                      <td class="mono">{Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(', ')}</td>
                      <td><Age ms={n.lastSeenMsAgo} /> ago</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          ))}
          <h2>Workloads ({workloads.length})</h2>
          <table id="workloads">
            <thead>
              <tr><th>workload</th><th>topology</th><th>consistency</th><th>desired</th><th>slot</th><th>holder</th><th>token</th><th>replica</th><th>lease age</th></tr>
            </thead>
            <tbody>
              {workloads.flatMap(({ workload: w, assignment, slots }) => {
                const n = replicaCount(w.spec.topology);
                return Array.from({ length: n }, (_, i) => {
                  const l = lease.get(`slot.${w.spec.name}.${i}`);
                  const s = slots.find((x) => x.slot === i);
                  const error = assignment?.error;
                  return (
                    <tr data-slot={`${w.spec.name}.${i}`}>
                      <td>{i === 0 ? <b>{w.spec.name}</b> : ''}</td>
                      <td>{i === 0 ? w.spec.topology.kind : ''}{i === 0 && error ? <div class="bad">{error}</div> : ''}</td>
                      <td>{i === 0 ? w.spec.consistency : ''}</td>
                      <td>{i === 0 ? w.desired : ''}</td>
                      <td>{i}</td>
                      <td data-field="holder" class="mono">{l?.fenced ? <span class="bad">fenced</span> : (l?.holder ?? <span class="muted">none</span>)}</td>
                      <td data-field="token" class="mono">{l ? l.token : ''}</td>
                      <td data-field="replica" class={s ? (STATE_CLASS[s.state] ?? '') : 'muted'}>{s && s.token === l?.token ? `${s.state}${s.pid ? ` (pid ${s.pid})` : ''}${s.restarts ? `, ${s.restarts} restarts` : ''}` : s ? `${s.state} (token ${s.token})` : 'none'}</td>
                      <td>{l ? <Age ms={l.ageMs} /> : ''}</td>
                    </tr>
                  );
                });
              })}
            </tbody>
          </table>
          <p class="muted">Ages are by the writers' clocks (an agent's on another machine may differ). Live: mesh events over SSE, and a refresh every 5 s.</p>
        </section>
        <script dangerouslySetInnerHTML={{ __html: MESH_SCRIPT }} />
      </main>,
    );
  });
  return app;
}

/** Renders through the console's frame (set by the kernel on every module page). */
function page(c: Context<AppEnv>, title: string, body: Child) {
  const render = c.get('renderPage');
  if (!render) throw new Error('mesh pages must be mounted by the kernel console (no renderPage on the request)');
  return render({ title, status: 200 }, body);
}
