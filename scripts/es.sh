#!/usr/bin/env bash
# Local single-node Elasticsearch for Portrait development and integration tests.
#
# Runs the official integ-test zip distribution (fetched with Maven) on 127.0.0.1,
# one node, heap pinned, security off unless ES_SECURITY=true. The version comes from infra/elasticsearch/version.env.
#
# Usage: scripts/es.sh <start|stop|status|wait [seconds]|logs [-f]|wipe|url|password>
#
# Environment:
#   PORTRAIT_CACHE_DIR  cache root (default: $HOME/.cache/portrait)
#   ES_PORT             HTTP port (default: 9200); each port is its own node, with its own data, logs and config
#   ES_SECURITY         true: security on, user `elastic` with a generated password (kept in the cache, mode 600;
#                       `scripts/es.sh password` prints it); default false
#   ES_HEAP             JVM heap, used for -Xms and -Xmx (default: 1g)
#   ES_JAVA_HOME        JDK to run ES with; used when it is Java >= 21, else one is found in /usr/lib/jvm
#   ES_WAIT_SECONDS     default deadline for start/wait (default: 180)
#   ES_USER             system user ES runs as when this script runs as root (default: portrait-es)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
VERSION_FILE="$REPO_ROOT/infra/elasticsearch/version.env"

log() { printf '[es] %s\n' "$*" >&2; }
die() {
  printf '[es] ERROR: %s\n' "$1" >&2
  shift
  local line
  for line in "$@"; do printf '[es]   %s\n' "$line" >&2; done
  exit 1
}

[[ -r "$VERSION_FILE" ]] || die "cannot read $VERSION_FILE" "It must contain a line ES_VERSION=<x.y.z>."
ES_VERSION="$(sed -n 's/^[[:space:]]*ES_VERSION[[:space:]]*=[[:space:]]*["'\'']\{0,1\}\([0-9][0-9A-Za-z.+-]*\).*$/\1/p' "$VERSION_FILE" | head -n 1)"
[[ -n "$ES_VERSION" ]] || die "no ES_VERSION=<x.y.z> line in $VERSION_FILE"

PORTRAIT_CACHE_DIR="${PORTRAIT_CACHE_DIR:-$HOME/.cache/portrait}"
ES_PORT="${ES_PORT:-9200}"
ES_HEAP="${ES_HEAP:-1g}"
ES_WAIT_SECONDS="${ES_WAIT_SECONDS:-180}"
ES_USER="${ES_USER:-portrait-es}"
ES_SECURITY="${ES_SECURITY:-false}"

[[ "$ES_PORT" =~ ^[0-9]+$ ]] || die "ES_PORT must be a number, got '$ES_PORT'"
[[ "$ES_HEAP" =~ ^[0-9]+[kKmMgG]$ ]] || die "ES_HEAP must look like 512m or 1g, got '$ES_HEAP'"
[[ "$ES_SECURITY" == true || "$ES_SECURITY" == false ]] || die "ES_SECURITY must be true or false, got '$ES_SECURITY'"

# The node on 9200 keeps the original names; a node on another port gets its own beside it.
INSTANCE=""
[[ "$ES_PORT" != 9200 ]] && INSTANCE="-$ES_PORT"
ES_HOME="$PORTRAIT_CACHE_DIR/elasticsearch-$ES_VERSION"
ES_CONF="$PORTRAIT_CACHE_DIR/es-config$INSTANCE"
ES_DATA="$PORTRAIT_CACHE_DIR/es-data$INSTANCE"
ES_LOGS="$PORTRAIT_CACHE_DIR/es-logs$INSTANCE"
ES_PIDFILE="$PORTRAIT_CACHE_DIR/es$INSTANCE.pid"
ES_LAUNCH_LOG="$PORTRAIT_CACHE_DIR/es-launch$INSTANCE.log"
ES_PASSWORD_FILE="$PORTRAIT_CACHE_DIR/es-password$INSTANCE"
ES_DOWNLOADS="$PORTRAIT_CACHE_DIR/downloads"
ES_MAIN_LOG="$ES_LOGS/elasticsearch.log" # <cluster.name>.log; cluster.name is left at its default
ES_UNPACKED_MARKER="$ES_HOME/.portrait-unpacked"
ES_URL="http://127.0.0.1:$ES_PORT"
ES_HOME_REAL="$(readlink -m "$ES_HOME")" # ES reports its home with symlinks resolved

