/** @jsxImportSource hono/jsx */
/** The overview page: health, dependencies, queue depths, enabled modules and a live event stream. */
import type { OverviewData } from './overview-data.ts';
import { OVERVIEW_SCRIPT, QUEUE_STATES } from './overview-script.ts';

/** Uptime as people read it; the inline script formats refreshes the same way. */
function duration(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** Dependency rows; the same markup is rebuilt client-side on refresh. */
function DependencyRows(props: { data: OverviewData }) {
  return (
    <>
      {Object.entries(props.data.dependencies).map(([name, d]) => (
        <tr>
          <td>{name}</td>
          <td>{d.kind}</td>
          <td class={d.ok ? 'ok' : 'bad'}>{d.ok ? 'ok' : 'down'}</td>
          <td>{d.latencyMs} ms</td>
          <td class="muted">{d.error ?? ''}</td>
        </tr>
      ))}
    </>
  );
}

/** Queue rows, or one line saying why there are none. */
function QueueRows(props: { data: OverviewData }) {
  const queues = props.data.queues;
  const note = queues === null ? '(the admin scope is needed to see queues)' : queues.length === 0 ? '(no queues yet)' : undefined;
  if (note || !queues) {
    return (
      <tr>
        <td colspan={6} class="muted">
          {note}
        </td>
      </tr>
    );
  }
  return (
    <>
      {queues.map((q) => (
        <tr>
          <td>{q.name}</td>
          {q.error ? (
            <td colspan={5} class="bad">
              {q.error}
            </td>
          ) : (
            QUEUE_STATES.map((s) => <td>{q[s] ?? '–'}</td>)
          )}
        </tr>
      ))}
    </>
  );
}

/** Renders the overview page body. */
export function OverviewPage(props: { data: OverviewData; modules: { name: string; description: string }[] }) {
  return (
    <main>
      <section>
        <h2>
          Health: <span id="ready" class={props.data.ready ? 'ok' : 'bad'}>{props.data.ready ? 'ready' : 'not ready'}</span>
        </h2>
        <p class="muted" id="process">
          process <span class="ok">up</span> for <span id="uptime">{duration(props.data.process.uptimeSeconds)}</span> · instance{' '}
          <code>{props.data.process.instanceId}</code>
        </p>
        <table>
          <thead>
            <tr>
              <th>dependency</th>
              <th>kind</th>
              <th>state</th>
              <th>latency</th>
              <th>error</th>
            </tr>
          </thead>
          <tbody id="deps">
            <DependencyRows data={props.data} />
          </tbody>
        </table>
      </section>
      <section>
        <h2>Queues</h2>
        <table>
          <thead>
            <tr>
              <th>queue</th>
              {QUEUE_STATES.map((s) => (
                <th>{s}</th>
              ))}
            </tr>
          </thead>
          <tbody id="queues">
            <QueueRows data={props.data} />
          </tbody>
        </table>
      </section>
      <section>
        <h2>Modules</h2>
        {props.modules.length === 0 ? (
          <p class="muted">No module is enabled.</p>
        ) : (
          <table>
            <tbody>
              {props.modules.map((m) => (
                <tr>
                  <td>
                    <a href={`/ui/${m.name}`}>{m.name}</a>
                  </td>
                  <td class="muted">{m.description}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section class="wide">
        <h2>
          Live events <span id="stream-status" class="muted"></span>
        </h2>
        <form id="pattern-form">
          <label>
            pattern <input id="pattern" name="pattern" value=">" size={30} />
          </label>{' '}
          <button type="submit">Watch</button> <span class="muted">* matches one token, &gt; the rest</span>
        </form>
        <div id="events">
          <table>
            <thead>
              <tr>
                <th>time</th>
                <th>type</th>
                <th>source</th>
                <th>data</th>
              </tr>
            </thead>
            <tbody id="event-rows"></tbody>
          </table>
        </div>
      </section>
      <script dangerouslySetInnerHTML={{ __html: OVERVIEW_SCRIPT }} />
    </main>
  );
}
