// Canary charts: request rate, error rate and p99 latency per version over the last
// minutes (one sample a second), with the analysis limits drawn as dashed lines and each
// automatic rollback marked by a vertical line. uPlot draws on a canvas; a table under the
// charts gives the latest figures as text for screen readers and small screens.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const PALETTE = ['#1f6feb', '#d9480f', '#2b8a3e', '#862e9c', '#c92a2a', '#0b7285'];
const METRICS = [
  { key: 'rate', title: 'Requests per second', fmt: (v) => v.toFixed(1), axis: (v) => +v.toFixed(1), floor: 1 },
  { key: 'errorRate', title: 'Error rate', fmt: (v) => `${(v * 100).toFixed(2)}%`, axis: (v) => `${+(v * 100).toFixed(1)}%`, limit: 'maxErrorRate', floor: 0.05 },
  { key: 'p99Ms', title: 'p99 latency (ms)', fmt: (v) => v.toFixed(0), axis: (v) => +v.toFixed(1), limit: 'maxLatencyP99Ms', floor: 10 },
];

function seriesKeys(samples) {
  const keys = new Map();
  for (const s of samples)
    for (const v of s.versions || []) keys.set(`v${v.version} ${v.slot}`, v);
  return [...keys.keys()].sort();
}

function markersPlugin(markers) {
  return {
    hooks: {
      draw: (u) => {
        const ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = '#c92a2a';
        ctx.fillStyle = '#c92a2a';
        ctx.lineWidth = 2 * devicePixelRatio;
        ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
        for (const m of markers) {
          const x = u.valToPos(m.t / 1000, 'x', true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          // The short label beside the line, on the side with room; the reason is in the
          // chart's description (aria-label).
          const right = x > u.bbox.left + u.bbox.width / 2;
          ctx.textAlign = right ? 'right' : 'left';
          ctx.fillText(m.label, x + (right ? -4 : 4) * devicePixelRatio, u.bbox.top + 12 * devicePixelRatio);
        }
        ctx.restore();
      },
    },
  };
}

// What the canvas shows, for screen readers (and tests): the metric and each automatic
// rollback drawn on it.
function describe(metric, markers) {
  const base = `${metric.title} per version over the last minutes`;
  if (!markers.length) return base;
  const at = markers
    .map((m) => `${new Date(m.t).toLocaleTimeString()} ${m.label}${m.detail ? ` (${m.detail})` : ''}`)
    .join('; ');
  return `${base}; marked: ${at}`;
}

function Chart({ metric, samples, keys, limit, line, markers }) {
  const el = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const xs = samples.map((s) => s.t / 1000);
    const data = [xs];
    for (const k of keys) {
      data.push(samples.map((s) => {
        const v = (s.versions || []).find((r) => `v${r.version} ${r.slot}` === k);
        return v ? v[metric.key] : null;
      }));
    }
    const series = [{}].concat(keys.map((k, i) => ({
      label: k, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false,
      value: (u, v) => (v == null ? '–' : metric.fmt(v)),
    })));
    if (limit != null) {
      data.push(xs.map(() => limit));
      series.push({ label: 'limit', stroke: '#c92a2a', dash: [6, 4], width: 1.5, value: () => metric.fmt(limit) });
    } else if (line) {
      // The sequential judge's tolerance: stable's own figure each second, plus the tolerance.
      data.push(samples.map(line.at));
      series.push({ label: line.label, stroke: '#c92a2a', dash: [6, 4], width: 1.5, spanGaps: false,
        value: (u, v) => (v == null ? '–' : metric.fmt(v)) });
    }
    const width = Math.max(260, el.current.clientWidth);
    const opts = {
      width, height: 180, series, legend: { show: true },
      axes: [{}, { size: 60, values: (u, vals) => vals.map((v) => metric.axis(v)) }],
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max((max || 0) * 1.15, (limit || 0) * 1.15, metric.floor)] } },
      plugins: [markersPlugin(markers)],
    };
    if (plot.current) plot.current.destroy();
    plot.current = new uPlot(opts, data, el.current);
    return undefined;
  }, [samples, keys.join('|'), limit, line && line.label, markers.length]);
  useEffect(() => () => plot.current && plot.current.destroy(), []);
  useEffect(() => {
    const ro = new ResizeObserver(() => {
      if (plot.current && el.current) plot.current.setSize({ width: Math.max(260, el.current.clientWidth), height: 180 });
    });
    ro.observe(el.current);
    return () => ro.disconnect();
  }, []);
  return (
    <figure class="chart">
      <figcaption>
        {metric.title}{limit != null ? ` (limit ${metric.fmt(limit)})` : line ? ` (tolerance: ${line.label})` : ''}
      </figcaption>
      <div ref={el} role="img" aria-label={describe(metric, markers)} />
    </figure>
  );
}

// `lines`: the sequential judge's tolerance lines per metric key (views/judge.jsx), or null.
export function CanaryCharts({ samples, limits, lines, markers }) {
  const keys = seriesKeys(samples);
  if (!keys.length) {
    return <p class="muted">No traffic in the last minutes: the charts fill in once the router serves requests.</p>;
  }
  const last = samples[samples.length - 1];
  return (
    <div>
      <div class="charts">
        {METRICS.map((m) => (
          <Chart key={m.key} metric={m} samples={samples} keys={keys}
            limit={m.limit && limits ? limits[m.limit] ?? null : null}
            line={lines ? lines[m.key] || null : null} markers={markers} />
        ))}
      </div>
      <table class="latest">
        <caption>Last second</caption>
        <thead><tr><th scope="col">Version</th>{METRICS.map((m) => <th scope="col" key={m.key}>{m.title}</th>)}</tr></thead>
        <tbody>
          {(last.versions || []).map((v) => (
            <tr key={`${v.version}${v.slot}`}>
              <th scope="row">v{v.version} {v.slot}</th>
              {METRICS.map((m) => <td key={m.key}>{m.fmt(v[m.key] || 0)}</td>)}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
