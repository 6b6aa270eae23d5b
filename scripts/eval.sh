#!/usr/bin/env bash
# Offline evaluation of the recommenders (not a test): starts Elasticsearch and Redis like the test command, then
# runs bench/recommend-eval.ts. Usage: npm run eval -- [--data synthetic|scotch|margarine|<interactions.csv>] [--k 10]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
ensure_node_modules
bash scripts/es.sh start
bash scripts/redis.sh ensure
exec node --import tsx bench/recommend-eval.ts "$@"
