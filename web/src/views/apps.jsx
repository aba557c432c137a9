// Apps overview: per app its slots, the version each runs, traffic weights, the running
// deployment and its step, what happened last (and how it ended), and where a rollback goes.
import { usePoll, ErrorNote, LatestLine, RollbackTarget, SlotsTable, RunningLine } from './common.jsx';

export function AppsView() {
  const [apps, error] = usePoll('/v1/apps', 3000);
  return (
    <section aria-labelledby="apps-h">
      <h1 id="apps-h">Apps</h1>
      <ErrorNote error={error} />
      {apps && !apps.length && (
        <p class="muted">No app yet. Deploy one with <code>lastgood apply -f app.yaml</code>.</p>
      )}
      <div class="cards">
        {(apps || []).map((s) => (
          <article class="card" key={s.app} aria-labelledby={`app-${s.app}`}>
            <h2 id={`app-${s.app}`}><a href={`#/app/${encodeURIComponent(s.app)}`}>{s.app}</a></h2>
            <SlotsTable status={s} />
            {s.deployment ? <RunningLine deployment={s.deployment} /> : <LatestLine app={s.app} />}
            <RollbackTarget status={s} />
            <p class="links">
              <a href={`#/history/${encodeURIComponent(s.app)}`}>History</a>{' · '}
              <a href={`#/versions/${encodeURIComponent(s.app)}`}>Versions</a>
            </p>
          </article>
        ))}
      </div>
    </section>
  );
}
