#!/usr/bin/env bash
# Prints the SQL that appends COUNT deployment records of app APP to a lastgood store, in one
# transaction, for the history benchmark. Run it only while no controller has the store open.
#
# The rows follow src/store/sqlite/schema.cc and what the engine writes (deployments.cc,
# executor.cc): generated names "<kind>-<version>-<id>", versions 1 and 2 (both stored),
# every tenth deployment a failed deploy followed by its automatic rollback with the reasons
# the engine writes, one deployment a minute back in time, and the operations of a real
# deployment of the same app (TEMPLATE_ID) copied onto each row with shifted times. The
# newest seeded row is a succeeded deploy of v2, matching what the slot runs.
#
# usage: seed_history.sh APP COUNT TEMPLATE_ID | sqlite3 lastgood.db
set -euo pipefail
app=$1 count=$2 template=$3
[[ $app =~ ^[a-z0-9-]+$ && $count =~ ^[0-9]+$ && $template =~ ^[0-9]+$ ]] || {
  echo "usage: seed_history.sh APP COUNT TEMPLATE_ID" >&2
  exit 2
}
now_ms=$(($(date +%s%N) / 1000000))

cat <<SQL
PRAGMA foreign_keys = ON;
BEGIN IMMEDIATE;
CREATE TEMP TABLE seed AS
  WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < $count)
  SELECT (SELECT max(id) FROM deployments) + i AS id,
         $count - i AS age,                       -- 0 for the newest row
         CASE ($count - i) % 10 WHEN 3 THEN 'failed' WHEN 2 THEN 'rollback' ELSE 'ok' END AS what,
         'instance $app-production-v2-' || lower(substr(hex(randomblob(2)), 1, 4)) ||
           ' exited with code 1 before it was ready; its last error: ' ||
           'listen 127.0.0.1: address already in use' AS failure
  FROM c;
INSERT INTO deployments (id, app, name, version, slot, kind, strategy, "trigger", actor, state,
                         reason, started_at, finished_at, from_version, rollback_on_error, cursor)
SELECT s.id, '$app',
       CASE s.what WHEN 'rollback' THEN 'rollback-1-' || s.id
                   WHEN 'failed' THEN 'deploy-2-' || s.id
                   ELSE 'deploy-' || (2 - s.age % 2) || '-' || s.id END,
       CASE s.what WHEN 'rollback' THEN 1 WHEN 'failed' THEN 2 ELSE 2 - s.age % 2 END,
       'production',
       CASE s.what WHEN 'rollback' THEN 'rollback' ELSE 'deploy' END,
       t.strategy,
       CASE s.what WHEN 'rollback' THEN 'auto' ELSE 'user' END,
       CASE s.what WHEN 'rollback' THEN 'lastgood' ELSE t.actor END,
       CASE s.what WHEN 'failed' THEN 'Failed' ELSE 'Succeeded' END,
       CASE s.what
         WHEN 'failed' THEN 'run 1 ready instance of v2: ' || s.failure
         WHEN 'rollback' THEN 'automatic rollback after deployment deploy-2-' || (s.id - 1) ||
                              ' failed: run 1 ready instance of v2: ' || s.failure
         ELSE '' END,
       $now_ms - s.age * 60000,
       $now_ms - s.age * 60000 + (t.finished_at - t.started_at),
       CASE s.what WHEN 'rollback' THEN 2 WHEN 'failed' THEN 1 ELSE 1 + s.age % 2 END,
       CASE s.what WHEN 'rollback' THEN 'none' ELSE 'lastSuccessful' END,
       t.cursor
FROM seed s, deployments t WHERE t.id = $template;
INSERT INTO operations (deployment_id, idx, step, spec, state, started_at, finished_at, detail)
SELECT s.id, o.idx, o.step, o.spec,
       CASE WHEN s.what <> 'failed' OR o.idx = 0 THEN o.state
            WHEN o.idx = 1 THEN 'Failed' ELSE 'Skipped' END,
       d.started_at + (o.started_at - t.started_at),
       d.started_at + (o.finished_at - t.started_at),
       CASE WHEN s.what = 'failed' AND o.idx = 1 THEN s.failure
            WHEN s.what = 'failed' AND o.idx > 1 THEN '' ELSE o.detail END
FROM seed s JOIN deployments d ON d.id = s.id
     JOIN deployments t ON t.id = $template
     JOIN operations o ON o.deployment_id = $template;
DROP TABLE seed;
COMMIT;
SQL
