#!/usr/bin/env bash
# Soak/chaos scenario reproducing the reported cascade: three nginx upstreams behind Bulwark under
# steady wrk load while the operator reloads and drains, one upstream freezes and one dies.
#
#   loadtests/chaos/soak-cascade.sh [duration-seconds (100)] [bulwark.jar (proxy/target/bulwark.jar)]
#
# Timeline (fractions of the duration, shown for 100 s):
#   0..100 s  wrk -t2 -c32 keep-alive load on / (counts statuses and x-bulwark-error codes)
#   every 5 s config reload (same file rewritten, POST /api/v1/config/reload)
#   every 10 s drain of upstream 1 with ttl=4s (a 409 "last eligible" is recorded, never forced)
#   20..40 s  upstream 2 frozen (SIGSTOP master+worker, SIGCONT after)
#   60..80 s  upstream 3 killed (SIGKILL master+worker), restarted at 80 s
# The report (client-side statuses/error codes and when they happened, breaker transitions and
# panic episodes from the event log, RSS, WARN/ERROR count) is printed and written to
# $WORK/report.txt; the work dir (configs, logs, raw samples) is kept.
#
# Env overrides: DURATION, JAR, SOAK_PORT_BASE (19100: upstreams +1..+3, proxy +10, admin +11),
# UP1_PORT UP2_PORT UP3_PORT PROXY_PORT ADMIN_PORT, RELOAD_EVERY (5), DRAIN_EVERY (10),
# DRAIN_TTL (4s), WRK_THREADS (2), WRK_CONNS (32), SOAK_WORK (mktemp -d).
# Needs: java 17, nginx, wrk, curl, python3 (nginx and wrk are apt-installed here if missing).
# Everything listens on 127.0.0.1 only; every process started here is stopped on exit.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DURATION=${1:-${DURATION:-100}}
JAR=${2:-${JAR:-$ROOT/proxy/target/bulwark.jar}}
BASE=${SOAK_PORT_BASE:-19100}
UP_PORT=(0 "${UP1_PORT:-$((BASE + 1))}" "${UP2_PORT:-$((BASE + 2))}" "${UP3_PORT:-$((BASE + 3))}")
PROXY_PORT=${PROXY_PORT:-$((BASE + 10))}
ADMIN_PORT=${ADMIN_PORT:-$((BASE + 11))}
RELOAD_EVERY=${RELOAD_EVERY:-5}
DRAIN_EVERY=${DRAIN_EVERY:-10}
DRAIN_TTL=${DRAIN_TTL:-4s}
WRK_THREADS=${WRK_THREADS:-2}
WRK_CONNS=${WRK_CONNS:-32}
FREEZE_AT=$((DURATION * 20 / 100)); THAW_AT=$((DURATION * 40 / 100))
KILL_AT=$((DURATION * 60 / 100)); RESTART_AT=$((DURATION * 80 / 100))
ADMIN="http://127.0.0.1:$ADMIN_PORT"

[[ "$DURATION" =~ ^[0-9]+$ ]] && [ "$DURATION" -ge 10 ] || { echo "duration: whole seconds >= 10, got '$DURATION'" >&2; exit 2; }
[ -f "$JAR" ] || { echo "no jar at $JAR; build first: mvn -B -ntp -q -DskipTests package" >&2; exit 2; }
if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null; then
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light wrk >/dev/null
fi
for tool in java nginx wrk curl python3; do
  command -v $tool >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done
for p in "${UP_PORT[@]:1}" "$PROXY_PORT" "$ADMIN_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    echo "port $p is in use; pick another block with SOAK_PORT_BASE" >&2; exit 2
  fi
done

WORK=${SOAK_WORK:-$(mktemp -d /tmp/bulwark-soak.XXXXXX)}
mkdir -p "$WORK"
echo "work dir: $WORK"

