# Reads `lastgood deployment APP NAME -o json`; $waves: cumulative host counts of the waves.
def ms: (.[0:19] + "Z" | fromdateiso8601) * 1000 + (.[20:23] | tonumber);
def own: (.detail // "") | [scan("in ([0-9]+)ms") | .[0] | tonumber] | add // 0;
. as $d
| [.operations[] | select(.startedAt != null and .finishedAt != null)] as $ops
| [$ops[] | select(.step | startswith("prepare"))] as $prep
| [$ops[] | select(.host != null and (.step | startswith("prepare") | not))] as $steps
| [$ops[] | select(.host == null)] as $whole
| ($steps | group_by(.host) | map({host: .[0].host, first: (map(.startedAt | ms) | min),
     last: (map(.finishedAt | ms) | max), own: (map(own) | add)}) | sort_by(.first)) as $hosts
| [range(0; $waves | length) as $k
   | ($hosts[(if $k == 0 then 0 else $waves[$k - 1] end):$waves[$k]]) as $w
   | {hosts: ($w | length), span: (($w | map(.last) | max) - ($w | map(.first) | min)),
      own: ($w | map(.own) | max)}] as $per
| {total: $d.durationMs,
   prepare: (if ($prep | length) > 0 then ($prep | map(.finishedAt | ms) | max) - ($prep | map(.startedAt | ms) | min) else 0 end),
   whole: ($whole | map(.durationMs // 0) | add // 0),
   own: ($per | map(.own) | add),
   waves: $per}
| .overhead = .total - .own
| .rest = .overhead - .prepare - .whole
