// Reads the judge's words (health/sequential_judge.cc, DescribeErrors) for the meters: "...
// (evidence 41% of the way to failing, 12% to passing)". null when the words do not say it.
export function pct(words) {
  const m = /evidence (\d+)% of the way to failing, (\d+)% to passing/.exec(words || '');
  return m ? { failing: Number(m[1]), passing: Number(m[2]) } : null;
}