UP_PID=(0 0 0 0); BPID=""; WPID=""; SAMPLER=""
procs_of() { # an nginx master and its workers
  [ "${1:-0}" -gt 0 ] && kill -0 "$1" 2>/dev/null || return 0
  echo "$1" $(pgrep -P "$1" || true)
}
cleanup() {
  set +e
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
  [ -n "$WPID" ] && kill "$WPID" 2>/dev/null
  if [ -n "$BPID" ] && kill -0 "$BPID" 2>/dev/null; then
    kill -TERM "$BPID"
    for _ in $(seq 50); do kill -0 "$BPID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$BPID" 2>/dev/null
  fi
  for i in 1 2 3; do
    local pids; pids=$(procs_of "${UP_PID[$i]}")
    [ -n "$pids" ] && { kill -CONT $pids; kill -KILL $pids; } 2>/dev/null
  done
  wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_us() { echo "${EPOCHREALTIME/./}"; }
log_action() { echo "$(( ($(now_us) - START_US) / 1000 )) $*" >> "$WORK/actions.log"; }

# --- upstreams: one nginx master with one worker each, so each can be stopped/killed alone ---
for i in 1 2 3; do
  d="$WORK/up$i"; mkdir -p "$d"
  body="up$i $(printf 'x%.0s' $(seq 123))"  # 128 bytes with the newline
  cat > "$d/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $d/body; proxy_temp_path $d/proxy; fastcgi_temp_path $d/fastcgi;
  uwsgi_temp_path $d/uwsgi; scgi_temp_path $d/scgi;
  keepalive_requests 1000000;
  keepalive_timeout 75s;
  default_type text/plain;
  server {
    listen 127.0.0.1:${UP_PORT[$i]};
    location /health { return 200 "ok"; }
    location / { return 200 "$body\n"; }
  }
}
CONF
done
start_upstream() {
  nginx -e "$WORK/up$1/error.log" -p "$WORK/up$1/" -c "$WORK/up$1/nginx.conf" >>"$WORK/up$1/stdout.log" 2>&1 &
  UP_PID[$1]=$!
  disown "$!"  # no "Killed" job notices: the kills are the point
}
for i in 1 2 3; do start_upstream $i; done
for i in 1 2 3; do
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:${UP_PORT[$i]}/health" >/dev/null && break; sleep 0.1; done
  curl -sf "http://127.0.0.1:${UP_PORT[$i]}/health" >/dev/null || { echo "upstream $i did not start" >&2; exit 1; }
done

# --- Bulwark: exactly the reported cluster/route config, defaults for everything else ---
write_config() {
  cat > "$WORK/bulwark.conf.tmp" <<CONF
bulwark {
  listener { host = "127.0.0.1", port = $PROXY_PORT }
  admin { port = $ADMIN_PORT }
  clusters.app {
    endpoints = [ "127.0.0.1:${UP_PORT[1]}", "127.0.0.1:${UP_PORT[2]}", "127.0.0.1:${UP_PORT[3]}" ]
    connect-timeout = 500ms
    health-check { path = "/health", interval = 500ms, timeout = 400ms, unhealthy-threshold = 2, healthy-threshold = 2 }
    outlier-detection { max-ejection-percent = 50 }
  }
  routes = [ { name = app, match { path-prefix = "/" }, cluster = app,
               retry { max-retries = 2, per-try-timeout = 500ms, retry-on = [connect-failure, reset, timeout, gateway-error] } } ]
}
CONF
  mv "$WORK/bulwark.conf.tmp" "$WORK/bulwark.conf"
}
write_config
java -Xmx64m -XX:+UseSerialGC -Dbulwark.access.level=OFF -jar "$JAR" run --config "$WORK/bulwark.conf" \
  >"$WORK/bulwark.log" 2>&1 &
BPID=$!
disown "$BPID"
for _ in $(seq 300); do curl -sf "$ADMIN/ready" >/dev/null && break; sleep 0.1; done
curl -sf "$ADMIN/ready" >/dev/null || { echo "bulwark did not get ready; see $WORK/bulwark.log" >&2; tail -5 "$WORK/bulwark.log" >&2; exit 1; }
for _ in $(seq 100); do  # all three health-checked healthy before the clock starts
  [ "$(curl -s "$ADMIN/api/v1/clusters/app" | grep -o '"health":"healthy"' | wc -l)" -eq 3 ] && break; sleep 0.1
