#!/usr/bin/env bash
# Size of the world, upstreams: one cluster of N upstreams (one nginx worker listening on N ports),
# every upstream health-checked every INTERVAL, first idle and then under load.
#
#   loadtests/world/world-health.sh [jar=proxy/target/bulwark.jar] [seconds=20] [n=1000] [interval=1s]
#
# Prints, for the idle phase: the proxy's CPU as a share of one core, its CPU per health check
# (CPU time / checks nginx logged in the window), how many checks each upstream got (min and max
# per upstream: every upstream must be checked every interval), the connections those checks used,
# time from start to ready and RSS (the idle window starts after WORLD_WARMUP=60 s). Then, under wrk -c32 load over the same cluster: req/s and
# proxy CPU us/request. Proxy pinned to core 1 and nginx + wrk to core 0 when there are two cores.
# Needs nginx, wrk, python3. Ports FIRST..FIRST+n-1 (WORLD_PORT_BASE, default 20000).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
JAR=${1:-proxy/target/bulwark.jar}; SECS=${2:-20}; N=${3:-1000}; INTERVAL=${4:-1s}
FIRST=${WORLD_PORT_BASE:-20000}; BW=$((FIRST - 100)); BWA=$((FIRST - 99))
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.3; rm -rf "$WORK"' EXIT
PIN_PROXY=(); PIN_LOAD=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then PIN_PROXY=(taskset -c 1); PIN_LOAD=(taskset -c 0); fi
python3 "$HERE/gen-config.py" nginx-ports "$N" "$FIRST" "$WORK/nginx.pid" "$WORK/health.log" > "$WORK/nginx.conf"
python3 "$HERE/gen-config.py" upstreams "$N" "$FIRST" "$BW" "$BWA" "$INTERVAL" > "$WORK/bulwark.conf"
ulimit -n 65536 2>/dev/null || true
"${PIN_LOAD[@]}" nginx -c "$WORK/nginx.conf" &
sleep 0.5
hz=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
t_start=$(date +%s.%N)
"${PIN_PROXY[@]}" java -XX:+UseSerialGC -Xss512k -XX:ReservedCodeCacheSize=48m -XX:MaxMetaspaceSize=64m -Xmx64m \
  -Dbulwark.access.level=OFF -jar "$JAR" run --config "$WORK/bulwark.conf" >"$WORK/bulwark.log" 2>&1 &
PID=$!
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$BWA/ready" >/dev/null 2>&1 && break; sleep 0.05; done
t_ready=$(date +%s.%N)
rss() { awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$PID/status"; }
echo "ready after $(awk -v a="$t_start" -v b="$t_ready" 'BEGIN { printf "%.2f", b - a }') s, RSS $(rss) MiB"
sleep "${WORLD_WARMUP:-60}" # JIT warm-up and the first checks of every upstream: idle is a steady state
: > "$WORK/health.log.mark"; lines0=$(wc -l < "$WORK/health.log")
c0=$(ticks $PID); w0=$(date +%s.%N)
sleep "$SECS"
c1=$(ticks $PID); w1=$(date +%s.%N)
tail -n +"$((lines0 + 1))" "$WORK/health.log" > "$WORK/window.log"
checks=$(wc -l < "$WORK/window.log")
awk -v n="$N" -v secs="$SECS" -v dt=$((c1 - c0)) -v hz="$hz" -v wall="$(awk -v a="$w0" -v b="$w1" 'BEGIN { print b - a }')" \
    -v checks="$checks" '
  { per[$2]++; conn[$3] = 1 }
  END {
    min = -1; max = 0; seen = 0
    for (p in per) { seen++; if (min < 0 || per[p] < min) min = per[p]; if (per[p] > max) max = per[p] }
    if (seen < n) min = 0
    nconn = 0; for (c in conn) nconn++
    cpu = dt / hz
    printf "idle: %.1f%% of a core, %.1f us CPU per check, %d checks in %.1f s (%.0f/s)\n", cpu / wall * 100, cpu * 1e6 / (checks ? checks : 1), checks, wall, checks / wall
    printf "idle: checks per upstream min %d max %d over %d s (upstreams seen %d of %d), nginx connections used %d\n", min, max, secs, seen, n, nconn
  }' "$WORK/window.log"
echo "RSS after idle: $(rss) MiB"
for path in /api/v1/clusters /metrics; do # the admin API's listing of the big cluster, and the scrape
  for _ in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "http://127.0.0.1:$BWA$path"; done |
    sort -n | awk -v p="$path" 'NR == 3 { printf "admin %s: median %.1f ms of 5, %d KB\n", p, $1 * 1000, $2 / 1024 }'
done
"${PIN_LOAD[@]}" wrk -t1 -c32 -d5s "http://127.0.0.1:$BW/" >/dev/null
c0=$(ticks $PID)
out=$("${PIN_LOAD[@]}" wrk -t1 -c32 -d"${SECS}s" "http://127.0.0.1:$BW/")
c1=$(ticks $PID)
reqs=$(echo "$out" | awk '/requests in/ { print $1 }')
awk -v r="$reqs" -v s="$SECS" -v dt=$((c1 - c0)) -v hz="$hz" \
  'BEGIN { printf "load: %.0f req/s, %.1f us CPU/request (health checks included)\n", r / s, dt / hz * 1e6 / r }'
echo "RSS after load: $(rss) MiB"
kill $PID; wait $PID 2>/dev/null || true
