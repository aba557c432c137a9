// A YAML code view: line numbers and highlighting of keys, strings, numbers, booleans,
// ${…} references and comments, built as elements (never as HTML from the manifest).

const TOKEN = /(\$\{[^}]*\})|("(?:[^"\\]|\\.)*"|'[^']*')|(\b(?:true|false|null|yes|no)\b)|(-?\b\d+(?:\.\d+)?(?:ms|s|m|h)?\b)/g;

function splitComment(line) {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) { if (c === quote) quote = ''; continue; }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) return [line.slice(0, i), line.slice(i)];
  }
  return [line, ''];
}

function valueSpans(text, key) {
  const out = [];
  let last = 0;
  let m;
  TOKEN.lastIndex = 0;
  while ((m = TOKEN.exec(text))) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const cls = m[1] ? 'y-ref' : m[2] ? 'y-str' : m[3] ? 'y-bool' : 'y-num';
    out.push(<span class={cls} key={`${key}-${m.index}`}>{m[0]}</span>);
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

export function highlightLine(line, n) {
  const [code, comment] = splitComment(line);
  const km = /^(\s*(?:-\s+)?)([^\s:#"'{}[\],][^:#]*?|"[^"]*"|'[^']*')(:)(\s|$)/.exec(code);
  const parts = [];
  if (km) {
    parts.push(km[1], <span class="y-key" key="k">{km[2]}</span>, km[3]);
    parts.push(...valueSpans(code.slice(km[0].length - km[4].length), n));
  } else {
    parts.push(...valueSpans(code, n));
  }
  if (comment) parts.push(<span class="y-com" key="c">{comment}</span>);
  return parts;
}

export function YamlView({ text, label }) {
  const lines = String(text || '').replace(/\n$/, '').split('\n');
  return (
    <pre class="code yaml" aria-label={label} tabIndex={0}>
      {lines.map((l, i) => (
        <div class="line" key={i}><span class="ln" aria-hidden="true">{i + 1}</span>{highlightLine(l, i)}</div>
      ))}
    </pre>
  );
}
