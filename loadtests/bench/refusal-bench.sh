#!/usr/bin/env bash
# What refusing costs: CPU per request of each local reply Bulwark makes, against a proxied 200 and
# a 404 in the same run, on kept-alive connections; then a rate-limit flood beside proxied traffic.
# Not a test: read the ratios (a refusal against the 404), not the absolute figures.
#
#   loadtests/bench/refusal-bench.sh [jar=proxy/target/bulwark.jar] [seconds=6] [connections=32]
#
# Bulwark runs pinned to core 1 (one worker loop, sidecar JVM flags, access log off); wrk and an
# nginx upstream on core 0. Per scenario: wrk -t1 -cN on one path, the proxy's CPU time (utime +
# stime from /proc) divided by the responses, the req/s, how many connections wrk had to open
# (a refusal that closes the connection makes the client reconnect), and the statuses seen.
set -euo pipefail
cd "$(dirname "$0")/../.."
JAR=${1:-proxy/target/bulwark.jar}; SECS=${2:-6}; CONNS=${3:-32}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.3; rm -rf "$WORK"' EXIT
UP=18520; BW=18720; BWA=18721; DEAD=18529; HOLE=18528
PIN_PROXY=(); PIN_LOAD=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then PIN_PROXY=(taskset -c 1); PIN_LOAD=(taskset -c 0); fi
cat > "$WORK/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/nginx.pid; error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$UP;
    location / { return 200 "hello from nginx, a small body of about a hundred bytes for the benchmark\n"; } } }
CONF
cat > "$WORK/bulwark.conf" <<CONF
bulwark {
  listener { host = "127.0.0.1", port = $BW }
  admin { port = $BWA }
  clusters {
    app { endpoints = [ "127.0.0.1:$UP" ] }
    dead { endpoints = [ "127.0.0.1:$DEAD" ], outlier-detection { consecutive-gateway-failure = 1000000 }
           circuit-breaker { minimum-calls = 1, sliding-window-size = 1, wait-in-open = 1h } }
    busy { endpoints = [ "127.0.0.1:$HOLE" ], limits { max-concurrent-requests = 1, max-pending-requests = 1 } }
    gone { endpoints = [ "127.0.0.1:$UP" ], panic-threshold = 0 }
  }
  routes = [
    { name = ok, match { path-prefix = "/ok" }, cluster = app }
    { name = limited, match { path-prefix = "/limited" }, cluster = app, rate-limit { requests-per-second = 1, burst = 1 } }
    { name = open, match { path-prefix = "/open" }, cluster = dead, retry { max-retries = 0 } }
    { name = busy, match { path-prefix = "/busy" }, cluster = busy, timeout = 1h, retry { max-retries = 0 } }
    { name = fault, match { path-prefix = "/fault" }, cluster = app, fault { abort { percent = 100, status = 503 } } }
    { name = gone, match { path-prefix = "/gone" }, cluster = gone }
  ]
}
CONF
"${PIN_LOAD[@]}" nginx -c "$WORK/nginx.conf" &
# A black hole for the busy cluster: accepts connections and never answers, so one request holds its one slot.
"${PIN_LOAD[@]}" python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $HOLE)); s.listen(64)
held = []
while True:
    c, _ = s.accept(); held.append(c)
" &
"${PIN_PROXY[@]}" java -XX:+UseSerialGC -Xss512k -XX:ReservedCodeCacheSize=48m -XX:MaxMetaspaceSize=64m -Xmx64m \
  -Dbulwark.workers=1 -Dbulwark.access.level=OFF -jar "$JAR" run --config "$WORK/bulwark.conf" >"$WORK/bulwark.log" 2>&1 &
PID=$!
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$BWA/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$BWA/ready" >/dev/null 2>&1 || { echo "bulwark did not start:" >&2; cat "$WORK/bulwark.log" >&2; exit 1; }
# Set the stage: the dead cluster's breaker open, the busy cluster's one slot held, the gone cluster drained.
curl -s -o /dev/null "http://127.0.0.1:$BW/open/first" || true
curl -s -o /dev/null --max-time 3600 "http://127.0.0.1:$BW/busy/hold" &
curl -s -o /dev/null -X POST "http://127.0.0.1:$BWA/api/v1/clusters/gone/upstreams/127.0.0.1:$UP/drain?force=true" || true
sleep 1

cat > "$WORK/count.lua" <<'LUA'
local counts = {}
response = function(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end
done = function(summary, latency, requests)
  io.write(string.format("connects=%d p99_ms=%.2f\n", summary.errors.connect + 0, latency:percentile(99) / 1000))
end
LUA
ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
hz=$(getconf CLK_TCK)
conns_opened() { awk '/^Tcp:/ && ++n == 2 { print $6 }' /proc/net/snmp; } # passive opens, all sockets
scenario() { # name path
  "${PIN_LOAD[@]}" wrk -t1 -c"$CONNS" -d4s "http://127.0.0.1:$BW$2" >/dev/null 2>&1 # warm-up of this path
  local t0 c0; t0=$(ticks); c0=$(conns_opened)
  local out; out=$("${PIN_LOAD[@]}" wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "http://127.0.0.1:$BW$2" 2>&1)
  local t1 c1; t1=$(ticks); c1=$(conns_opened)
  local reqs; reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  local p99; p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  local code; code=$(curl -s -o /dev/null -D - "http://127.0.0.1:$BW$2" | awk 'NR == 1 {print $2} tolower($1) == "x-bulwark-error:" {print $2} tolower($1) == "connection:" {print "conn=" $2}' | tr -d '\r' | paste -sd' ')
  awk -v n="$1" -v r="$reqs" -v s="$SECS" -v dt=$((t1 - t0)) -v hz="$hz" -v opened=$((c1 - c0)) -v p="$p99" -v code="$code" \
    'BEGIN { printf "%-10s %-38s %9.0f req/s %7.1f us/req  p99 %-8s new connections (machine-wide) %d\n", n, code, r / s, dt / hz * 1e6 / r, p, opened }'
}
"${PIN_LOAD[@]}" wrk -t1 -c"$CONNS" -d15s "http://127.0.0.1:$BW/ok/warm" >/dev/null 2>&1 # JIT warm-up: its compile time is CPU too
echo "jar: $JAR   ($(date -u +%FT%TZ), wrk -t1 -c$CONNS ${SECS}s per scenario, proxy pinned: ${PIN_PROXY[*]:-no})"
scenario proxied /ok/x
scenario no_route /nothing-here
scenario rate_lim /limited/x
scenario circuit /open/x
scenario overload /busy/x
scenario fault /fault/x
scenario no_host /gone/x
echo "-- a 429 flood beside proxied traffic: p99 of /ok alone, then with wrk -c$CONNS flooding /limited"
alone=$("${PIN_LOAD[@]}" wrk -t1 -c8 -d"${SECS}s" --latency "http://127.0.0.1:$BW/ok/x" | awk '$1 == "99%" {print $2}')
"${PIN_LOAD[@]}" wrk -t1 -c"$CONNS" -d"$((SECS + 2))s" "http://127.0.0.1:$BW/limited/x" > "$WORK/flood.txt" 2>&1 &
FLOOD=$!
sleep 1
with=$("${PIN_LOAD[@]}" wrk -t1 -c8 -d"${SECS}s" --latency "http://127.0.0.1:$BW/ok/x" | awk '$1 == "99%" {print $2}')
wait $FLOOD || true
echo "p99 /ok alone: $alone   with the flood: $with   flood: $(awk '/Requests\/sec/ {print $2}' "$WORK/flood.txt") req/s refused"
