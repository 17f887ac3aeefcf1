#!/usr/bin/env bash
# Heap bytes allocated per proxied request (from the JVM's own counter, jvm_gc_memory_allocated_bytes),
# and optionally a JFR recording of where they are allocated. Unlike req/s or CPU time this figure
# hardly moves when the machine is busy, so it is how a hot-path change is judged on a shared box.
# Not a test.
#
#   loadtests/bench/alloc-per-request.sh JAR [seconds=10] [log=off|on] [jfr-file]
#
# One worker event loop, an nginx upstream, wrk -c32 keep-alive GETs; needs nginx, wrk, curl.
set -euo pipefail
JAR=${1:?jar}; SECS=${2:-10}; LOG=${3:-off}; JFR=${4:-}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; sleep 0.3; rm -rf "$WORK"' EXIT
UP=18520; BW=18720; BWA=18721
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
  access-log { enabled = $([ "$LOG" = on ] && echo true || echo false) }
  clusters { app { endpoints = [ "127.0.0.1:$UP" ] } }
  routes = [ { name = app, match { path-prefix = "/" }, cluster = app } ]
}
CONF
nginx -c "$WORK/nginx.conf" &
JFR_OPTS=()
java -XX:+UseSerialGC -Xmx64m -Dbulwark.workers=1 -jar "$JAR" run --config "$WORK/bulwark.conf" >"$WORK/bulwark.log" 2>&1 &
pid=$!
for _ in $(seq 200); do curl -sf "http://127.0.0.1:$BWA/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$BWA/ready" >/dev/null || { echo "Bulwark did not get ready:"; tail -20 "$WORK/bulwark.log"; exit 1; }
allocated() { curl -s "http://127.0.0.1:$BWA/metrics" | awk '/^jvm_gc_memory_allocated_bytes_total/ { print $2 }'; }
wrk -t1 -c32 -d5s "http://127.0.0.1:$BW/" >/dev/null
i0=$(allocated); sleep 5; i1=$(allocated) # what it allocates idle (timers, the metrics scrape) is taken off
[ -n "$JFR" ] && jcmd $pid JFR.start name=alloc settings=profile filename="$JFR" >/dev/null
a0=$(allocated)
out=$(wrk -t1 -c32 -d"${SECS}s" "http://127.0.0.1:$BW/")
a1=$(allocated)
[ -n "$JFR" ] && jcmd $pid JFR.stop name=alloc >/dev/null
reqs=$(echo "$out" | awk '/requests in/ {print $1}')
kill $pid; wait $pid 2>/dev/null || true
awk -v r="$reqs" -v a0="$a0" -v a1="$a1" -v i0="$i0" -v i1="$i1" -v s="$SECS" \
  'BEGIN { idle = (i1 - i0) / 5 * s; printf "%d requests (%.0f/s), %.0f bytes allocated per request (%.0f idle bytes/s taken off)\n", r, r / s, (a1 - a0 - idle) / r, (i1 - i0) / 5 }'
