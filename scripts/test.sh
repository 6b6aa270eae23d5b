#!/usr/bin/env bash
# The full test suite, as CI runs it: static checks, unit tests, then integration tests against a real
# Elasticsearch and Redis, which this script starts (or reuses when they already answer).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

ensure_node_modules

step "Starting Elasticsearch and Redis"
bash scripts/es.sh start
bash scripts/redis.sh ensure

step "Type check"
npx tsc -p tsconfig.json --noEmit

step "Lint, format and circular imports"
npm run --silent lint

step "Unit tests"
npx jest --selectProjects unit --ci

step "Integration tests (real Elasticsearch and Redis)"
# In band: some tests stop and restart Elasticsearch or Redis, which parallel files must not see.
npx jest --selectProjects integration --ci --runInBand
