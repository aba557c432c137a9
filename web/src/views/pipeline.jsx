// The visual view of a version (Logic Apps' designer view, read-only): its manifest drawn as
// a pipeline — hooks, the slots and replicas it runs, the readiness gate, the strategy's
// steps (weights, analysis windows, pauses), the bake time, and the route it serves on.
import { parse } from 'yaml';

function Stage({ title, children, kind }) {
  return (
    <li class={`stage ${kind || ''}`}>
      <div class="stage-title">{title}</div>
      <div class="stage-body">{children}</div>
    </li>
  );
}

function strategySteps(strategy) {
  const type = (strategy && strategy.type) || 'rolling';
  if (type === 'canary' && strategy.canary && Array.isArray(strategy.canary.steps)) {
    return strategy.canary.steps.map((s, i) => {
      if (s.weight != null) return <Stage key={i} title={`Weight ${s.weight}%`} kind="traffic">traffic to the new version</Stage>;
      if (s.pause != null) return <Stage key={i} title="Pause" kind="wait">{String(s.pause) || 'until resumed'}</Stage>;
      if (s.analysis) {
        const a = s.analysis;
        return (
          <Stage key={i} title="Analysis gate" kind="gate">
            <ul>
              {a.window && <li>window {a.window}</li>}
              {a.minRequests != null && <li>at least {a.minRequests} requests</li>}
              {a.maxErrorRate != null && <li>error rate ≤ {a.maxErrorRate}</li>}
              {a.maxLatencyP99 != null && <li>p99 ≤ {a.maxLatencyP99}</li>}
              {a.maxErrorRateIncrease != null && <li>error rate increase ≤ {a.maxErrorRateIncrease}</li>}
            </ul>
          </Stage>
        );
      }
      return <Stage key={i} title={Object.keys(s)[0] || 'step'}>{JSON.stringify(s)}</Stage>;
    });
  }
  const detail = strategy && strategy[type] ? Object.entries(strategy[type]).map(([k, v]) => `${k} ${v}`).join(', ') : '';
  return [<Stage key="s" title={`${type[0].toUpperCase()}${type.slice(1)}`} kind="traffic">{detail || 'all replicas'}</Stage>];
}

export function Pipeline({ manifest }) {
  let m;
  try {
    m = parse(manifest || '') || {};
  } catch (e) {
    return <p class="error">This manifest cannot be drawn: {e.message}</p>;
  }
  const slots = m.slots ? Object.keys(m.slots) : ['production'];
  const hooks = m.hooks || {};
  const readiness = m.health && m.health.readiness;
  const route = m.route || {};
  return (
    <div class="pipeline-wrap">
      <ol class="pipeline" aria-label="Deployment pipeline of this version">
        {Object.entries(hooks).filter(([k]) => k.startsWith('pre')).map(([k, h]) => (
          <Stage key={k} title={`Hook ${k}`} kind="hook"><code>{[].concat(h.command || []).join(' ')}</code></Stage>
        ))}
        <Stage title="Instances" kind="run">
          <div>{m.replicas ?? 1} replica{m.replicas === 1 ? '' : 's'}</div>
          <div class="small">slots: {slots.join(', ')}</div>
          {m.run && m.run.command && <code class="small">{[].concat(m.run.command).join(' ')}</code>}
        </Stage>
        {readiness && (
          <Stage title="Readiness gate" kind="gate">
            {readiness.http ? `HTTP ${readiness.http}` : readiness.tcp ? 'TCP' : 'exec'}
            {readiness.interval ? `, every ${readiness.interval}` : ''}
          </Stage>
        )}
        {strategySteps(m.strategy)}
        {m.bake && <Stage title="Bake" kind="wait">healthy for {m.bake}</Stage>}
        <Stage title="Good" kind="done">version marked good</Stage>
      </ol>
      <dl class="facts small">
        <dt>Route</dt><dd>{route.listen || '–'}{route.preview ? ` (preview ${route.preview})` : ''}</dd>
        <dt>Progress deadline</dt><dd>{m.progressDeadline || '–'}</dd>
        <dt>On error</dt><dd>{(m.rollback && m.rollback.onError) || '–'}{m.rollback && m.rollback.keepPrevious ? `, previous kept warm ${m.rollback.keepPrevious}` : ''}</dd>
      </dl>
    </div>
  );
}
