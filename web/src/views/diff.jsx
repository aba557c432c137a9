// A side-by-side diff of two versions' manifests.
import { useEffect, useState } from 'preact/hooks';
import { get, enc } from '../api.js';
import { sideBySide } from '../diff.js';
import { highlightLine } from '../yaml-view.jsx';
import { ErrorNote } from './common.jsx';

export function DiffView({ app, a, b }) {
  const [pair, setPair] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    Promise.all([a, b].map((n) => get(`/v1/apps/${enc(app)}/versions/${enc(n)}`)))
      .then(([va, vb]) => setPair([va, vb]))
      .catch(setError);
  }, [app, a, b]);
  const rows = pair ? sideBySide(pair[0].manifest || '', pair[1].manifest || '') : [];
  const changed = rows.filter((r) => r.kind !== 'same').length;
  return (
    <section aria-labelledby="diff-h">
      <h1 id="diff-h">{app}: v{a} ⇄ v{b}</h1>
      <p><a href={`#/versions/${enc(app)}`}>Back to the versions</a></p>
      <ErrorNote error={error} />
      {pair && (
        <>
          <p>{changed === 0 ? 'The manifests are the same.' : `${changed} line${changed === 1 ? '' : 's'} differ.`}</p>
          <div class="diff-scroll" tabIndex={0}>
            <table class="diff">
              <caption class="sr-only">Left: v{a}. Right: v{b}. Removed, added and changed lines are marked.</caption>
              <thead><tr><th scope="col" colSpan={2}>v{a}</th><th scope="col" colSpan={2}>v{b}</th></tr></thead>
              <tbody>
                {rows.map((r, i) => (
                  <tr key={i} class={r.kind}>
                    <td class="ln">{r.ln || ''}</td>
                    <td class={`code l ${r.kind === 'del' || r.kind === 'chg' ? 'minus' : ''}`}>
                      {r.kind === 'del' || r.kind === 'chg' ? <span class="sr-only">removed: </span> : null}
                      {r.left != null ? highlightLine(r.left, `l${i}`) : ''}
                    </td>
                    <td class="ln">{r.rn || ''}</td>
                    <td class={`code r ${r.kind === 'add' || r.kind === 'chg' ? 'plus' : ''}`}>
                      {r.kind === 'add' || r.kind === 'chg' ? <span class="sr-only">added: </span> : null}
                      {r.right != null ? highlightLine(r.right, `r${i}`) : ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
