#!/usr/bin/env bash
# The full test suite, as CI runs it: static checks, unit tests, integration tests against a real Elasticsearch and
# Redis, which this script starts (or reuses when they already answer), then the console in a real browser.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

ensure_node_modules

step "Starting Elasticsearch and Redis"
bash scripts/es.sh start
bash scripts/redis.sh ensure

step "Type check (services, tools, tests and the console)"
npm run --silent typecheck

step "Lint, format and circular imports"
npm run --silent lint

step "Unit tests"
npx jest --selectProjects unit --ci

step "Building the console"
# The query service serves it at /console; the end-to-end tests drive it in a browser.
npm run --silent console:build -- --logLevel warn

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

# The console in a real browser: Debian's Chromium, headless, driven by playwright-core (which downloads no browser).
CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ ! -x $CHROMIUM_PATH ]]; then
  step "Installing Chromium for the console tests"
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null ||
      fail "apt-get install chromium failed; install it yourself, or set CHROMIUM_PATH to a Chromium"
    CHROMIUM_PATH=/usr/bin/chromium
  else
    fail "no Chromium at $CHROMIUM_PATH: install it (sudo apt-get install -y chromium), or set CHROMIUM_PATH"
  fi
fi
export CHROMIUM_PATH
step "End-to-end tests of the console (Chromium at $CHROMIUM_PATH)"
npx jest --selectProjects e2e --ci --runInBand
