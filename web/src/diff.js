// A line diff (longest common subsequence) laid out side by side: rows of
// {left, right, kind} with kind "same", "del" (left only), "add" (right only) or "chg".

const kMaxCells = 4_000_000;

export function sideBySide(a, b) {
  const x = a.split('\n');
  const y = b.split('\n');
  const n = x.length;
  const m = y.length;
  if (n * m > kMaxCells) {
    return x.map((l, i) => ({ left: l, right: y[i] ?? '', ln: i + 1, rn: i + 1, kind: l === y[i] ? 'same' : 'chg' }));
  }
  const L = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      L[i][j] = x[i] === y[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
  const ops = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { ops.push({ kind: 'same', left: x[i], right: y[j], ln: i + 1, rn: j + 1 }); i++; j++; }
    // On a tie, the deletion first: a changed line then reads as a del/add pair.
    else if (i < n && (j === m || L[i + 1][j] >= L[i][j + 1])) { ops.push({ kind: 'del', left: x[i], ln: i + 1 }); i++; }
    else { ops.push({ kind: 'add', right: y[j], rn: j + 1 }); j++; }
  }
  // Pair a run of deletions with the additions right after it as changed lines.
  const rows = [];
  for (let k = 0; k < ops.length;) {
    if (ops[k].kind !== 'del') { rows.push(ops[k++]); continue; }
    const dels = [];
    while (k < ops.length && ops[k].kind === 'del') dels.push(ops[k++]);
    const adds = [];
    while (k < ops.length && ops[k].kind === 'add') adds.push(ops[k++]);
    for (let t = 0; t < Math.max(dels.length, adds.length); t++) {
      const d = dels[t];
      const a2 = adds[t];
      rows.push({ kind: d && a2 ? 'chg' : d ? 'del' : 'add', left: d?.left, ln: d?.ln, right: a2?.right, rn: a2?.rn });
    }
  }
  return rows;
}
