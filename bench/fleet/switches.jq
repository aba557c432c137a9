# Reads `lastgood deployment APP NAME -o json` of a fleet rollback: how many host steps it
# had, and of each host's switch to warm instances (takeWarm: "move the traffic to …") its
# operation's time and what its detail says the store and the router took.
def median: sort | if length == 0 then 0 else .[(length - 1) / 2 | floor] end;
def part($name): [scan($name + " ([0-9.]+) ms") | .[0] | tonumber] | first // null;
[.operations[] | select(.host != null and .finishedAt != null)] as $ops
| [$ops[] | select(.step | startswith("move the traffic to"))] as $warm
| [$warm[] | .durationMs] as $took
| [$warm[] | .detail | part("store") | select(. != null)] as $store
| [$warm[] | .detail | part("router") | select(. != null)] as $router
| "  its host steps: \($ops | length), \([$ops[] | select(.step | startswith("prepare"))] | length) of them preparing a release; "
  + "the \($warm | length) switches to warm instances: each operation median \($took | median) ms (max \($took | max // 0)), "
  + "of which the store median \($store | median) ms, the router median \($router | median) ms"
