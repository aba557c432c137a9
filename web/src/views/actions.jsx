// Actions on one app: rollback, rollforward, promote, swap, traffic split, pause / resume /
// abort. Each asks the controller for its what-if plan first and shows it in a dialog;
// only a confirmation sends the real request. Shown only to a role that may deploy; an
// action this controller does not offer yet stays visible, disabled, with a note.
import { useEffect, useRef, useState } from 'preact/hooks';
import { post, enc } from '../api.js';

const probed = new Map(); // "app/route" → true when the controller lacks the route

const PROBES = {
  swap: { source: 'staging', target: 'production', action: 'preview' },
  traffic: { slot: 'staging', percent: 0 },
  pause: {},
  resume: {},
  abort: {},
};

function useMissingRoutes(app) {
  const [missing, setMissing] = useState({});
  useEffect(() => {
    let live = true;
    Object.entries(PROBES).forEach(([route, body]) => {
      const key = `${app}/${route}`;
      const done = (gone) => {
        probed.set(key, gone);
        if (live) setMissing((m) => ({ ...m, [route]: gone }));
      };
      if (probed.has(key)) return done(probed.get(key));
      post(`/v1/apps/${enc(app)}/${route}`, { ...body, whatIf: true })
        .then(() => done(false))
        .catch((e) => done(e.missingRoute));
    });
    return () => { live = false; };
  }, [app]);
  return missing;
}

function PlanDialog({ pending, onConfirm, onClose }) {
  const ref = useRef(null);
  useEffect(() => {
    const d = ref.current;
    if (pending && d && !d.open) d.showModal();
    if (!pending && d && d.open) d.close();
  }, [pending]);
  const o = pending && pending.outcome;
  return (
    <dialog ref={ref} aria-labelledby="plan-h" onClose={onClose} class="plan">
      {pending && (
        <form method="dialog" onSubmit={(e) => { e.preventDefault(); onConfirm(); }}>
          <h2 id="plan-h">{pending.label}?</h2>
          {pending.error ? (
            <p class="error" role="alert">{pending.error}</p>
          ) : (
            <>
              {o && o.message && <p>{o.message}</p>}
              {o && o.plan && o.plan.length > 0 && (
                <>
                  <h3>Plan</h3>
                  <ol class="plan-steps">{o.plan.map((s, i) => <li key={i}>{s}</li>)}</ol>
                </>
              )}
              {o && o.noop && <p><strong>Nothing to do.</strong></p>}
              {o && o.diff && (
                <details><summary>Manifest changes</summary><pre class="code">{o.diff}</pre></details>
              )}
            </>
          )}
          <div class="row end">
            <button type="button" onClick={onClose}>Cancel</button>
            {!pending.error && !(o && o.noop) && (
              <button type="submit" class="primary" disabled={pending.busy}>
                {pending.busy ? 'Working…' : 'Confirm'}
              </button>
            )}
          </div>
        </form>
      )}
    </dialog>
  );
}

function VersionSelect({ id, label, versions, value, onChange, filter }) {
  return (
    <label for={id}>
      {label}{' '}
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {(versions || []).filter(filter || (() => true)).slice().reverse().map((v) => (
          <option key={v.version} value={v.version}>v{v.version} ({v.verdict})</option>
        ))}
      </select>
    </label>
  );
}

