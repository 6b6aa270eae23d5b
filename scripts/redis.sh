#!/usr/bin/env bash
# Local Redis for Portrait development and tests.
#
# Usage: scripts/redis.sh <ensure|status|stop>
#   ensure  reuse a Redis answering on REDIS_URL; otherwise start one (no persistence) and wait for PONG
#   status  say whether REDIS_URL answers and whether this script started it; exit 0 only if it answers
#   stop    stop the Redis this script started (pidfile in the cache dir); never touches any other Redis
#
# Environment:
#   REDIS_URL           default redis://127.0.0.1:6379
#   PORTRAIT_CACHE_DIR  default $HOME/.cache/portrait (pidfile, log and working dir live here)
#   REDIS_WAIT_SECONDS  deadline for ensure (default 30)
set -euo pipefail

REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
PORTRAIT_CACHE_DIR="${PORTRAIT_CACHE_DIR:-$HOME/.cache/portrait}"
REDIS_WAIT_SECONDS="${REDIS_WAIT_SECONDS:-30}"

log() { printf '[redis] %s\n' "$*" >&2; }
die() {
  printf '[redis] ERROR: %s\n' "$1" >&2
  shift
  local line
  for line in "$@"; do printf '[redis]   %s\n' "$line" >&2; done
  exit 1
}

# Parse redis://[user[:password]@]host[:port][/db]
parse_url() {
  local rest="$REDIS_URL"
  case "$rest" in
    redis://*) rest="${rest#redis://}" ;;
    rediss://*) die "REDIS_URL uses TLS (rediss://); this script only manages a plain local Redis" ;;
    *) die "REDIS_URL must start with redis://, got '$REDIS_URL'" ;;
  esac
  rest="${rest%%/*}"
  REDIS_USER=""
  REDIS_PASSWORD=""
  if [[ "$rest" == *@* ]]; then
    local auth="${rest%@*}"
    rest="${rest##*@}"
    if [[ "$auth" == *:* ]]; then
      REDIS_USER="${auth%%:*}"
      REDIS_PASSWORD="${auth#*:}"
    else
      REDIS_PASSWORD="$auth"
    fi
  fi
  REDIS_HOST="${rest%%:*}"
  REDIS_HOST="${REDIS_HOST:-127.0.0.1}"
  if [[ "$rest" == *:* ]]; then REDIS_PORT="${rest##*:}"; else REDIS_PORT=6379; fi
  [[ "$REDIS_PORT" =~ ^[0-9]+$ ]] || die "cannot read a port from REDIS_URL '$REDIS_URL'"
}
parse_url

# One pidfile per port, so Redis instances on different ports are tracked independently.
if [[ "$REDIS_PORT" == 6379 ]]; then
  REDIS_PIDFILE="$PORTRAIT_CACHE_DIR/redis.pid"
  REDIS_LOG="$PORTRAIT_CACHE_DIR/redis.log"
else
  REDIS_PIDFILE="$PORTRAIT_CACHE_DIR/redis-$REDIS_PORT.pid"
  REDIS_LOG="$PORTRAIT_CACHE_DIR/redis-$REDIS_PORT.log"
fi
REDIS_DIR="$PORTRAIT_CACHE_DIR/redis"

is_local_host() {
  [[ "$REDIS_HOST" == 127.0.0.1 || "$REDIS_HOST" == localhost || "$REDIS_HOST" == "::1" || "$REDIS_HOST" == "[::1]" ]]
}

# True when Redis at REDIS_URL answers PING with PONG.
ping_ok() {
  local reply=""
  if command -v redis-cli >/dev/null 2>&1; then
    # Host/port/credentials are passed separately: redis-cli 7.0 mis-parses "redis://:password@host"
    # (it sends AUTH with an empty user name).
    local host="${REDIS_HOST#[}"
    host="${host%]}"
    local args=(-h "$host" -p "$REDIS_PORT")
    [[ -n "$REDIS_USER" ]] && args+=(--user "$REDIS_USER")
    if [[ -n "$REDIS_PASSWORD" ]]; then
      reply="$(REDISCLI_AUTH="$REDIS_PASSWORD" timeout 5 redis-cli "${args[@]}" ping 2>/dev/null || true)"
    else
      reply="$(env -u REDISCLI_AUTH timeout 5 redis-cli "${args[@]}" ping 2>/dev/null || true)"
    fi
    [[ "$reply" == PONG ]]
    return
  fi
  # Fallback without redis-cli: RESP over bash's /dev/tcp.
  local host="$REDIS_HOST"
  [[ "$host" == localhost ]] && host=127.0.0.1
  host="${host#[}"
  host="${host%]}"
  reply="$(
    timeout 5 bash -c '
      exec 3<>"/dev/tcp/$1/$2" || exit 1
      if [[ -n "$4" ]]; then
        printf "*3\r\n\$4\r\nAUTH\r\n\$%d\r\n%s\r\n\$%d\r\n%s\r\n" "${#4}" "$4" "${#3}" "$3" >&3
        IFS= read -r -t 3 line <&3 || exit 1
      elif [[ -n "$3" ]]; then
        printf "*2\r\n\$4\r\nAUTH\r\n\$%d\r\n%s\r\n" "${#3}" "$3" >&3
        IFS= read -r -t 3 line <&3 || exit 1
      fi
      printf "*1\r\n\$4\r\nPING\r\n" >&3
      IFS= read -r -t 3 line <&3 || exit 1
      printf "%s" "$line"
    ' _ "$host" "$REDIS_PORT" "$REDIS_PASSWORD" "$REDIS_USER" 2>/dev/null || true
  )"
  [[ "${reply%$'\r'}" == "+PONG" ]]
}

