#!/usr/bin/env bash
# CPU cost per proxied request of two Bulwark jars, interleaved in one run (e.g. before and after a
# change). Not a test: read the ratio of the two, not the absolute figures.
#
#   loadtests/bench/compare-jars.sh A.jar B.jar [rounds=3] [seconds=8] [connections=32]
#   LOG_A=on LOG_B=off loadtests/bench/compare-jars.sh same.jar same.jar   # the access log's cost
#
# Each jar runs alone, pinned to core 1 when taskset is there (wrk and an nginx upstream on core 0),
# one worker event loop, sidecar JVM flags, access log off (LOG_A/LOG_B=on: on, stdout to a file); after a JIT warm-up, wrk drives it and
# the proxy's CPU time (utime+stime from /proc) over the measured window is divided by the
# requests served. Needs nginx and wrk (Debian).
set -euo pipefail
A=${1:?jar A}; B=${2:?jar B}; ROUNDS=${3:-3}; SECS=${4:-8}; CONNS=${5:-32}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.3; rm -rf "$WORK"' EXIT
UP=18510; BW=18710; BWA=18711
PIN_PROXY=(); PIN_LOAD=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then PIN_PROXY=(taskset -c 1); PIN_LOAD=(taskset -c 0); fi
cat > "$WORK/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/nginx.pid; error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$UP; location / { return 200 "hello from nginx, a small body of about a hundred bytes for the benchmark\n"; } } }
CONF
cat > "$WORK/bulwark.conf" <<CONF
bulwark {
  listener { host = "127.0.0.1", port = $BW }
  admin { port = $BWA }
  clusters { app { endpoints = [ "127.0.0.1:$UP" ] } }
  routes = [ { name = app, match { path-prefix = "/" }, cluster = app } ]
}
CONF
"${PIN_LOAD[@]}" nginx -c "$WORK/nginx.conf" &
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
measure() { # jar log(on|off) -> "req/s us/req"
  local level=OFF; [ "${2:-off}" = on ] && level=INFO
  "${PIN_PROXY[@]}" java -XX:+UseSerialGC -Xss512k -XX:ReservedCodeCacheSize=48m -XX:MaxMetaspaceSize=64m -Xmx64m \
    -Dbulwark.workers=1 -Dbulwark.access.level=$level -jar "$1" run --config "$WORK/bulwark.conf" >"$WORK/bulwark.log" 2>&1 &
  local pid=$!
  for _ in $(seq 200); do curl -sf "http://127.0.0.1:$BWA/ready" >/dev/null 2>&1 && break; sleep 0.1; done
  "${PIN_LOAD[@]}" wrk -t1 -c"$CONNS" -d5s "http://127.0.0.1:$BW/" >/dev/null
  local t0; t0=$(ticks $pid)
  local out; out=$("${PIN_LOAD[@]}" wrk -t1 -c"$CONNS" -d"${SECS}s" "http://127.0.0.1:$BW/")
  local t1; t1=$(ticks $pid)
  kill $pid; wait $pid 2>/dev/null || true
  [ "$level" = INFO ] && echo "access log: $(grep -c '"request_id"' "$WORK/bulwark.log") lines" >&2
  local reqs; reqs=$(echo "$out" | awk '/requests in/ {print $1}')
  awk -v r="$reqs" -v s="$SECS" -v dt=$((t1 - t0)) -v hz="$hz" 'BEGIN { printf "%.0f %.1f\n", r / s, dt / hz * 1e6 / r }'
}
for round in $(seq "$ROUNDS"); do
  a=$(measure "$A" "${LOG_A:-off}"); b=$(measure "$B" "${LOG_B:-off}")
  echo "round $round: A $a   B $b   (req/s, CPU us/req)"
  echo "$a" >> "$WORK/a"; echo "$b" >> "$WORK/b"
done
med() { sort -n -k"$2" "$1" | awk -v k="$2" '{ v[NR] = $k } END { print v[int((NR + 1) / 2)] }'; }
echo "A $A: median $(med "$WORK/a" 1) req/s, $(med "$WORK/a" 2) us/req"
echo "B $B: median $(med "$WORK/b" 1) req/s, $(med "$WORK/b" 2) us/req"
