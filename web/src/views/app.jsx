// One app, live: its slots, the running deployment's steps, canary charts, and actions.
// Server-sent events (GET /v1/events?app=) keep it current without reloads; the traffic
// history of the last ten minutes comes first from /traffic/series.
import { useEffect, useState } from 'preact/hooks';
import { get, enc } from '../api.js';
import { duration, shortTime } from '../format.js';
import { Actions } from './actions.jsx';
import { CanaryCharts } from './charts.jsx';
import { Badge, ErrorNote, RollbackTarget, RunningLine, SlotsTable } from './common.jsx';
import { JudgeLine, toleranceLines } from './judge.jsx';

const kMaxSamples = 600;

function useAppEvents(app) {
  const [status, setStatus] = useState(null);
  const [deployment, setDeployment] = useState(null);
  const [samples, setSamples] = useState([]);
  const [error, setError] = useState(null);
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    let live = true;
    get(`/v1/apps/${enc(app)}`).then((s) => live && setStatus(s)).catch((e) => live && setError(e));
    get(`/v1/apps/${enc(app)}/traffic/series?seconds=600`)
      .then((s) => live && setSamples((cur) => mergeSamples(s.samples || [], cur)))
      .catch(() => {});
    const es = new EventSource(`/v1/events?app=${enc(app)}`);
    es.onopen = () => setConnected(true);
    es.onerror = () => setConnected(false);
    es.addEventListener('status', (e) => setStatus(JSON.parse(e.data)));
    es.addEventListener('deployment', (e) => setDeployment(JSON.parse(e.data)));
    es.addEventListener('traffic', (e) => {
      const s = JSON.parse(e.data);
      setSamples((cur) => mergeSamples(cur, [s]));
    });
    return () => { live = false; es.close(); };
  }, [app]);
  return { status, deployment, samples, error, connected, setStatus };
}

function mergeSamples(a, b) {
  const byT = new Map();
  for (const s of a.concat(b)) byT.set(s.t, s);
  const out = [...byT.values()].sort((x, y) => x.t - y.t);
  return out.slice(-kMaxSamples);
}

export function Steps({ record }) {
  if (!record || !record.operations) return null;
  // The running step counts from its start, in the bars' scale too (a long analysis drew a bar
  // hundreds of times the page's width when only ended steps set the scale).
  const msOf = (op) => op.durationMs || (op.startedAt && !op.finishedAt ? Date.now() - Date.parse(op.startedAt) : 0);
  const total = Math.max(1, ...record.operations.map(msOf));
  return (
    <ol class="steps">
      {record.operations.map((op, i) => {
        const ms = msOf(op);
        return (
          <li key={i} class={`step ${String(op.state).toLowerCase()}`}>
            <Badge word={op.state} /> <span class="step-name">{op.step}</span>
            <span class="step-time"> {op.startedAt ? shortTime(op.startedAt) : ''} · {duration(ms)}</span>
            <span class="bar" aria-hidden="true"><span style={{ width: `${Math.max(2, (100 * ms) / total)}%` }} /></span>
            {op.detail && <div class="detail">{op.detail}</div>}
          </li>
        );
      })}
    </ol>
  );
}

export function AppView({ app, session }) {
  const { status, deployment, samples, error, connected, setStatus } = useAppEvents(app);
  const [history, setHistory] = useState([]);
  const [versions, setVersions] = useState([]);
  const running = status && status.deployment;
  const reload = () => {
    get(`/v1/apps/${enc(app)}/deployments?limit=100`).then(setHistory).catch(() => {});
    get(`/v1/apps/${enc(app)}/versions`).then(setVersions).catch(() => {});
    get(`/v1/apps/${enc(app)}`).then(setStatus).catch(() => {});
  };
  useEffect(reload, [app, running && running.name]);
  const analysis = (status && (status.analysis || (status.deployment && status.deployment.analysis))) || null;
  const limits = analysis && analysis.limits;
  // Under the sequential judge the canary is held to stable's own figures plus a tolerance.
  const sequential = analysis && analysis.judge === 'sequential' ? analysis.sequential : null;
  const lines = toleranceLines(sequential, running ? running.version : null, running ? running.slot || 'production' : 'production');
  const markers = history
    .filter((r) => r.trigger === 'auto' && r.startedAt)
    .map((r) => ({ t: Date.parse(r.startedAt), label: 'auto rollback', detail: r.reason || r.name }));
  return (
    <section aria-labelledby="app-h">
      <h1 id="app-h">{app}</h1>
      <p class="muted small" aria-live="polite">{connected ? 'Live' : 'Connecting…'}</p>
      <ErrorNote error={error} />
      {status && (
        <div class="grid2">
          <div>
            <h2>Slots</h2>
            <SlotsTable status={status} />
            <RollbackTarget status={status} />
          </div>
          <div>
            <h2>Deployment</h2>
            <RunningLine deployment={running} />
            {deployment && (
              <div aria-live="polite" class="deployment-record">
                <p>
                  <a href={`#/history/${enc(app)}/${enc(deployment.name)}`}>{deployment.name}</a>{' '}
                  <Badge word={deployment.state} />{deployment.reason ? ` — ${deployment.reason}` : ''}
                </p>
                <Steps record={deployment} />
              </div>
            )}
          </div>
        </div>
      )}
      <h2>Traffic</h2>
      <JudgeLine analysis={analysis} />
      {!sequential && analysis && analysis.windows && analysis.windows.length > 0 && (
        <p class="small">Analysis windows: {analysis.windows.map((w, i) => (
          <span key={i} class="chip">{typeof w === 'string' ? w : `${w.verdict || w.result || ''} ${w.window || ''}`.trim() || JSON.stringify(w)}</span>
        ))}</p>
      )}
      <CanaryCharts samples={samples} limits={limits} lines={lines} markers={markers} />
      {session.canDeploy && status && <Actions app={app} status={status} versions={versions} onDone={reload} />}
    </section>
  );
}
