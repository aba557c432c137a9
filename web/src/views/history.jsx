// History as a timeline (ARM's deployment list): newest first, each record with its name,
// version, kind, trigger, state, duration and reason; one opens with its operations and
// their timings.
import { enc } from '../api.js';
import { duration, recordDuration, shortTime } from '../format.js';
import { Badge, ErrorNote, usePoll } from './common.jsx';
import { Steps } from './app.jsx';

function Record({ app, name }) {
  const [r, error] = usePoll(`/v1/apps/${enc(app)}/deployments/${enc(name)}`, 2000);
  return (
    <section class="record" aria-labelledby="rec-h">
      <h2 id="rec-h">{name}</h2>
      <ErrorNote error={error} />
      {r && (
        <>
          <dl class="facts">
            <dt>Version</dt><dd>v{r.version}{r.fromVersion ? ` (from v${r.fromVersion})` : ''}</dd>
            <dt>Kind</dt><dd>{r.kind}</dd>
            <dt>Slot</dt><dd>{r.slot}</dd>
            <dt>Strategy</dt><dd>{r.strategy}</dd>
            <dt>Trigger</dt><dd>{r.trigger}{r.actor ? ` by ${r.actor}` : ''}</dd>
            <dt>State</dt><dd><Badge word={r.state} /></dd>
            <dt>Started</dt><dd>{shortTime(r.startedAt)}</dd>
            <dt>Duration</dt><dd>{duration(recordDuration(r))}</dd>
            {r.reason && (<><dt>Reason</dt><dd>{r.reason}</dd></>)}
            {r.followedBy && (<><dt>Followed by</dt><dd><a href={`#/history/${enc(app)}/${enc(r.followedBy)}`}>{r.followedBy}</a></dd></>)}
          </dl>
          <h3>Operations</h3>
          <Steps record={r} />
        </>
      )}
      <p><a href={`#/history/${enc(app)}`}>Back to the history</a></p>
    </section>
  );
}

export function HistoryView({ app, record }) {
  const [records, error] = usePoll(`/v1/apps/${enc(app)}/deployments?limit=200`, 3000);
  if (record) return <Record app={app} name={record} />;
  return (
    <section aria-labelledby="hist-h">
      <h1 id="hist-h">History of {app}</h1>
      <ErrorNote error={error} />
      {records && !records.length && <p class="muted">No deployment yet.</p>}
      <ol class="timeline" aria-label="Deployments, newest first">
        {(records || []).map((r) => (
          <li key={r.name} class={`tl-item ${String(r.state).toLowerCase()}`}>
            <a class="tl-link" href={`#/history/${enc(app)}/${enc(r.name)}`}>
              <span class="tl-name">{r.name}</span>
              <span class="tl-meta">
                <span>v{r.version}</span>
                <span class="chip">{r.kind}</span>
                <span class={`chip ${r.trigger === 'auto' ? 'auto' : ''}`}>{r.trigger}</span>
                {r.actor && <span>by {r.actor}</span>}
                <Badge word={r.state} />
                <span>{duration(recordDuration(r))}</span>
                <time dateTime={r.startedAt}>{shortTime(r.startedAt)}</time>
              </span>
              {r.reason && <span class="tl-reason">{r.reason}</span>}
            </a>
          </li>
        ))}
      </ol>
    </section>
  );
}
