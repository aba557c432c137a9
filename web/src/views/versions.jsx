// Versions (Logic Apps' versions pane): the list with verdicts; one version's code view
// (YAML, highlighted) and visual view (pipeline); a pick of two versions to diff.
import { useState } from 'preact/hooks';
import { enc } from '../api.js';
import { shortTime } from '../format.js';
import { YamlView } from '../yaml-view.jsx';
import { Badge, ErrorNote, usePoll } from './common.jsx';
import { Pipeline } from './pipeline.jsx';

function VersionDetail({ app, n }) {
  const [v, error] = usePoll(`/v1/apps/${enc(app)}/versions/${enc(n)}`, 0, [n]);
  const [tab, setTab] = useState('code');
  const tabs = [['code', 'Code'], ['pipeline', 'Pipeline']];
  return (
    <section class="version" aria-labelledby="ver-h">
      <h2 id="ver-h">v{n} {v && <Badge word={v.verdict} />}</h2>
      <ErrorNote error={error} />
      <div role="tablist" aria-label="Views of this version" class="tabs">
        {tabs.map(([id, label]) => (
          <button key={id} role="tab" id={`tab-${id}`} aria-selected={tab === id} aria-controls={`panel-${id}`}
            tabIndex={tab === id ? 0 : -1} onClick={() => setTab(id)}
            onKeyDown={(e) => {
              if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
                const next = tab === 'code' ? 'pipeline' : 'code';
                setTab(next);
                document.getElementById(`tab-${next}`)?.focus();
              }
            }}>{label}</button>
        ))}
      </div>
      {v && (
        <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
          {tab === 'code' ? <YamlView text={v.manifest} label={`Manifest of v${n}`} /> : <Pipeline manifest={v.manifest} />}
        </div>
      )}
    </section>
  );
}

export function VersionsView({ app, version }) {
  const [versions, error] = usePoll(`/v1/apps/${enc(app)}/versions`, 5000);
  const list = versions || [];
  const [a, setA] = useState('');
  const [b, setB] = useState('');
  const newest = list.length ? list[list.length - 1].version : '';
  const prev = list.length > 1 ? list[list.length - 2].version : newest;
  const da = a || prev;
  const db = b || newest;
  return (
    <section aria-labelledby="vers-h">
      <h1 id="vers-h">Versions of {app}</h1>
      <ErrorNote error={error} />
      <div class="grid2 versions-grid">
        <div>
          <table class="versions">
            <thead><tr><th scope="col">Version</th><th scope="col">Verdict</th><th scope="col">Created</th><th scope="col">Promoted from</th></tr></thead>
            <tbody>
              {list.slice().reverse().map((v) => (
                <tr key={v.version} aria-current={String(v.version) === version ? 'true' : undefined}>
                  <th scope="row"><a href={`#/versions/${enc(app)}/${v.version}`}>v{v.version}</a></th>
                  <td><Badge word={v.verdict} /></td>
                  <td>{shortTime(v.createdAt)}</td>
                  <td>{v.promotedFrom == null ? '–' : `v${v.promotedFrom}`}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {list.length > 1 && (
            <form class="row wrap diff-pick" onSubmit={(e) => { e.preventDefault(); window.location.hash = `#/diff/${enc(app)}/${da}/${db}`; }}>
              <label for="diff-a">Compare{' '}
                <select id="diff-a" value={da} onChange={(e) => setA(e.currentTarget.value)}>
                  {list.map((v) => <option key={v.version} value={v.version}>v{v.version}</option>)}
                </select>
              </label>
              <label for="diff-b">with{' '}
                <select id="diff-b" value={db} onChange={(e) => setB(e.currentTarget.value)}>
                  {list.map((v) => <option key={v.version} value={v.version}>v{v.version}</option>)}
                </select>
              </label>
              <button type="submit">Show diff</button>
            </form>
          )}
        </div>
        <div>{version ? <VersionDetail app={app} n={version} /> : <p class="muted">Choose a version to see its code and pipeline.</p>}</div>
      </div>
    </section>
  );
}