# True if $1 is a live redis-server process (of the port we manage).
is_our_redis_pid() {
  local pid="$1"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  local cmd
  cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
  [[ "$cmd" == *redis-server* && "$cmd" == *":$REDIS_PORT"* ]]
}

managed_pid() {
  [[ -s "$REDIS_PIDFILE" ]] || return 0
  local pid
  pid="$(tr -dc '0-9' <"$REDIS_PIDFILE")"
  if is_our_redis_pid "$pid"; then printf '%s' "$pid"; fi
}

ensure_server_binary() {
  command -v redis-server >/dev/null 2>&1 && return 0
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "redis-server is missing; installing it with apt-get"
    local out
    out="$(mktemp)"
    if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; } >"$out" 2>&1; then
      tail -n 20 "$out" | sed 's/^/[redis]   | /' >&2
      rm -f "$out"
      die "apt-get install redis-server failed" "Install Redis 7 yourself, or set REDIS_URL to a running Redis."
    fi
    rm -f "$out"
  else
    die "redis-server is not installed" \
      "Install it (sudo apt-get update && sudo apt-get install -y redis-server)," \
      "or point REDIS_URL at a running Redis."
  fi
}

cmd_ensure() {
  if ping_ok; then
    local pid
    pid="$(managed_pid)"
    if [[ -n "$pid" ]]; then
      log "Redis at $REDIS_URL answers PONG (started by this script, pid $pid)"
    else
      log "Redis at $REDIS_URL answers PONG; reusing it"
    fi
    return 0
  fi
  is_local_host || die "Redis at $REDIS_URL does not answer, and it is not on this machine" \
    "Start it there, or unset REDIS_URL to use a local one on 127.0.0.1:6379."
  if (exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT") 2>/dev/null; then
    die "port $REDIS_PORT is taken by something that does not answer PING as Redis at $REDIS_URL" \
      "If it is a Redis with a password, put it in REDIS_URL (redis://:password@127.0.0.1:$REDIS_PORT);" \
      "otherwise free the port or use another one, e.g. REDIS_URL=redis://127.0.0.1:6380."
  fi
  ensure_server_binary
  mkdir -p "$REDIS_DIR"
  rm -f "$REDIS_PIDFILE"
  log "starting redis-server on 127.0.0.1:$REDIS_PORT (no persistence, log $REDIS_LOG)"
  local args=(--daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no
    --dir "$REDIS_DIR" --logfile "$REDIS_LOG" --pidfile "$REDIS_PIDFILE")
  [[ -n "$REDIS_PASSWORD" ]] && args+=(--requirepass "$REDIS_PASSWORD")
  if ! redis-server "${args[@]}" >&2; then
    [[ -s "$REDIS_LOG" ]] && tail -n 20 "$REDIS_LOG" | sed 's/^/[redis]   | /' >&2
    die "redis-server failed to start" "See $REDIS_LOG."
  fi
  local start now
  start="$(date +%s)"
  until ping_ok; do
    now="$(date +%s)"
    if ((now - start >= REDIS_WAIT_SECONDS)); then
      [[ -s "$REDIS_LOG" ]] && tail -n 20 "$REDIS_LOG" | sed 's/^/[redis]   | /' >&2
      die "Redis on 127.0.0.1:$REDIS_PORT did not answer PONG within ${REDIS_WAIT_SECONDS}s" \
        "Read $REDIS_LOG, then run 'scripts/redis.sh stop' and 'scripts/redis.sh ensure' again."
    fi
    sleep 0.2
  done
  log "Redis ready at $REDIS_URL (pid $(managed_pid))"
}

cmd_status() {
  local pid ok=1
  pid="$(managed_pid)"
  ping_ok || ok=0
  if ((ok)); then
    echo "redis: answering PONG at $REDIS_URL"
  else
    echo "redis: NOT answering at $REDIS_URL"
  fi
  if [[ -n "$pid" ]]; then
    echo "managed: yes, started by scripts/redis.sh (pid $pid, pidfile $REDIS_PIDFILE, log $REDIS_LOG)"
  else
    echo "managed: no (scripts/redis.sh stop will not touch it)"
  fi
  ((ok))
}

cmd_stop() {
  local pid
  pid="$(managed_pid)"
  if [[ -z "$pid" ]]; then
    rm -f "$REDIS_PIDFILE"
    if ping_ok; then
      log "not stopping Redis at $REDIS_URL: this script did not start it"
    else
      log "no Redis started by this script is running"
    fi
    return 0
  fi
  log "stopping redis-server (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    is_our_redis_pid "$pid" || break
    sleep 0.1
  done
  if is_our_redis_pid "$pid"; then
    log "still running after 10s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  is_our_redis_pid "$pid" && die "could not stop redis-server (pid $pid)"
  rm -f "$REDIS_PIDFILE"
  log "stopped"
}

case "${1:-}" in
  ensure) cmd_ensure ;;
  status) cmd_status ;;
  stop) cmd_stop ;;
  *)
    echo "usage: scripts/redis.sh <ensure|status|stop>   (REDIS_URL=$REDIS_URL)" >&2
    exit 2
    ;;
esac
