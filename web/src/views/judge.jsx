// The sequential judge on the app page (docs/behaviour.md): its running verdict while the
// analysis runs — the evidence so far, in the judge's own words, and how far each answer's
// evidence has come — and the tolerance it holds the canary to, as lines on the charts
// (stable's own figure each second, plus the tolerance).
import { pct } from './judge_words.js';

// The canary's limit each second: stable's error rate + the tolerance in points; stable's p99
// × (1 + P%) or + D ms. `samples`' versions other than the canary's in `slot` are stable.
export function toleranceLines(judge, canaryVersion, slot) {
  if (!judge || !judge.tolerance) return null;
  const t = judge.tolerance;
  const stableOf = (sample, key) => {
    let best = null;
    for (const v of sample.versions || []) {
      if (v.slot !== slot || v.version === canaryVersion || v[key] == null) continue;
      if (best == null || v.rate > best.rate) best = v;  // the version that takes stable's traffic
    }
    return best ? best[key] : null;
  };
  const lines = {
    errorRate: {
      label: `stable + ${+(t.errorRate * 100).toFixed(2)} points`,
      at: (s) => { const e = stableOf(s, 'errorRate'); return e == null ? null : e + t.errorRate; },
    },
  };
  if (t.latencyPercent != null || t.latencyAddedMs != null) {
    lines.p99Ms = {
      label: t.latencyPercent != null ? `stable's + ${t.latencyPercent}%` : `stable's + ${t.latencyAddedMs} ms`,
      at: (s) => {
        const p = stableOf(s, 'p99Ms');
        if (p == null) return null;
        return t.latencyPercent != null ? p * (1 + t.latencyPercent / 100) : p + t.latencyAddedMs;
      },
    };
  }
  return lines;
}

export function JudgeLine({ analysis }) {
  if (!analysis || analysis.judge !== 'sequential' || !analysis.active) return null;
  const words = (analysis.windows || []).find((w) => typeof w === 'string') || 'waiting for the first look';
  const toward = pct(words);
  const j = analysis.sequential || {};
  return (
    <div class="judge" role="status" aria-live="polite">
      <p class="small">
        <strong>Judge (sequential{j.falseAlarmRate != null ? `, false alarms ≤ ${+(j.falseAlarmRate * 100).toFixed(3)}%` : ''}):</strong>{' '}
        {words}
      </p>
      {toward && (
        <p class="small meters">
          <label>toward failing <meter min="0" max="100" high="99" value={toward.failing}>{toward.failing}%</meter> {toward.failing}%</label>
          <label>toward passing <meter min="0" max="100" value={toward.passing}>{toward.passing}%</meter> {toward.passing}%</label>
        </p>
      )}
    </div>
  );
}
