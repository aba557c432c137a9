// Small formatting helpers shared by the views.

export function shortTime(t) {
  if (!t) return '–';
  const d = new Date(t);
  return d.toLocaleString(undefined, {
    month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

// "17:42" — the time of day alone, as an incident report says it.
export function clockTime(t) {
  if (!t) return '–';
  return new Date(t).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
}

export function duration(ms) {
  if (ms == null) return '–';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60000);
  return `${m} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function recordDuration(r) {
  if (!r.startedAt) return null;
  const end = r.finishedAt ? Date.parse(r.finishedAt) : Date.now();
  return Math.max(0, end - Date.parse(r.startedAt));
}

// The CSS class of a state or verdict badge.
export function tone(word) {
  switch (String(word || '').toLowerCase()) {
    case 'succeeded': case 'good': case 'done': case 'ready': return 'ok';
    case 'failed': case 'bad': case 'rolledback': return 'bad';
    case 'running': case 'pending': case 'starting': return 'busy';
    default: return 'neutral';
  }
}
