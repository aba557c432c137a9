// Pieces the views share: a polling hook, badges, the slots table, and error/empty states.
import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.js';
import { tone } from '../format.js';

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
                <span class="weight" aria-label={`${s.weight ?? 0} percent`}>
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
