/** @jsxImportSource hono/jsx */
/** /ui/breeder: every breeder with its status, trial counts and best value. */
import type { BreederView } from '../runtime/service.ts';
import { tick } from './chart.tsx';

/** One row of the list: the breeder and its best first-objective value, if any. */
export interface BreederListEntry {
  breeder: BreederView;
  best: number | null;
}

function count(b: BreederView, state: string): number {
  return b.trials[state] ?? 0;
}

/** The list page body. */
export function BreederListPage(props: { entries: BreederListEntry[] }) {
  return (
    <main>
      <section class="wide">
        <h2>Breeders</h2>
        {props.entries.length === 0 ? (
          <p class="muted">
            No breeders yet: <code>capstan breeder create -f breeder.yaml</code>
          </p>
        ) : (
          <table id="breeders">
            <thead>
              <tr>
                <th>name</th>
                <th>status</th>
                <th>sampler</th>
                <th>complete</th>
                <th>failed</th>
                <th>running</th>
                <th>best</th>
              </tr>
            </thead>
            <tbody>
              {props.entries.map(({ breeder: b, best }) => (
                <tr>
                  <td>
                    <a href={`/ui/breeder/${encodeURIComponent(b.name)}`}>{b.name}</a>
                  </td>
                  <td class={b.status === 'running' ? 'ok' : b.status === 'stopped' || b.status === 'failed' ? 'bad' : ''}>{b.status}{b.reason ? <span class="muted"> ({b.reason})</span> : null}</td>
                  <td>{b.definition.algorithm.sampler}</td>
                  <td>{count(b, 'complete')}</td>
                  <td>{count(b, 'fail') + count(b, 'pruned')}</td>
                  <td>{count(b, 'running')}</td>
                  <td class="mono">{best === null ? '—' : `${b.definition.objectives[0]!.name} ${tick(best)}`}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </main>
  );
}