export function Actions({ app, status, versions, onDone }) {
  const missing = useMissingRoutes(app);
  const [pending, setPending] = useState(null);
  const [result, setResult] = useState('');
  const [toVersion, setToVersion] = useState('');
  const [promoteVersion, setPromoteVersion] = useState('');
  const [slot, setSlot] = useState('staging');
  const [percent, setPercent] = useState(10);
  const base = `/v1/apps/${enc(app)}`;

  async function ask(label, path, body) {
    setResult('');
    setPending({ label, path, body, busy: true });
    try {
      const outcome = await post(path, { ...body, whatIf: true });
      setPending({ label, path, body, outcome });
    } catch (e) {
      setPending({ label, path, body, error: e.missingRoute ? 'This controller does not offer this action yet.' : e.message });
    }
  }
  async function confirm() {
    const p = pending;
    setPending({ ...p, busy: true });
    try {
      const o = await post(p.path, p.body);
      setResult(o.deployment ? `${p.label}: started deployment ${o.deployment}.` : `${p.label}: ${o.message || 'done'}.`);
    } catch (e) {
      setResult(`${p.label} failed: ${e.message}`);
    }
    setPending(null);
    onDone && onDone();
  }

  const btn = (route, label, path, body, extra = {}) => (
    <button
      type="button"
      onClick={() => ask(label, path, body)}
      disabled={missing[route] === true || extra.disabled}
      aria-describedby={missing[route] ? `na-${route}` : undefined}
    >
      {label}
    </button>
  );
  const note = (route) =>
    missing[route] ? <span id={`na-${route}`} class="muted small"> not offered by this controller yet</span> : null;
  const slots = Object.keys((status && status.slots) || {});
  const goodOnes = (v) => v.verdict === 'good';
  const firstGood = (versions || []).filter(goodOnes).slice(-1)[0];
  const to = toVersion || (firstGood ? String(firstGood.version) : '');
  const prom = promoteVersion || ((versions || []).slice(-1)[0]?.version ?? '');

  return (
    <section class="actions" aria-labelledby="actions-h">
      <h2 id="actions-h">Actions</h2>
      <div class="action-group">
        <h3>Roll back or forward</h3>
        <div class="row wrap">
          {btn('rollback', 'Roll back to last good', `${base}/rollback`, {})}
          <VersionSelect id="rb-to" label="to" versions={versions} value={to} onChange={setToVersion} filter={goodOnes} />
          {btn('rollback', 'Roll back to this version', `${base}/rollback`, { to: Number(to) }, { disabled: !to })}
          {btn('rollforward', 'Roll forward', `${base}/rollforward`, {})}
        </div>
      </div>
      <div class="action-group">
        <h3>Promote</h3>
        <div class="row wrap">
          <VersionSelect id="promote-v" label="version" versions={versions} value={prom} onChange={setPromoteVersion} />
          {btn('promote', 'Promote', `${base}/promote`, { version: Number(prom) }, { disabled: prom === '' })}
        </div>
      </div>
      <div class="action-group">
        <h3>Swap staging ⇄ production</h3>
        <div class="row wrap">
          {btn('swap', 'Swap', `${base}/swap`, { source: 'staging', target: 'production', action: 'swap' })}
          {btn('swap', 'Preview swap', `${base}/swap`, { source: 'staging', target: 'production', action: 'preview' })}
          {btn('swap', 'Complete swap', `${base}/swap`, { source: 'staging', target: 'production', action: 'complete' })}
          {btn('swap', 'Cancel swap', `${base}/swap`, { source: 'staging', target: 'production', action: 'cancel' })}
          {note('swap')}
        </div>
      </div>
      <div class="action-group">
        <h3>Traffic split</h3>
        <div class="row wrap">
          <label for="tr-slot">slot{' '}
            <select id="tr-slot" value={slot} onChange={(e) => setSlot(e.currentTarget.value)}>
              {(slots.length ? slots : ['staging']).filter((s) => s !== 'production').concat(slots.includes('staging') ? [] : ['staging'])
                .filter((s, i, a) => a.indexOf(s) === i).map((s) => <option key={s} value={s}>{s}</option>)}
            </select>
          </label>
          <label for="tr-pct">percent{' '}
            <input id="tr-pct" type="number" min="0" max="100" step="1" value={percent}
              onInput={(e) => setPercent(Number(e.currentTarget.value))} />
          </label>
          {btn('traffic', 'Set traffic', `${base}/traffic`, { slot, percent }, { disabled: !(percent >= 0 && percent <= 100) })}
          {note('traffic')}
        </div>
      </div>
      <div class="action-group">
        <h3>Running deployment</h3>
        <div class="row wrap">
          {btn('pause', 'Pause', `${base}/pause`, {})}
          {btn('resume', 'Resume', `${base}/resume`, {})}
          {btn('abort', 'Abort', `${base}/abort`, {})}
          {note('pause')}
        </div>
      </div>
      <p role="status" class="result">{result}</p>
      <PlanDialog pending={pending} onConfirm={confirm} onClose={() => setPending(null)} />
    </section>
  );
}