IS_ROOT=0
[[ "$(id -u)" -eq 0 ]] && IS_ROOT=1

# ---------------------------------------------------------------------------------------------
# Health and process helpers

# curl against the node; once it has a password, as `elastic` (on stdin, never on a command line).
es_curl() {
  if [[ -s "$ES_PASSWORD_FILE" ]]; then
    printf 'user = "elastic:%s"\n' "$(cat "$ES_PASSWORD_FILE")" | curl -K - -s --max-time 5 "$@"
  else
    curl -s --max-time 5 "$@"
  fi
}

# Prints the cluster status (green/yellow/red) or nothing if nothing answers on the port.
cluster_status() {
  local body
  body="$(es_curl "$ES_URL/_cluster/health" 2>/dev/null)" || return 0
  printf '%s' "$body" | sed -n 's/.*"status"[[:space:]]*:[[:space:]]*"\([a-z]*\)".*/\1/p'
}

# True when the node answers but refuses our credentials (a data directory secured with another password).
refuses_credentials() {
  [[ -s "$ES_PASSWORD_FILE" ]] || return 1
  local code
  code="$(es_curl -o /dev/null -w '%{http_code}' "$ES_URL/_cluster/health" 2>/dev/null)" || return 1
  [[ "$code" == 401 ]]
}

is_healthy() {
  local s
  s="$(cluster_status)"
  [[ "$s" == green || "$s" == yellow ]]
}

port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$ES_PORT") 2>/dev/null
}

# True if $1 is a live Elasticsearch server process of this installation and this node (its config directory).
is_our_es_pid() {
  local pid="$1"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "-Des.path.home=$ES_HOME_REAL" || return 1
  # Nodes started before each had its own config directory ran with the distribution's.
  local conf
  conf="$(tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | sed -n 's/^ES_PATH_CONF=//p')"
  [[ -z "$conf" || "$conf" == "$ES_CONF" || ("$INSTANCE" == "" && "$conf" == "$ES_HOME/config") ]]
}

# Prints the pid of our running ES: from the pidfile, else by scanning /proc for our ES home.
find_es_pid() {
  local pid=""
  if [[ -s "$ES_PIDFILE" ]]; then
    pid="$(tr -dc '0-9' <"$ES_PIDFILE")"
    if is_our_es_pid "$pid"; then
      printf '%s' "$pid"
      return 0
    fi
  fi
  local d
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    if is_our_es_pid "$pid"; then
      printf '%s' "$pid"
      return 0
    fi
  done
  return 0
}

print_log_tail() {
  local n="${1:-40}"
  if [[ -s "$ES_MAIN_LOG" ]]; then
    log "last $n lines of $ES_MAIN_LOG:"
    tail -n "$n" "$ES_MAIN_LOG" | sed 's/^/[es]   | /' >&2
  fi
  if [[ -s "$ES_LAUNCH_LOG" ]]; then
    log "last $n lines of $ES_LAUNCH_LOG:"
    tail -n "$n" "$ES_LAUNCH_LOG" | sed 's/^/[es]   | /' >&2
  fi
  if [[ ! -s "$ES_MAIN_LOG" && ! -s "$ES_LAUNCH_LOG" ]]; then
    log "(no Elasticsearch log written yet in $ES_LOGS)"
  fi
}

