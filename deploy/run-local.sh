#!/usr/bin/env bash
# Several lesson instances behind HAProxy, sharing Redis, on this machine and without containers.
#
#   deploy/run-local.sh [N]          N app instances (default 2); Ctrl-C stops everything it started
#
# One class: every instance gets the same teacher token (kept in $STATE_DIR/teacher_token), so the teacher address
# it prints works whichever instance the proxy picks. A service that ends is started again (Redis after a pause,
# so its outage is real; the instances grade from memory meanwhile and write back); nothing else is stopped for it.
#
# One public address for everything: http://$BIND:$PUBLIC_PORT/ (pages, socket.io, and each instance's echo
# server under /echo-server/). Settings (environment): PUBLIC_PORT (8080), BIND (127.0.0.1; 0.0.0.0 for a class
# on the network), REDIS_PORT (6390), FIRST_PAGE_PORT (8101), FIRST_ECHO_PORT (8201), STATE_DIR (./.deploy-local:
# Redis's append-only file, each instance's data directory, the shared storage secret, the proxy's config),
# TLS_PEM (certificate + key in one PEM file: the proxy serves https:// and wss://), LESSON (the console script).
# Needs: redis-server and haproxy (Debian: apt-get install redis-server haproxy), and this package installed.
set -euo pipefail

N=${1:-${INSTANCES:-2}}
PUBLIC_PORT=${PUBLIC_PORT:-8080}
BIND=${BIND:-127.0.0.1}
REDIS_PORT=${REDIS_PORT:-6390}
FIRST_PAGE_PORT=${FIRST_PAGE_PORT:-8101}
FIRST_ECHO_PORT=${FIRST_ECHO_PORT:-8201}
STATE_DIR=${STATE_DIR:-$PWD/.deploy-local}
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
if [ -z "${LESSON:-}" ]; then
  if [ -x "$REPO/.venv/bin/websocket-lesson" ]; then LESSON="$REPO/.venv/bin/websocket-lesson"; else LESSON=websocket-lesson; fi
fi
PYTHON=$(dirname "$(command -v "$LESSON")")/python
[ -x "$PYTHON" ] || PYTHON=python3

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "run-local: $1 is missing; install it: sudo apt-get install -y $2" >&2; exit 1; }
}
need redis-server redis-server
need redis-cli redis-server
need haproxy haproxy
command -v "$LESSON" >/dev/null 2>&1 || { echo "run-local: $LESSON not found: pip install -e . (or set LESSON)" >&2; exit 1; }
[[ "$N" =~ ^[1-9][0-9]*$ ]] || { echo "run-local: N must be a whole number >= 1, not '$N'" >&2; exit 2; }

