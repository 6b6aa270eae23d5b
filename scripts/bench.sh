#!/usr/bin/env bash
# Benchmarks (not tests): starts Elasticsearch and Redis like the test command, then runs bench/run.ts.
# Usage: npm run bench [-- ingest|indexer|freshness|read|all] [--events N --users N ...]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
ensure_node_modules
bash scripts/es.sh start
bash scripts/redis.sh ensure
exec node --import tsx bench/run.ts "$@"
