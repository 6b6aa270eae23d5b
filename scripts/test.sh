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

# Again on a secured node (security on, user elastic with a generated password, on its own port): every service
# against it end to end, erasure, contact data and secrets in logs. The rest behaves the same whatever the
# credentials; PORTRAIT_SECURED_TESTS=. runs all of it there.
SECURED_TESTS="${PORTRAIT_SECURED_TESTS:-(elasticsearch-smoke|live-profiles|ingest-api|segment-api|segment-membership|audience-export|jobs|dead-letter|erasure|pii|api-keys|secrets)}"
SECURED_PORT="${PORTRAIT_SECURED_ES_PORT:-9201}"
step "Integration tests on a secured Elasticsearch (port $SECURED_PORT): $SECURED_TESTS"
ES_PORT="$SECURED_PORT" ES_SECURITY=true bash scripts/es.sh start
ES_PORT="$SECURED_PORT" ES_SECURITY=true ES_URL="http://127.0.0.1:$SECURED_PORT" ES_USERNAME=elastic \
  ES_PASSWORD="$(ES_PORT="$SECURED_PORT" bash scripts/es.sh password)" \
  npx jest --selectProjects integration --ci --runInBand --testPathPatterns "$SECURED_TESTS"
