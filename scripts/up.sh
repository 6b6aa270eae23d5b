#!/usr/bin/env bash
# Brings up the whole platform on the embedded default: a local Elasticsearch and Redis, the ingest,
# indexer, query and jobs services, and a small demo data set. Prints where to look. Safe to run again.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"
mkdir -p "$RUN_DIR"

ensure_node_modules

step "Starting Elasticsearch"
# ES_SECURITY=true npm start: the embedded node with security on; the services and tools log in as elastic.
bash scripts/es.sh start
if [[ ${ES_SECURITY:-false} == true ]]; then
  export ES_USERNAME=elastic
  ES_PASSWORD="$(bash scripts/es.sh password)"
  export ES_PASSWORD
  info "Elasticsearch security on: user elastic, password from 'npm run es -- password'"
fi
step "Starting Redis"
bash scripts/redis.sh ensure

start_service() {
  local name=$1 port=$2 pidfile="$RUN_DIR/$1.pid"
  if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    info "$name already running (pid $(cat "$pidfile"))"
    return
  fi
  local heap=()
  # The indexer holds merged flushes in memory; a capped heap keeps it collecting early (RSS well under 400 MB).
  [[ $name == indexer ]] && heap=(--max-old-space-size="${INDEXER_HEAP_MB:-256}")
  setsid nohup node "${heap[@]}" --import tsx "services/$name/src/main.ts" >>"$RUN_DIR/$name.log" 2>&1 < /dev/null &
  echo $! >"$pidfile"
  info "$name started (pid $!, log .run/$name.log)"
}

wait_ready() {
  local name=$1 port=$2 deadline=$((SECONDS + 180))
  until curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
    if ! kill -0 "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null; then
      tail -n 20 "$RUN_DIR/$name.log" >&2
      fail "$name exited during start-up; its log is above (.run/$name.log)"
    fi
    (( SECONDS < deadline )) || fail "$name not ready after 180 s; see .run/$name.log"
    sleep 1
  done
  info "$name ready on http://127.0.0.1:$port"
}

step "Preparing indices"
# A definition newer than its index (an upgrade) is rolled out before the services write to it.
for name in $(npx tsx scripts/bootstrap.ts --list-outdated); do
  info "index $name is older than its definition: migrating"
  npx tsx scripts/migrate.ts "$name"
done

step "Building the console"
# A static page the query service serves at /console; without it the services run and /console answers 503.
npm run --silent console:build -- --logLevel warn
info "console/dist built"

step "Starting services"
# Every scoped route asks for an API key (AUTH_REQUIRED=false npm start for none).
export AUTH_REQUIRED="${AUTH_REQUIRED:-true}"
start_service ingest 3001
start_service indexer 3002
start_service query 3003
start_service jobs 3004
wait_ready ingest 3001
wait_ready indexer 3002
wait_ready query 3003
wait_ready jobs 3004

KEY_FILE="$RUN_DIR/admin-key"
if [[ $AUTH_REQUIRED == true ]]; then
  step "API key"
  # The key of an earlier run is kept while it still works; otherwise a new admin key is made (shown once, kept here).
  if [[ -s $KEY_FILE ]] && curl -fsS -o /dev/null -H "authorization: Bearer $(cat "$KEY_FILE")" http://127.0.0.1:3003/v1/keys; then
    info "admin key of an earlier run still valid ($KEY_FILE)"
  else
    (umask 077 && npx tsx scripts/keys.ts create --name dev-admin --scopes admin >"$KEY_FILE")
    info "admin key created ($KEY_FILE)"
  fi
  PORTRAIT_API_KEY="$(cat "$KEY_FILE")"
  export PORTRAIT_API_KEY
  AUTH_HEADER='-H "authorization: Bearer $PORTRAIT_API_KEY" '
  KEY_LINE='export PORTRAIT_API_KEY=$(cat .run/admin-key)'
else
  AUTH_HEADER=""
  KEY_LINE=""
fi

step "Loading demo data"
npx tsx scripts/demo-data.ts

step "Training models"
# Every kind without an active version is trained on the demo data and promoted (profiles are re-scored).
npx tsx scripts/models.ts ensure

step "Recommendation feedback"
# Impressions and clicks of the recommendations shoppers are shown, so click-through by strategy has data.
npx tsx scripts/demo-data.ts feedback

cat <<EOT

Portrait is up.
  Ingest API      http://127.0.0.1:3001   POST /v1/events, /v1/events/batch, PUT /v1/users/:id/attributes, /v1/items/:id
  Query API       http://127.0.0.1:3003   GET /v1/users/:id/profile, /v1/users/:id/recommendations, /v1/profiles/search, /v1/segments
  Indexer         http://127.0.0.1:3002   /metrics, /readyz
  Jobs            http://127.0.0.1:3004   /metrics, /readyz (refresh, retention, segment backfill, export jobs, model training)
  Console         http://127.0.0.1:3003/console   profiles, segments, exports and insights in the browser (sign in with the API key below)
  API docs        http://127.0.0.1:3001/docs, http://127.0.0.1:3003/docs   (OpenAPI 3.1 at /openapi.json on every service)
  Elasticsearch   $(bash scripts/es.sh url)$([[ ${ES_SECURITY:-false} == true ]] && echo "   security on: user elastic, password: npm run es -- password")
  Logs            .run/*.log
  API key         ${PORTRAIT_API_KEY:-none asked (AUTH_REQUIRED=false)}   scope admin; kept in .run/admin-key. More: npm run keys -- create --name <name> --scopes read

Try:${KEY_LINE:+
  $KEY_LINE}
  curl -s ${AUTH_HEADER}'http://127.0.0.1:3003/v1/profiles/search?q=shoes&size=3&facets=region,ageBand'
  curl -s ${AUTH_HEADER}http://127.0.0.1:3003/v1/users/hh-2100016/profile
  curl -s ${AUTH_HEADER}'http://127.0.0.1:3003/v1/segments/high-value/breakdown?by=region,ageBand'
  curl -s ${AUTH_HEADER}http://127.0.0.1:3003/v1/segments/high-value/membership
  curl -s ${AUTH_HEADER}http://127.0.0.1:3003/v1/insights/rfm; curl -s ${AUTH_HEADER}http://127.0.0.1:3003/v1/insights/clusters
  curl -s ${AUTH_HEADER}'http://127.0.0.1:3003/v1/insights/rules?level=category&limit=5'
  curl -s ${AUTH_HEADER}'http://127.0.0.1:3003/v1/profiles/search?tier=high&facets=tier,cluster,riskLevel&size=3'
  curl -s ${AUTH_HEADER}'http://127.0.0.1:3003/v1/users/u17/recommendations?k=5'
  curl -s ${AUTH_HEADER}'http://127.0.0.1:3003/v1/items/i3/similar?k=5'; curl -s ${AUTH_HEADER}'http://127.0.0.1:3003/v1/items/i3/also-bought?k=5'
  npm run models -- list
Stop everything with: npm stop
EOT