# Waits until the cluster is green/yellow. $1 = deadline in seconds. Returns 1 on timeout or death.
wait_healthy() {
  local deadline_s="${1:-$ES_WAIT_SECONDS}"
  [[ "$deadline_s" =~ ^[0-9]+$ ]] || die "wait deadline must be a number of seconds, got '$deadline_s'"
  local start now elapsed last_print=0 pid_seen=0 pid
  start="$(date +%s)"
  log "waiting up to ${deadline_s}s for $ES_URL to be green/yellow"
  while true; do
    if is_healthy; then
      now="$(date +%s)"
      log "healthy ($(cluster_status)) after $((now - start))s at $ES_URL"
      return 0
    fi
    if refuses_credentials; then
      log "$ES_URL answers 401 to user elastic: its data ($ES_DATA) was secured with another password"
      log "next: restore $ES_PASSWORD_FILE, or discard the data: ES_PORT=$ES_PORT ES_SECURITY=true scripts/es.sh wipe"
      return 1
    fi
    now="$(date +%s)"
    elapsed=$((now - start))
    pid="$(find_es_pid)"
    if [[ -n "$pid" ]]; then
      pid_seen=1
    elif [[ "$pid_seen" -eq 1 ]]; then
      log "the Elasticsearch process exited while starting up"
      print_log_tail 40
      log "next: fix the error above, then run 'scripts/es.sh start' again ('scripts/es.sh logs' shows more)"
      return 1
    fi
    if ((elapsed >= deadline_s)); then
      log "timed out after ${elapsed}s: $ES_URL is not green/yellow (cluster status: '$(cluster_status)')"
      print_log_tail 40
      log "next: run 'scripts/es.sh logs' for the full log; 'scripts/es.sh wait 300' to keep waiting;"
      log "      'scripts/es.sh stop && scripts/es.sh start' to restart; 'scripts/es.sh wipe' to discard data"
      return 1
    fi
    if ((elapsed - last_print >= 5)); then
      last_print=$elapsed
      log "... still waiting (${elapsed}s/${deadline_s}s, pid ${pid:-not yet}, status '$(cluster_status)')"
    fi
    sleep 2
  done
}

# ---------------------------------------------------------------------------------------------
# Prerequisites

apt_install() {
  log "installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 ||
    die "apt-get update failed" "Install $* yourself, then run this again."
  local out
  out="$(mktemp)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >"$out" 2>&1; then
    tail -n 20 "$out" | sed 's/^/[es]   | /' >&2
    rm -f "$out"
    die "apt-get install $* failed" "Install $* yourself, then run this again."
  fi
  rm -f "$out"
}

