// The dashboard's shell: the session (who, which role, the CSRF token), the navigation and
// a hash router (#/apps, #/app/NAME, #/history/NAME[/RECORD], #/versions/NAME[/N],
// #/diff/NAME/A/B), so that every view has a link and the back button works.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { loadSession, post } from './api.js';
import { AppsView } from './views/apps.jsx';
import { AppView } from './views/app.jsx';
import { HistoryView } from './views/history.jsx';
import { VersionsView } from './views/versions.jsx';
import { DiffView } from './views/diff.jsx';
import './style.css';

function parseHash() {
  const parts = window.location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  return { view: parts[0] || 'apps', args: parts.slice(1) };
}

function useRoute() {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const on = () => setRoute(parseHash());
    window.addEventListener('hashchange', on);
    on(); // the hash may have changed before this listener was there
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

function Nav({ route, session }) {
  const app = route.args[0];
  const link = (view, label) => {
    const href = view === 'apps' ? '#/apps' : `#/${view}/${encodeURIComponent(app)}`;
    const current = route.view === view || (view === 'app' && route.view === 'apps' && !app);
    return (
      <a href={href} aria-current={current ? 'page' : undefined}>{label}</a>
    );
  };
  return (
    <header class="top">
      <a class="brand" href="#/apps">lastgood</a>
      <nav aria-label="Main">
        {link('apps', 'Apps')}
        {app && link('app', app)}
        {app && link('history', 'History')}
        {app && link('versions', 'Versions')}
      </nav>
      <div class="who">
        <span title="who you are logged in as">{session.name}</span>{' '}
        <span class={`badge role-${session.role}`}>{session.role}</span>{' '}
        <button class="link" onClick={async () => { await post('/v1/logout'); window.location.reload(); }}>
          Log out
        </button>
      </div>
    </header>
  );
}

function App() {
  const [session, setSession] = useState(null);
  const [error, setError] = useState('');
  const route = useRoute();
  useEffect(() => {
    loadSession().then(setSession).catch((e) => setError(e.message));
  }, []);
  if (error) return <main><p role="alert">Cannot load the session: {error}</p></main>;
  if (!session) return <main><p>Loading…</p></main>;
  const [app, a, b] = route.args;
  let view;
  switch (route.view) {
    case 'app': view = <AppView app={app} session={session} />; break;
    case 'history': view = <HistoryView app={app} record={a} />; break;
    case 'versions': view = <VersionsView app={app} version={a} session={session} />; break;
    case 'diff': view = <DiffView app={app} a={a} b={b} />; break;
    default: view = <AppsView session={session} />;
  }
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <Nav route={route} session={session} />
      <main id="main" tabIndex={-1}>{view}</main>
    </>
  );
}

render(<App />, document.getElementById('root'));
