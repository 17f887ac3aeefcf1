#!/usr/bin/env bash
# Size of the world, routes: the req/s and CPU per request of the FIRST and the LAST of 5,000
# prefix routes against a one-route config, interleaved in one run (read the ratios).
#
#   loadtests/world/world-routes.sh [jar=proxy/target/bulwark.jar] [rounds=3] [seconds=8] [routes=5000]
#
# Every request has a path of its own (paths.lua), so no per-path cache can be what is measured.
# Proxy pinned to core 1 with one worker event loop; nginx and wrk -c32 on core 0. Needs nginx, wrk, python3.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
JAR=${1:-proxy/target/bulwark.jar}; ROUNDS=${2:-3}; SECS=${3:-8}; N=${4:-5000}
UP=18530; BW=18730; BWA=18731
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.3; rm -rf "$WORK"' EXIT
PIN_PROXY=(); PIN_LOAD=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then PIN_PROXY=(taskset -c 1); PIN_LOAD=(taskset -c 0); fi
cat > "$WORK/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $WORK/nginx.pid; error_log $WORK/nginx-error.log;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000;
  server { listen 127.0.0.1:$UP; location / { return 200 "hello from nginx, a small body of about a hundred bytes for the benchmark\n"; } } }
CONF
last=$(printf '/svc-%05d/' $((N - 1)))
python3 "$HERE/gen-config.py" routes "$N" "$UP" "$BW" "$BWA" > "$WORK/many.conf"
cat > "$WORK/one.conf" <<CONF
bulwark {
  listener { host = "127.0.0.1", port = $BW }
  admin { port = $BWA }
  clusters { app { endpoints = [ "127.0.0.1:$UP" ] } }
  routes = [ { name = only, match { path-prefix = "$last" }, cluster = app } ]
}
CONF
"${PIN_LOAD[@]}" nginx -c "$WORK/nginx.conf" &
hz=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
measure() { # config prefix -> "req/s us/req"
  "${PIN_PROXY[@]}" java -XX:+UseSerialGC -Xss512k -XX:ReservedCodeCacheSize=48m -XX:MaxMetaspaceSize=64m -Xmx64m \
    -Dbulwark.workers=1 -Dbulwark.access.level=OFF -jar "$JAR" run --config "$1" >"$WORK/bulwark.log" 2>&1 &
  local pid=$!
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$BWA/ready" >/dev/null 2>&1 && break; sleep 0.1; done
  local code; code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$BW${2}probe")
  [ "$code" = 200 ] || { echo "route $2 answered $code" >&2; kill $pid; exit 1; }
  WORLD_PREFIX="$2" "${PIN_LOAD[@]}" wrk -t1 -c32 -d5s -s "$HERE/paths.lua" "http://127.0.0.1:$BW/" >/dev/null
  local t0; t0=$(ticks $pid)
  local out; out=$(WORLD_PREFIX="$2" "${PIN_LOAD[@]}" wrk -t1 -c32 -d"${SECS}s" -s "$HERE/paths.lua" "http://127.0.0.1:$BW/")
  local t1; t1=$(ticks $pid)
  kill $pid; wait $pid 2>/dev/null || true
  local reqs; reqs=$(echo "$out" | awk '/requests in/ { print $1 }')
  awk -v r="$reqs" -v s="$SECS" -v dt=$((t1 - t0)) -v hz="$hz" 'BEGIN { printf "%.0f %.1f\n", r / s, dt / hz * 1e6 / r }'
}
for round in $(seq "$ROUNDS"); do
  one=$(measure "$WORK/one.conf" "$last"); first=$(measure "$WORK/many.conf" /svc-00000/); lastr=$(measure "$WORK/many.conf" "$last")
  echo "round $round: one route $one   first of $N $first   last of $N $lastr   (req/s, CPU us/req)"
  echo "$one" >> "$WORK/one"; echo "$first" >> "$WORK/first"; echo "$lastr" >> "$WORK/last"
  paste -d' ' "$WORK/one" "$WORK/last" | tail -1 | awk '{ print $3 / $1 }' >> "$WORK/ratio"
done
med() { sort -n -k"$2" "$1" | awk -v k="$2" '{ v[NR] = $k } END { print v[int((NR + 1) / 2)] }'; }
echo "one route:      median $(med "$WORK/one" 1) req/s, $(med "$WORK/one" 2) us/req"
echo "first of $N: median $(med "$WORK/first" 1) req/s, $(med "$WORK/first" 2) us/req"
echo "last of $N:  median $(med "$WORK/last" 1) req/s, $(med "$WORK/last" 2) us/req"
echo "last/one req/s ratio, per round: $(tr '\n' ' ' < "$WORK/ratio") median $(med "$WORK/ratio" 1)"
echo "last/one ratio of the medians: req/s $(awk -v a="$(med "$WORK/last" 1)" -v b="$(med "$WORK/one" 1)" 'BEGIN { printf "%.2f", a / b }'),\
 CPU us/req $(awk -v a="$(med "$WORK/last" 2)" -v b="$(med "$WORK/one" 2)" 'BEGIN { printf "%.2f", a / b }')"
