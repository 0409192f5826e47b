/** @jsxImportSource hono/jsx */
/**
 * /ui/breeder/<name>: status, the best trial's parameters, each objective over the trials (with the best so far),
 * the Pareto scatter of the first two objectives, and the latest trials.
 */
import type { BreederView } from '../runtime/service.ts';
import type { TrialRow } from '../store/index.ts';
import { Chart, tick } from './chart.tsx';
import { objectiveSeries, paretoScatter } from './plot-data.ts';

/** Trials shown in the table (newest first); the API pages through all of them. */
export const TABLE_TRIALS = 100;

/** What the page shows. */
export interface BreederPageData {
  breeder: BreederView;
  trials: TrialRow[];
  best: TrialRow | null;
  front: TrialRow[];
}

const value = (v: unknown) => (typeof v === 'number' ? tick(v) : v === null || v === undefined ? '—' : String(v));

function Params(props: { params: Record<string, unknown> }) {
  return (
    <table class="params">
      <tbody>
        {Object.entries(props.params).map(([k, v]) => (
          <tr>
            <td>{k}</td>
            <td class="mono">{value(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The page body. */
export function BreederPage(props: { data: BreederPageData }) {
  const { breeder: b, trials, best, front } = props.data;
  const objectives = b.definition.objectives;
  const api = `/api/v1/breeder/breeders/${encodeURIComponent(b.name)}`;
  return (
    <main>
      <section>
        <h2>Breeder {b.name}</h2>
        <table>
          <tbody>
            <tr><td>status</td><td class={b.status === 'running' ? 'ok' : b.status === 'stopped' || b.status === 'failed' ? 'bad' : ''}>{b.status}{b.reason ? ` (${b.reason})` : ''}</td></tr>
            <tr><td>sampler</td><td>{b.definition.algorithm.sampler}</td></tr>
            <tr><td>objectives</td><td>{objectives.map((o) => `${o.name} (${o.direction})`).join(', ')}</td></tr>
            <tr><td>trials</td><td>{Object.entries(b.trials).map(([s, n]) => `${s} ${n}`).join(', ') || 'none yet'}</td></tr>
            <tr><td>started</td><td class="mono">{b.startedAt ?? '—'}</td></tr>
            <tr><td>finished</td><td class="mono">{b.finishedAt ?? '—'}</td></tr>
          </tbody>
        </table>
      </section>
      <section id="best">
        <h2>{objectives.length === 1 ? 'Best trial' : `Best trial by ${objectives[0]!.name}`}</h2>
        {best ? (
          <div>
            <p>
              Trial {best.number}: {objectives.map((o, i) => `${o.name} ${value(best.values?.[i])}`).join(', ')}
            </p>
            <Params params={best.params} />
          </div>
        ) : (
          <p class="muted">No complete trial within the guardrails yet.</p>
        )}
        {objectives.length > 1 ? <p>Pareto front: {front.length} trial{front.length === 1 ? '' : 's'} (<a href={`${api}/pareto`}>JSON</a>).</p> : null}
      </section>
      {objectives.map((o, i) => (
        <section class="wide objective-plot" data-objective={o.name}>
          <h2>{o.name} over trials ({o.direction}; green: best so far)</h2>
          <Chart
            data={objectiveSeries(trials, i, o.direction)}
            label={`${o.name} of each complete trial by trial number`}
            xLabel="trial"
            yLabel={o.name}
            pointTitle={(p) => `trial ${p.number}: ${o.name} ${tick(p.y)}${p.feasible ? '' : ' (guardrail violated)'}`}
          />
        </section>
      ))}
      {objectives.length >= 2 ? (
        <section class="wide" id="pareto">
          <h2>
            {objectives[0]!.name} vs {objectives[1]!.name} (green: Pareto front)
          </h2>
          <Chart
            data={paretoScatter(trials, objectives.map((o) => o.direction))}
            label={`${objectives[0]!.name} against ${objectives[1]!.name} of each complete trial`}
            xLabel={objectives[0]!.name}
            yLabel={objectives[1]!.name}
            pointTitle={(p) => `trial ${p.number}: ${objectives[0]!.name} ${tick(p.x)}, ${objectives[1]!.name} ${tick(p.y)}`}
          />
        </section>
      ) : null}
      <section class="wide">
        <h2>
          Latest trials (<a href={`${api}/trials`}>all, as JSON</a>)
        </h2>
        <table id="trials">
          <thead>
            <tr>
              <th>#</th>
              <th>state</th>
              {objectives.map((o) => <th>{o.name}</th>)}
              <th>params</th>
              <th>error</th>
            </tr>
          </thead>
          <tbody>
            {trials.slice(-TABLE_TRIALS).reverse().map((t) => (
              <tr>
                <td>{t.number}</td>
                <td class={t.state === 'complete' ? 'ok' : t.state === 'fail' ? 'bad' : ''}>{t.state}</td>
                {objectives.map((_, i) => <td class="mono">{value(t.values?.[i])}</td>)}
                <td class="mono">{Object.entries(t.params).map(([k, v]) => `${k}=${value(v)}`).join(' ')}</td>
                <td>{t.error ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </main>
  );
}
