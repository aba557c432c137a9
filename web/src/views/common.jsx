// Pieces the views share: a polling hook, badges, the slots table, and error/empty states.
import { useEffect, useState } from 'preact/hooks';
import { enc, get } from '../api.js';
import { clockTime, tone } from '../format.js';

// Loads `path` now and every `everyMs` (0: once); `deps` reloads it at once.
export function usePoll(path, everyMs, deps = []) {
  const [state, setState] = useState({ data: null, error: null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    const load = () =>
      get(path)
        .then((data) => live && setState({ data, error: null }))
        .catch((error) => live && setState((s) => ({ data: s.data, error })));
    load();
    const t = everyMs ? setInterval(load, everyMs) : null;
    return () => { live = false; if (t) clearInterval(t); };
  }, [path, everyMs, tick, ...deps]);
  return [state.data, state.error, () => setTick((x) => x + 1)];
}

export function Badge({ word, label }) {
  return <span class={`badge ${tone(word)}`}>{label || word}</span>;
}

export function ErrorNote({ error }) {
  if (!error) return null;
  return <p class="error" role="alert">{error.message || String(error)}</p>;
}

export function SlotsTable({ status }) {
  const slots = Object.entries(status.slots || {});
  if (!slots.length) return <p class="muted">No slot runs anything yet.</p>;
  return (
    <table class="slots">
      <caption class="sr-only">Slots of {status.app}</caption>
      <thead>
        <tr><th scope="col">Slot</th><th scope="col">Version</th><th scope="col">Traffic</th><th scope="col">Instances</th></tr>
      </thead>
      <tbody>
        {slots.map(([name, s]) => {
          const counts = {};
          for (const i of s.instances || []) counts[i.state] = (counts[i.state] || 0) + 1;
          const states = Object.entries(counts).map(([st, n]) => `${n} ${st}`).join(' · ') || 'none';
          return (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td>{s.version == null ? '–' : `v${s.version}`}</td>
              <td>
                <span class="weight" aria-hidden="true">
                  <span class="weight-bar" style={{ width: `${Math.min(100, s.weight ?? 0)}%` }} />
                </span>{' '}
                {s.weight ?? 0}%
              </td>
              <td>{states}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function RunningLine({ deployment }) {
  if (!deployment) return <p class="muted">No deployment running.</p>;
  return (
    <p>
      <Badge word="running" label={deployment.state || 'Running'} />{' '}
      <strong>{deployment.kind}</strong> of v{deployment.version} ({deployment.name})
      {deployment.step ? <> — step <em>{deployment.step}</em></> : null}
    </p>
  );
}

// What happened last to an app, in the words of an incident: "v3 failed at 17:42, rolled back
// automatically to v2". `records` are the newest deployments, newest first.
export function describeLatest(records) {
  if (!records || !records.length) return null;
  const [newest, before] = records;
  const when = (r) => clockTime(r.finishedAt || r.startedAt);
  if (newest.kind === 'rollback' && newest.trigger === 'auto' && before) {
    const back = newest.state === 'Succeeded' ? `rolled back automatically to v${newest.version}`
      : `its automatic rollback to v${newest.version} is ${newest.state.toLowerCase()}`;
    return { record: before, text: `v${before.version} ${stateWord(before.state)} at ${when(before)}, ${back}` };
  }
  const what = newest.kind === 'deploy' ? `v${newest.version}` : `${newest.kind} to v${newest.version}`;
  const reason = newest.state !== 'Succeeded' && newest.reason ? ` (${newest.reason})` : '';
  return { record: newest, text: `${what} ${stateWord(newest.state)} at ${when(newest)}${reason}` };
}

function stateWord(state) {
  switch (state) {
    case 'Succeeded': return 'succeeded';
    // A deployment whose gates failed and that was undone is RolledBack: to the person on
    // call, it failed (its rollback is a record of its own, read beside it).
    case 'Failed': case 'RolledBack': return 'failed';
    case 'Canceled': return 'was canceled';
    case 'Running': return 'started';
    default: return String(state || '').toLowerCase();
  }
}

// The latest deployment of `app` and its outcome, with a link to its record.
export function LatestLine({ app }) {
  const [records] = usePoll(`/v1/apps/${enc(app)}/deployments?limit=2`, 3000);
  const latest = describeLatest(records);
  if (!latest) return null;
  return (
    <p class="latest">
      Latest: <Badge word={latest.record.state} />{' '}
      <a href={`#/history/${enc(app)}/${enc(latest.record.name)}`}>{latest.text}</a>
    </p>
  );
}

// Where `lastgood rollback` would go: the last good version other than the one running.
export function RollbackTarget({ status }) {
  return (
    <p>Rollback goes to <strong>{status.lastGood == null ? 'nothing yet (no other good version)' : `v${status.lastGood}`}</strong></p>
  );
}