ensure_tools() {
  local missing_pkgs=() missing_cmds=()
  command -v curl >/dev/null 2>&1 || { missing_cmds+=(curl); missing_pkgs+=(curl); }
  command -v unzip >/dev/null 2>&1 || { missing_cmds+=(unzip); missing_pkgs+=(unzip); }
  # mvn is only needed when the distribution is not unpacked yet.
  if [[ ! -f "$ES_UNPACKED_MARKER" ]] && ! command -v mvn >/dev/null 2>&1; then
    missing_cmds+=(mvn)
    missing_pkgs+=(maven)
  fi
  ((${#missing_cmds[@]} == 0)) && return 0
  if [[ "$IS_ROOT" -eq 1 ]] && command -v apt-get >/dev/null 2>&1; then
    apt_install "${missing_pkgs[@]}"
  else
    die "missing commands: ${missing_cmds[*]}" \
      "Install them first, e.g.: sudo apt-get update && sudo apt-get install -y ${missing_pkgs[*]}"
  fi
}

# Prints the major Java version of the java binary $1 (8 for 1.8.x), or nothing.
java_major() {
  local out ver
  out="$("$1" -version 2>&1 | head -n 1)" || return 0
  ver="$(printf '%s' "$out" | sed -n 's/.*version "\([^"]*\)".*/\1/p')"
  [[ -n "$ver" ]] || return 0
  if [[ "$ver" == 1.* ]]; then
    ver="${ver#1.}"
  fi
  ver="${ver%%[!0-9]*}"
  printf '%s' "$ver"
}

# Sets JAVA_FOR_ES to a JDK home with Java >= 21.
choose_jdk() {
  local major
  if [[ -n "${ES_JAVA_HOME:-}" ]]; then
    if [[ -x "$ES_JAVA_HOME/bin/java" ]]; then
      major="$(java_major "$ES_JAVA_HOME/bin/java")"
      if [[ -n "$major" ]] && ((major >= 21)); then
        JAVA_FOR_ES="$ES_JAVA_HOME"
        log "using ES_JAVA_HOME=$JAVA_FOR_ES (Java $major)"
        return 0
      fi
      log "ignoring ES_JAVA_HOME=$ES_JAVA_HOME: Java ${major:-unknown} < 21"
    else
      log "ignoring ES_JAVA_HOME=$ES_JAVA_HOME: no executable bin/java there"
    fi
  fi
  local best="" best_major=0 dir real
  local seen=" "
  for dir in /usr/lib/jvm/*; do
    [[ -x "$dir/bin/java" ]] || continue
    real="$(readlink -f "$dir")"
    [[ "$seen" == *" $real "* ]] && continue
    seen+="$real "
    major="$(java_major "$dir/bin/java")"
    [[ -n "$major" ]] || continue
    if ((major >= 21 && major > best_major)); then
      best="$real"
      best_major="$major"
    fi
  done
  [[ -n "$best" ]] || die "no JDK >= 21 found (Elasticsearch $ES_VERSION needs Java 21+)" \
    "Install one (e.g. apt-get install -y openjdk-21-jdk-headless, or a Temurin 21+/25 JDK under /usr/lib/jvm)" \
    "or point ES_JAVA_HOME at a JDK >= 21, then run 'scripts/es.sh start' again."
  JAVA_FOR_ES="$best"
  log "using JDK $JAVA_FOR_ES (Java $best_major)"
}

ensure_es_user() {
  [[ "$IS_ROOT" -eq 1 ]] || return 0
  if ! id -u "$ES_USER" >/dev/null 2>&1; then
    log "creating system user $ES_USER (Elasticsearch refuses to run as root)"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin "$ES_USER" ||
      die "could not create system user $ES_USER" "Create it yourself: useradd --system --user-group $ES_USER"
  fi
}

run_as_es() {
  if [[ "$IS_ROOT" -eq 1 ]]; then
    runuser -u "$ES_USER" -- "$@"
  else
    "$@"
  fi
}

# As root the cache dir usually sits under /root (mode 700): give the ES user search (x) permission on
# every ancestor it cannot traverse. Prefers a per-user ACL; falls back to o+x.
ensure_traversable() {
  [[ "$IS_ROOT" -eq 1 ]] || return 0
  local dir="$PORTRAIT_CACHE_DIR" dirs=()
  while [[ "$dir" != "/" && -n "$dir" ]]; do
    dirs=("$dir" "${dirs[@]}")
    dir="$(dirname "$dir")"
  done
  local d
  for d in "${dirs[@]}"; do
    if ! runuser -u "$ES_USER" -- test -x "$d" 2>/dev/null; then
      if ! command -v setfacl >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
        apt_install acl
      fi
      if command -v setfacl >/dev/null 2>&1 && setfacl -m "u:$ES_USER:--x" "$d" 2>/dev/null &&
        runuser -u "$ES_USER" -- test -x "$d" 2>/dev/null; then
        log "granted $ES_USER traverse-only access (ACL u:$ES_USER:--x) to $d"
      else
        chmod o+x "$d"
        log "granted traverse-only access (o+x) to $d so $ES_USER can reach $PORTRAIT_CACHE_DIR"
      fi
    fi
  done
}

# ---------------------------------------------------------------------------------------------
# Install and configure

fetch_and_unpack() {
  if [[ -f "$ES_UNPACKED_MARKER" && -x "$ES_HOME/bin/elasticsearch" ]]; then
    return 0
  fi
  local zip="$ES_DOWNLOADS/elasticsearch-$ES_VERSION.zip"
  mkdir -p "$ES_DOWNLOADS"
  if [[ ! -s "$zip" ]]; then
    log "fetching org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip with Maven"
    local mvn_dir
    mvn_dir="$(mktemp -d)"
    if ! (cd "$mvn_dir" && mvn -q -B -Dstyle.color=never dependency:copy \
      "-Dartifact=org.elasticsearch.distribution.integ-test-zip:elasticsearch:$ES_VERSION:zip" \
      "-DoutputDirectory=$ES_DOWNLOADS" >&2); then
      rm -rf "$mvn_dir"
      die "Maven could not fetch Elasticsearch $ES_VERSION" \
        "Check the version in $VERSION_FILE exists and that Maven can reach its repository," \
        "then run 'scripts/es.sh start' again."
    fi
    rm -rf "$mvn_dir"
  fi
  [[ -s "$zip" ]] || die "expected $zip after the Maven fetch, it is missing"
  log "unpacking $zip"
  local tmp
  tmp="$(mktemp -d "$PORTRAIT_CACHE_DIR/.unpack.XXXXXX")"
  if ! unzip -q "$zip" -d "$tmp"; then
    rm -rf "$tmp"
    rm -f "$zip"
    die "unzip of $zip failed (deleted it; it may have been truncated)" "Run 'scripts/es.sh start' again."
  fi
  local top
  top="$(find "$tmp" -mindepth 1 -maxdepth 1 -type d | head -n 1)"
  [[ -n "$top" && -x "$top/bin/elasticsearch" ]] || {
    rm -rf "$tmp"
    die "unexpected layout in $zip (no */bin/elasticsearch)"
  }
  rm -rf "$ES_HOME"
  mv "$top" "$ES_HOME"
  rm -rf "$tmp"
  date -u +%Y-%m-%dT%H:%M:%SZ >"$ES_UNPACKED_MARKER"
  log "unpacked to $ES_HOME"
}

# The password of `elastic` for a secured node: generated once, kept beside its data (mode 600).
ensure_password() {
  if [[ ! -s "$ES_PASSWORD_FILE" ]]; then
    (
      umask 077
      openssl rand -base64 33 | tr -d '/+=\n' | head -c 32 >"$ES_PASSWORD_FILE"
    )
    log "generated a password for user elastic in $ES_PASSWORD_FILE ('scripts/es.sh password' prints it)"
  fi
  chmod 600 "$ES_PASSWORD_FILE"
}

# The security settings: on with user elastic (bootstrap.password in the keystore), plain HTTP on loopback.
security_config() {
  if [[ "$ES_SECURITY" != true ]]; then
    echo "xpack.security.enabled: false"
    return
  fi
  cat <<EOF
xpack.security.enabled: true
xpack.security.http.ssl.enabled: false
xpack.security.transport.ssl.enabled: false
xpack.security.enrollment.enabled: false
EOF
}

write_config() {
  local conf="$ES_CONF"
  # Each node has its own config directory (and keystore), copied from the distribution's once.
  if [[ ! -f "$conf/jvm.options" ]]; then
    mkdir -p "$conf"
    cp -a "$ES_HOME/config/." "$conf/"
    rm -f "$conf/elasticsearch.keystore" "$conf/elasticsearch.yml"
  fi
  mkdir -p "$conf/jvm.options.d" "$ES_DATA" "$ES_LOGS"
  cat >"$conf/elasticsearch.yml" <<EOF
# Written by scripts/es.sh on every start; edit the script, not this file.
discovery.type: single-node
network.host: 127.0.0.1
http.port: $ES_PORT
path.data: $ES_DATA
path.logs: $ES_LOGS
$(security_config)
cluster.routing.allocation.disk.threshold_enabled: false
EOF
  cat >"$conf/jvm.options.d/heap.options" <<EOF
# Written by scripts/es.sh (ES_HEAP=$ES_HEAP)
-Xms$ES_HEAP
-Xmx$ES_HEAP
EOF
  # ES writes the pidfile itself; pre-create it so the ES user can write it without owning the cache dir.
  : >"$ES_PIDFILE"
  if [[ "$IS_ROOT" -eq 1 ]]; then
    chown -R "$ES_USER:$ES_USER" "$ES_HOME" "$ES_CONF" "$ES_DATA" "$ES_LOGS"
    chown "$ES_USER:$ES_USER" "$ES_PIDFILE"
  fi
  if [[ "$ES_SECURITY" == true ]]; then
    ensure_password
    # Read by the node on the first start of its data only: that is when `elastic` gets this password.
    # The keystore tool runs as the user that owns the keystore: it refuses to change a keystore's owner,
    # so a root run on a second start (the keystore then belongs to the ES user) would fail.
    local keystore=(env ES_JAVA_HOME="$JAVA_FOR_ES" ES_PATH_CONF="$ES_CONF" "$ES_HOME/bin/elasticsearch-keystore")
    if [[ ! -f "$ES_CONF/elasticsearch.keystore" ]]; then
      run_as_es "${keystore[@]}" create >/dev/null || die "could not create the keystore in $ES_CONF"
    fi
    run_as_es "${keystore[@]}" add -x -f bootstrap.password <"$ES_PASSWORD_FILE" >/dev/null ||
      die "could not put bootstrap.password into the keystore in $ES_CONF" \
        "Check that $ES_CONF and its keystore belong to ${ES_USER}, or delete $ES_CONF to start it afresh"
  fi
}

# ---------------------------------------------------------------------------------------------
# Commands

cmd_start() {
  if is_healthy; then
    log "already running and healthy ($(cluster_status)) at $ES_URL"
    return 0
  fi
  local pid
  pid="$(find_es_pid)"
  if [[ -n "$pid" ]]; then
    log "Elasticsearch (pid $pid) is running but not healthy yet; waiting for it"
    wait_healthy "$ES_WAIT_SECONDS"
    return
  fi
  if port_in_use; then
    die "port $ES_PORT is in use by something that is not a healthy Elasticsearch from $ES_HOME" \
      "Free the port or pick another one: ES_PORT=9201 scripts/es.sh start"
  fi

  local t0
  t0="$(date +%s)"
  mkdir -p "$PORTRAIT_CACHE_DIR"
  ensure_tools
  choose_jdk
  ensure_es_user
  ensure_traversable
  fetch_and_unpack
  write_config

  log "starting Elasticsearch $ES_VERSION on $ES_URL (heap $ES_HEAP, data $ES_DATA, security $([[ $ES_SECURITY == true ]] && echo on || echo off))"
  : >"$ES_LAUNCH_LOG"
  # -d detaches once the node is up; its console output goes to the launch log.
  # Best effort: ES wants >= 65535 open files (it only warns on a loopback single node).
  if ! (
    ulimit -n 65535 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    run_as_es env ES_JAVA_HOME="$JAVA_FOR_ES" ES_PATH_CONF="$ES_CONF" \
      "$ES_HOME/bin/elasticsearch" -d -p "$ES_PIDFILE"
  ) >>"$ES_LAUNCH_LOG" 2>&1; then
    log "bin/elasticsearch -d failed"
    print_log_tail 40
    die "Elasticsearch did not start" "Read the lines above ('scripts/es.sh logs' for more), fix, and run start again."
  fi
  if ! wait_healthy "$ES_WAIT_SECONDS"; then
    exit 1
  fi
  log "started in $(($(date +%s) - t0))s (pid $(find_es_pid)); stop with 'scripts/es.sh stop'"
}

cmd_stop() {
  local pid
  pid="$(find_es_pid)"
  if [[ -z "$pid" ]]; then
    rm -f "$ES_PIDFILE"
    if is_healthy; then
      log "not stopping: an Elasticsearch answers on $ES_URL but it was not started from $ES_HOME"
    else
      log "not running"
    fi
    return 0
  fi
  log "stopping Elasticsearch (pid $pid) with SIGTERM"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 60; i++)); do
    is_our_es_pid "$pid" || break
    sleep 1
  done
  if is_our_es_pid "$pid"; then
    log "still running after 60s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 10; i++)); do
      is_our_es_pid "$pid" || break
      sleep 1
    done
  fi
  if is_our_es_pid "$pid"; then
    die "could not stop Elasticsearch (pid $pid)" "Check it with: ps -o pid,user,stat,cmd -p $pid"
  fi
  rm -f "$ES_PIDFILE"
  log "stopped"
}

cmd_status() {
  local pid status
  pid="$(find_es_pid)"
  status="$(cluster_status)"
  if [[ "$status" == green || "$status" == yellow ]]; then
    echo "elasticsearch $ES_VERSION: running, healthy ($status)"
  elif [[ -n "$pid" ]]; then
    echo "elasticsearch $ES_VERSION: running, NOT healthy (cluster status: '${status:-no answer}')"
  elif [[ -n "$status" ]]; then
    echo "elasticsearch: something answers on the port but is NOT healthy (status '$status')"
  else
    echo "elasticsearch $ES_VERSION: not running"
  fi
  echo "pid:  ${pid:-none}${pid:+ (pidfile $ES_PIDFILE)}"
  echo "url:  $ES_URL"
  echo "home: $ES_HOME"
  echo "logs: $ES_MAIN_LOG"
  [[ "$status" == green || "$status" == yellow ]]
}

cmd_wait() {
  wait_healthy "${1:-$ES_WAIT_SECONDS}"
}

cmd_logs() {
  if [[ ! -e "$ES_MAIN_LOG" ]]; then
    die "no log at $ES_MAIN_LOG yet" "Start Elasticsearch with 'scripts/es.sh start' (launch output: $ES_LAUNCH_LOG)."
  fi
  if [[ "${1:-}" == "-f" ]]; then
    exec tail -n 200 -F "$ES_MAIN_LOG"
  fi
  tail -n 200 "$ES_MAIN_LOG"
}

cmd_wipe() {
  cmd_stop
  log "deleting $ES_DATA and $ES_LOGS (and the password of user elastic, which belongs to that data)"
  rm -rf "$ES_DATA" "$ES_LOGS" "$ES_LAUNCH_LOG" "$ES_PASSWORD_FILE"
  log "wiped; the unpacked distribution in $ES_HOME is kept"
  # Queued batches and remembered event ids describe data that is gone now: without this, re-sent events
  # (the demo data, say) would be answered as duplicates and never rebuild their profiles.
  local redis_url="${REDIS_URL:-redis://127.0.0.1:6379}" prefix="${PORTRAIT_PREFIX:-portrait}"
  if command -v redis-cli >/dev/null && redis-cli -u "$redis_url" ping >/dev/null 2>&1; then
    local n
    n=$(redis-cli -u "$redis_url" --scan --pattern "$prefix:*" | tee >(xargs -r -n 500 redis-cli -u "$redis_url" unlink >/dev/null) | wc -l)
    log "deleted $n Redis keys of prefix '$prefix' (queues, remembered event ids) at $redis_url"
  else
    log "Redis at $redis_url not reachable: delete its '$prefix:*' keys yourself, or ingest will answer re-sent events as duplicates"
  fi
}

usage() {
  cat >&2 <<EOF
usage: scripts/es.sh <command>
  start         start Elasticsearch $ES_VERSION on $ES_URL (fetch/unpack on first use); no-op if healthy
  stop          stop it (SIGTERM, SIGKILL after 60s)
  status        print state, pid and url; exit 0 only when healthy
  wait [secs]   wait until healthy (default ${ES_WAIT_SECONDS}s)
  logs [-f]     last 200 lines of the main log; -f follows
  wipe          stop, then delete data and logs, and the prefix's Redis keys (queues, remembered event ids)
  url           print the base url
  password      print the password of user elastic (ES_SECURITY=true)
env: PORTRAIT_CACHE_DIR=$PORTRAIT_CACHE_DIR ES_PORT=$ES_PORT ES_HEAP=$ES_HEAP ES_SECURITY=$ES_SECURITY
EOF
}

main() {
  local cmd="${1:-}"
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    wait) cmd_wait "$@" ;;
    logs) cmd_logs "$@" ;;
    wipe) cmd_wipe ;;
    url) echo "$ES_URL" ;;
    password)
      [[ -s "$ES_PASSWORD_FILE" ]] ||
        die "no password at $ES_PASSWORD_FILE" "Start a secured node first: ES_PORT=$ES_PORT ES_SECURITY=true scripts/es.sh start"
      cat "$ES_PASSWORD_FILE"
      echo
      ;;
    -h | --help | help)
      usage
      ;;
    *)
      usage
      exit 2
      ;;
  esac
}

main "$@"