# Logs and state are the teacher's alone: the logs name learners' addresses, the state holds the storage secret, the
# teacher token and every learner's progress. Files from an earlier run (or made before this rule) are narrowed too.
umask 077
mkdir -p "$STATE_DIR"
chmod -R go-rwx "$STATE_DIR"
PIDS=()
HAPROXY_PID=
REDIS_PID=
stop_all() {
  trap - EXIT INT TERM
  # the proxy first (no new requests), then the instances (they close their sockets with 1001), Redis last
  for pid in $HAPROXY_PID "${PIDS[@]}" $REDIS_PID; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all EXIT INT TERM

# Redis: every write appended to its file, so a Redis restart loses no learner's attempt.
start_redis() {
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$STATE_DIR" --appendonly yes --appendfsync everysec \
    --save '' --logfile "$STATE_DIR/redis.log" &
  REDIS_PID=$!
}
start_redis
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis-cli -p "$REDIS_PORT" ping >/dev/null || { echo "run-local: redis-server did not start (see $STATE_DIR/redis.log)" >&2; exit 1; }

# One storage secret for all: a learner's cookie must be valid on whichever instance the proxy picks.
SECRET_FILE="$STATE_DIR/storage_secret"
[ -s "$SECRET_FILE" ] || (umask 077; "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(32))' > "$SECRET_FILE")
export WEBSOCKET_LESSON_STORAGE_SECRET=$(cat "$SECRET_FILE")
# One teacher token for all: the teacher address (or the cookie it is exchanged for) works on every instance.
TOKEN_FILE="$STATE_DIR/teacher_token"
[ -s "$TOKEN_FILE" ] || (umask 077; "$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(24))' > "$TOKEN_FILE")
export WEBSOCKET_LESSON_TEACHER_TOKEN=$(cat "$TOKEN_FILE")
export WEBSOCKET_LESSON_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export WEBSOCKET_LESSON_PUBLIC_ECHO_URL=/echo-server
export WEBSOCKET_LESSON_TRUSTED_PROXIES=127.0.0.1
# The echo servers believe the proxy's X-Forwarded-Host/-Proto (and only the proxy's): a page is allowed when it has
# exactly the public origin the browser used, whatever address the class typed. No origin needs listing by name.

INSTANCE_ARGS=()
for k in $(seq 1 "$N"); do
  page=$((FIRST_PAGE_PORT + k - 1)); echo_port=$((FIRST_ECHO_PORT + k - 1))
  "$LESSON" --host 127.0.0.1 --port "$page" --echo-port "$echo_port" --no-open --data-dir "$STATE_DIR/app$k" \
    >"$STATE_DIR/app$k.log" 2>&1 &
  PIDS=("$!" "${PIDS[@]}")
  INSTANCE_ARGS+=(--instance "app$k=127.0.0.1:$page:$echo_port")
done

"$PYTHON" -m lesson.web.deployment --bind "$BIND:$PUBLIC_PORT" "${INSTANCE_ARGS[@]}" \
  ${TLS_PEM:+--tls-pem "$TLS_PEM"} --stats "127.0.0.1:$((PUBLIC_PORT + 1000))" > "$STATE_DIR/haproxy.cfg"
haproxy -c -q -f "$STATE_DIR/haproxy.cfg"
for k in $(seq 1 "$N"); do
  page=$((FIRST_PAGE_PORT + k - 1))
  "$PYTHON" - "$page" <<'PY' || { echo "run-local: instance on port $page did not start (see $STATE_DIR)" >&2; exit 1; }
import sys, time, urllib.request
for _ in range(300):
    try:
        urllib.request.urlopen(f'http://127.0.0.1:{sys.argv[1]}/favicon.ico', timeout=2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
done
start_haproxy() {
  haproxy -db -f "$STATE_DIR/haproxy.cfg" >>"$STATE_DIR/haproxy.log" 2>&1 &
  HAPROXY_PID=$!
}
start_haproxy
# `&` returns before haproxy has even started, let alone bound its port: the address is printed once it accepts
# (a learner, or a script, may use it at once).
LOCAL_HOST=$BIND; [ "$BIND" = 0.0.0.0 ] && LOCAL_HOST=127.0.0.1
accepts() { (exec 3<>"/dev/tcp/$LOCAL_HOST/$PUBLIC_PORT") 2>/dev/null; }
deadline=$((SECONDS + 30))
until accepts; do
  if ! kill -0 "$HAPROXY_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
    echo "run-local: haproxy does not accept on $BIND:$PUBLIC_PORT (see $STATE_DIR/haproxy.log)" >&2; exit 1
  fi
  sleep 0.1
done

SCHEME=http; [ -n "${TLS_PEM:-}" ] && SCHEME=https
PUBLIC_HOST=$BIND; [ "$BIND" = 0.0.0.0 ] && PUBLIC_HOST=$(hostname -I 2>/dev/null | awk '{print $1}')
echo "run-local: $N instance(s) behind HAProxy: $SCHEME://$PUBLIC_HOST:$PUBLIC_PORT/ (proxy statistics: http://127.0.0.1:$((PUBLIC_PORT + 1000))/)"
echo "run-local: teacher: $SCHEME://$PUBLIC_HOST:$PUBLIC_PORT/teacher?token=$WEBSOCKET_LESSON_TEACHER_TOKEN (the same on every instance; keep it to yourself)"
echo "run-local: logs and state in $STATE_DIR; Ctrl-C stops everything"
# One service ending never stops the others: it is started again (or, after REDIS_TRIES quick deaths, left down).
REDIS_RESTART_S=${REDIS_RESTART_S:-5}
REDIS_TRIES=${REDIS_TRIES:-5}
redis_deaths=0
redis_started_at=$SECONDS
while true; do
  ended=
  wait -n -p ended || true
  case "${ended:-}" in
    "$HAPROXY_PID") echo "run-local: haproxy ended; starting it again" >&2; sleep 1; start_haproxy ;;
    "$REDIS_PID")
      REDIS_PID=
      if [ $((SECONDS - redis_started_at)) -lt 30 ]; then redis_deaths=$((redis_deaths + 1)); else redis_deaths=1; fi
      if [ "$redis_deaths" -gt "$REDIS_TRIES" ]; then
        echo "run-local: redis-server keeps ending (see $STATE_DIR/redis.log); leaving it down. The instances go on" \
          "serving and grading from memory and write back when a Redis answers on port $REDIS_PORT again" >&2
      else
        echo "run-local: redis-server ended; the instances serve and grade from memory and write back once it is up;" \
          "starting it again in ${REDIS_RESTART_S} s" >&2
        sleep "$REDIS_RESTART_S"
        start_redis
        redis_started_at=$SECONDS
      fi ;;
    "") exit 0 ;;
    # an instance that dies is taken out by the proxy's health checks; its learners go on on the others
    *) echo "run-local: app process $ended ended; the proxy sends its learners to the others" >&2 ;;
  esac
done
