#!/usr/bin/env bash
# Stops what `npm start` started: the four services (gracefully), Elasticsearch, and Redis if it was ours.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

for name in query ingest jobs indexer; do
  pidfile="$RUN_DIR/$name.pid"
  [[ -f "$pidfile" ]] || continue
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then
      info "$name did not stop within 100 s; killing it"
      kill -KILL "$pid"
    fi
    info "$name stopped"
  fi
  rm -f "$pidfile"
done
bash scripts/es.sh stop
bash scripts/redis.sh stop