done

# --- run ---
START_US=$(now_us)
cat > "$WORK/meta.json" <<META
{"start_us": $START_US, "duration": $DURATION, "jar": "$JAR",
 "revision": "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo -dirty)",
 "ports": {"up1": ${UP_PORT[1]}, "up2": ${UP_PORT[2]}, "up3": ${UP_PORT[3]}, "proxy": $PROXY_PORT, "admin": $ADMIN_PORT},
 "wrk": "-t$WRK_THREADS -c$WRK_CONNS", "reload_every": $RELOAD_EVERY, "drain_every": $DRAIN_EVERY, "drain_ttl": "$DRAIN_TTL",
 "freeze": [$FREEZE_AT, $THAW_AT], "kill": [$KILL_AT, $RESTART_AT]}
META
: > "$WORK/actions.log"
wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d"${DURATION}s" --timeout 5s --latency -s "$HERE/soak-counts.lua" \
  "http://127.0.0.1:$PROXY_PORT/" >"$WORK/wrk.out" 2>&1 &
WPID=$!
( while kill -0 "$BPID" 2>/dev/null; do
    echo "$(( ($(now_us) - START_US) / 1000 )) $(awk '/^VmRSS/ {print $2}' "/proc/$BPID/status" 2>/dev/null)"
    sleep 1
  done ) > "$WORK/rss.tsv" &
SAMPLER=$!

poll_events() { curl -s --max-time 5 "$ADMIN/api/v1/events?limit=10000" > "$WORK/events-$1.json" || true; }
reload() {
  write_config
  local code; code=$(curl -s --max-time 5 -o "$WORK/reload.body" -w '%{http_code}' -X POST "$ADMIN/api/v1/config/reload" || true)
  log_action reload "$code" "$(tr -d '\n' < "$WORK/reload.body" | cut -c1-200)"
}
drain() {
  local code body="$WORK/drain-$1.body"
  code=$(curl -s --max-time 5 -o "$body" -w '%{http_code}' -X POST \
    "$ADMIN/api/v1/clusters/app/upstreams/127.0.0.1:${UP_PORT[1]}/drain?ttl=$DRAIN_TTL" || true)
  log_action drain "$code" "$(tr -d '\n' < "$body" | cut -c1-200)"
}

for t in $(seq 1 $((DURATION - 1))); do
  wait_us=$(( START_US + t * 1000000 - $(now_us) ))
  [ "$wait_us" -gt 0 ] && sleep "$(printf '%d.%06d' $((wait_us / 1000000)) $((wait_us % 1000000)))"
  if [ "$t" -eq "$FREEZE_AT" ]; then
    pids=$(procs_of "${UP_PID[2]}"); kill -STOP $pids || true; log_action freeze up2 "$pids"
  fi
  if [ "$t" -eq "$THAW_AT" ]; then
    pids=$(procs_of "${UP_PID[2]}"); kill -CONT $pids || true; log_action thaw up2 "$pids"
  fi
  if [ "$t" -eq "$KILL_AT" ]; then
    pids=$(procs_of "${UP_PID[3]}"); kill -KILL $pids || true
    UP_PID[3]=0; log_action kill up3 "$pids"
  fi
  if [ "$t" -eq "$RESTART_AT" ]; then start_upstream 3; log_action restart up3 "${UP_PID[3]}"; fi
  if [ $((t % RELOAD_EVERY)) -eq 0 ]; then reload & fi
  if [ $((t % DRAIN_EVERY)) -eq 0 ]; then drain "$t" & fi
  if [ $((t % 5)) -eq 0 ]; then poll_events "$t" & fi
done

wait "$WPID" || true
WPID=""
poll_events final
curl -s --max-time 5 "$ADMIN/api/v1/clusters/app" > "$WORK/cluster-final.json" || true
cp "$WORK/bulwark.log" "$WORK/bulwark-at-end.log"  # before shutdown adds its own lines
python3 "$HERE/soak-report.py" "$WORK" | tee "$WORK/report.txt"
echo
echo "report: $WORK/report.txt"
